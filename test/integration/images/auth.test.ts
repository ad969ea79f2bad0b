// Registry authentication and TLS as users meet them: credentials from
// ~/.docker/config.json (DOCKER_CONFIG here), `gantry login`/`logout`, Bearer
// tokens from a token server, and a private CA in certs.d.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('registry auth and TLS', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;

  async function dockerConfigDir(): Promise<string> {
    return makeTempDir('dcfg', cleanup);
  }

  const envWith = (configDir: string) => ({ ...process.env, DOCKER_CONFIG: configDir });

  before(async () => {
    daemon = await startDaemon(cleanup);
  });

  describe('Basic auth (htpasswd)', () => {
    let registry: Registry;
    before(async () => {
      registry = await startRegistry({ auth: 'htpasswd', cleanup });
      await pushBusybox(registry, 'private/app:1', { format: 'v2s2' });
    });

    it('refuses an anonymous pull with a clear error', async () => {
      const result = await daemon.cli(['pull', `${registry.host}/private/app:1`], { env: envWith(await dockerConfigDir()) });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /unauthorized|authentication required|credentials/i);
      assert.doesNotMatch(result.stderr, /cannot connect to gantryd/);
    });

    it('pulls with credentials from a config.json the user wrote', async () => {
      const dir = await dockerConfigDir();
      const { username, password } = registry.creds!;
      const auth = Buffer.from(`${username}:${password}`).toString('base64');
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
      const result = await daemon.cli(['pull', '-q', `${registry.host}/private/app:1`], { env: envWith(dir) });
      assert.equal(result.code, 0, result.stderr);
    });

    it('login checks the password, stores credentials; logout removes them', async () => {
      const dir = await dockerConfigDir();
      const env = envWith(dir);
      const wrong = await daemon.cli(['login', '-u', registry.creds!.username, '--password-stdin', registry.host], {
        env,
        input: 'not-the-password\n',
      });
      assert.equal(wrong.code, 1);
      assert.ok(!fs.existsSync(path.join(dir, 'config.json')), 'nothing stored for a refused login');
      const login = await daemon.cli(['login', '-u', registry.creds!.username, '--password-stdin', registry.host], {
        env,
        input: `${registry.creds!.password}\n`,
      });
      assert.equal(login.code, 0, login.stderr);
      assert.match(login.stdout, /Login Succeeded/);
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      assert.equal(
        Buffer.from(config.auths[registry.host].auth, 'base64').toString(),
        `${registry.creds!.username}:${registry.creds!.password}`,
      );
      assert.equal(fs.statSync(path.join(dir, 'config.json')).mode & 0o777, 0o600);
      assert.equal((await daemon.cli(['pull', '-q', `${registry.host}/private/app:1`], { env })).code, 0);
      const logout = await daemon.cli(['logout', registry.host], { env });
      assert.equal(logout.code, 0, logout.stderr);
      const after = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      assert.equal(after.auths?.[registry.host], undefined);
    });
  });

  describe('Bearer tokens (token server)', () => {
    let registry: Registry;
    before(async () => {
      registry = await startRegistry({ auth: 'token', cleanup });
      await pushBusybox(registry, 'tokened/app:1', { format: 'oci' });
    });

    it('pulls with a token obtained with the stored credentials', async () => {
      const dir = await dockerConfigDir();
      const env = envWith(dir);
      const { username, password } = registry.creds!;
      const login = await daemon.cli(['login', '-u', username, '--password-stdin', registry.host], { env, input: password });
      assert.equal(login.code, 0, login.stderr);
      const before = registry.tokenServer!.requests.length;
      const pull = await daemon.cli(['pull', '-q', `${registry.host}/tokened/app:1`], { env });
      assert.equal(pull.code, 0, pull.stderr);
      const asked = registry.tokenServer!.requests.slice(before);
      assert.ok(asked.length >= 1, 'a token was requested');
      assert.ok(JSON.stringify(asked).includes('repository:tokened/app:pull'), `scope requested: ${JSON.stringify(asked)}`);
    });

    it('refuses without credentials', async () => {
      const pull = await daemon.cli(['pull', `${registry.host}/tokened/app:1`], { env: envWith(await dockerConfigDir()) });
      assert.equal(pull.code, 1);
      assert.match(pull.stderr, /unauthorized|authentication|denied|credentials/i);
    });
  });

  describe('TLS with a private CA', () => {
    let registry: Registry;
    before(async () => {
      registry = await startRegistry({ tls: true, cleanup });
      await pushBusybox(registry, 'secure/app:1', { format: 'oci' });
    });

    it('pulls when certs.d holds the CA for host:port', async () => {
      const certsDir = await makeTempDir('certsd', cleanup);
      fs.mkdirSync(path.join(certsDir, registry.host));
      fs.copyFileSync(registry.caPath!, path.join(certsDir, registry.host, 'ca.crt'));
      const trusting = await startDaemon(cleanup, ['--certs-dir', certsDir]);
      const pull = await trusting.cli(['pull', '-q', `${registry.host}/secure/app:1`]);
      assert.equal(pull.code, 0, pull.stderr);
    });

    it('refuses an untrusted certificate with a message that points at certs.d', async () => {
      const certsDir = await makeTempDir('certsd-empty', cleanup);
      const untrusting = await startDaemon(cleanup, ['--certs-dir', certsDir]);
      const pull = await untrusting.cli(['pull', `${registry.host}/secure/app:1`]);
      assert.equal(pull.code, 1);
      assert.match(pull.stderr, /certs\.d|certificate/i);
    });
  });
});
