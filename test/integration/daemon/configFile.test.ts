// gantryd.toml as a user meets it (docs/configuration.md): `gantry daemon
// --config FILE` from dist/gantry.js, --print-config, a refused file, and a
// daemon whose Docker Hub mirror comes from the file only.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runGantry, startDaemon } from '../../helpers/daemon';
import { startFaultProxy } from '../../helpers/faultProxy';
import { pushBusybox } from '../../helpers/fixtures';
import { startRegistry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('gantryd configuration file (gantryd.toml)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();

  const writeConfig = async (text: string) => {
    const dir = await makeTempDir('gcfg', cleanup);
    const file = path.join(dir, 'gantryd.toml');
    fs.writeFileSync(file, text);
    return file;
  };

  it('--print-config shows the file under the flags, as TOML that reads back the same', async () => {
    const file = await writeConfig(
      'max_concurrent_downloads = 5\nbridge = "br-file"\nregistry_mirrors = ["https://m.example"]\ncri = false\n',
    );
    const printed = await runGantry(['daemon', '--config', file, '--bridge', 'br-flag', '--print-config']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^max_concurrent_downloads = 5$/m);
    assert.match(printed.stdout, /^bridge = "br-flag"$/m, 'the flag wins');
    assert.match(printed.stdout, /^registry_mirrors = \[ "https:\/\/m\.example" \]$/m);
    assert.match(printed.stdout, /^cri = false$/m);
    assert.match(printed.stdout, /^registry_config_dir = "\/.+\/certs\.d"$/m);
    const again = await runGantry(['daemon', '--config', await writeConfig(printed.stdout), '--print-config']);
    assert.equal(again.code, 0, again.stderr);
    const body = (s: string) =>
      s
        .split('\n')
        .filter((l) => !l.startsWith('# gantryd'))
        .join('\n');
    assert.equal(body(again.stdout), body(printed.stdout));
  });

  it('refuses to start on a malformed file, naming the file, the line and the reason', async () => {
    const typo = await writeConfig('root = "/tmp/x"\nregistry_mirror = ["https://m"]\n');
    const started = await runGantry(['daemon', '--config', typo]);
    assert.notEqual(started.code, 0);
    assert.match(
      started.stderr,
      new RegExp(`${typo.replace(/[.]/g, '\\.')}:2: unknown key "registry_mirror" \\(did you mean "registry_mirrors"\\?\\)`),
    );
    const syntax = await runGantry(['daemon', '--config', await writeConfig('cri = tru\n')]);
    assert.notEqual(syntax.code, 0);
    assert.match(syntax.stderr, /gantryd\.toml:1:\d+: /);
    const missing = await runGantry(['daemon', '--config', '/nonexistent/gantryd.toml']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot read the configuration file \/nonexistent\/gantryd\.toml/);
  });

  it('serves docker.io names from registry_mirrors written in the file', async () => {
    const registry = await startRegistry({ cleanup });
    await pushBusybox(registry, 'library/busybox:1.36', { format: 'oci' });
    const mirror = await startFaultProxy(registry.port);
    cleanup.defer(() => mirror.close());
    const emptyDir = await makeTempDir('certsd', cleanup);
    const file = await writeConfig(`registry_mirrors = ["http://${mirror.host}"]\nregistry_config_dir = "${emptyDir}"\n`);
    const daemon = await startDaemon(cleanup, ['--config', file]);
    const pulled = await daemon.cli(['pull', 'busybox:1.36']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok(mirror.requests.some((r) => r.path.startsWith('/v2/library/busybox/manifests/1.36?ns=docker.io')));
    const inspect = await daemon.cli(['image', 'inspect', 'busybox:1.36', '--format', '{{json .RepoTags}}']);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal(inspect.stdout.trim(), '["busybox:1.36"]');
  });
});
