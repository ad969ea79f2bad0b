// The Registry API the Registries view stands on, against real registries:
// ListRegistries reads the daemon user's Docker config (DOCKER_CONFIG of the
// daemon's environment, as for a host over SSH it is the remote user's);
// ListRepositories pages the catalog (n= smaller than the number of
// repositories), and falls back to the local images' repositories when a
// registry refuses it; ListTags pages the tags; DeleteTag deletes where the
// registry allows it and says clearly where it does not (405); Logout
// removes the stored entry. Auth is the daemon's own credentials (token
// server: registry:catalog:* and repository:NAME:pull,delete scopes).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeClient } from '../../../runtime/client';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('registry browsing API (Registries view)', function () {
  this.timeout(300_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;
  let client: RuntimeClient;
  let plain: Registry;
  let noDelete: Registry;
  let token: Registry;
  let basic: Registry;
  let configFile: string;
  let first: PushedImage;

  before(async () => {
    [plain, noDelete, token, basic] = await Promise.all([
      startRegistry({ cleanup }),
      startRegistry({ deleteEnabled: false, cleanup }),
      startRegistry({ auth: 'token', cleanup }),
      startRegistry({ auth: 'htpasswd', cleanup }),
    ]);
    const dir = await makeTempDir('dcfg', cleanup);
    configFile = path.join(dir, 'config.json');
    const b64 = (c: { username: string; password: string }) => Buffer.from(`${c.username}:${c.password}`).toString('base64');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        auths: { [plain.host]: {}, [noDelete.host]: {}, [`https://${token.host}/v2/`]: { auth: b64(token.creds!) } },
        credHelpers: { 'ghcr.io': 'gantry-test-not-run' },
        otherKey: 'kept',
      }),
    );
    daemon = await startDaemon(cleanup, [], { env: { ...process.env, DOCKER_CONFIG: dir } });
    client = daemon.client();
    cleanup.defer(() => client.close());
    // Five repositories (the catalog is read two at a time), one of them with three tags.
    first = await pushBusybox(plain, 'team/app:1');
    for (const tag of ['2', '3']) await pushBusybox(plain, `team/app:${tag}`);
    for (const name of ['alpha/one', 'beta/two', 'gamma/three', 'delta/four']) await pushBusybox(plain, `${name}:v1`);
    await pushBusybox(noDelete, 'kept/app:1');
    await pushBusybox(token, 'secure/app:1');
  });

  it('lists the registries of the daemon user’s config, without secrets', async () => {
    const answer = await client.images.listRegistries();
    assert.equal(answer.configPath, configFile);
    const servers = answer.registries.map((r) => r.server);
    assert.deepEqual(servers, [plain.host, noDelete.host, token.host, 'ghcr.io'].sort());
    const secure = answer.registries.find((r) => r.server === token.host)!;
    assert.equal(secure.username, token.creds!.username);
    assert.equal(secure.configKey, `https://${token.host}/v2/`);
    assert.equal(answer.registries.find((r) => r.server === 'ghcr.io')!.helper, 'gantry-test-not-run');
    assert.ok(!JSON.stringify(answer).includes(token.creds!.password));
  });

  it('reads the whole catalog page by page', async () => {
    const answer = await client.images.listRepositories(plain.host, 2);
    assert.equal(answer.fromLocalImages, false);
    assert.deepEqual(answer.repositories, ['alpha/one', 'beta/two', 'delta/four', 'gamma/three', 'team/app']);
  });

  it('reads the catalog and tags behind a token server with the daemon user’s credentials', async () => {
    const answer = await client.images.listRepositories(token.host);
    assert.deepEqual(answer, { repositories: ['secure/app'], fromLocalImages: false, catalogError: '' });
    assert.deepEqual(await client.images.listTags(`${token.host}/secure/app`), ['1']);
  });

  it('lists tags page by page', async () => {
    assert.deepEqual((await client.images.listTags(`${plain.host}/team/app`, 1)).sort(), ['1', '2', '3']);
    await assert.rejects(client.images.listTags(`${plain.host}/no/such`), (e: Error) => kindOf(e) === 'NotFound');
  });

  it('falls back to the local images’ repositories when the catalog is refused', async () => {
    // Not logged in to the htpasswd registry: its catalog answers 401.
    const pulled = await daemon.cli(['pull', '-q', first.ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    for (const name of ['local/one:1', 'local/two:1', 'local/one:2']) {
      assert.equal((await daemon.cli(['tag', first.ref, `${basic.host}/${name}`])).code, 0);
    }
    const answer = await client.images.listRepositories(basic.host);
    assert.equal(answer.fromLocalImages, true);
    assert.deepEqual(answer.repositories, ['local/one', 'local/two']);
    assert.match(answer.catalogError, /authentication required|unauthorized/);
  });

  it('deletes a tag where the registry allows it', async () => {
    // team/app:3 has the same manifest as 1 and 2 (same fixture): a registry deletes manifests, so all go.
    const other = await pushBusybox(plain, 'solo/app:keep', { image: { marker: 'solo' } });
    await pushBusybox(plain, 'solo/app:drop');
    const digest = await client.images.deleteTag(`${plain.host}/solo/app:drop`);
    assert.notEqual(digest, other.manifestDigest);
    assert.deepEqual(await client.images.listTags(`${plain.host}/solo/app`), ['keep']);
    await assert.rejects(client.images.deleteTag(`${plain.host}/solo/app`), (e: Error) => kindOf(e) === 'InvalidArgument');
  });

  it('says clearly when the registry refuses deletes (405)', async () => {
    await assert.rejects(client.images.deleteTag(`${noDelete.host}/kept/app:1`), (e: Error) => {
      assert.equal(kindOf(e), 'Unimplemented', e.message);
      assert.match(e.message, new RegExp(`registry ${noDelete.host.replace(/\./g, '\\.')} does not allow deleting images`));
      assert.match(e.message, /REGISTRY_STORAGE_DELETE_ENABLED=true/);
      return true;
    });
    assert.deepEqual(await client.images.listTags(`${noDelete.host}/kept/app`), ['1']);
  });

  it('gantry registry ls|repos|tags print the same', async () => {
    const ls = await daemon.cli(['registry', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^REGISTRY\s+USERNAME\s+HELPER/);
    assert.match(ls.stdout, new RegExp(`${token.host.replace(/\./g, '\\.')}\\s+${token.creds!.username}`));
    const repos = await daemon.cli(['registry', 'repos', plain.host]);
    assert.equal(repos.code, 0, repos.stderr);
    assert.equal(repos.stdout, ['alpha/one', 'beta/two', 'delta/four', 'gamma/three', 'solo/app', 'team/app', ''].join('\n'));
    const local = await daemon.cli(['registry', 'repos', basic.host]);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stderr, /does not list its repositories/);
    assert.equal(local.stdout, 'local/one\nlocal/two\n');
    const tags = await daemon.cli(['registry', 'tags', '--json', `${plain.host}/team/app`]);
    assert.equal(tags.code, 0, tags.stderr);
    assert.deepEqual((JSON.parse(tags.stdout) as string[]).sort(), ['1', '2', '3']);
  });

  it('logs out: the entry goes, the rest of the file stays', async () => {
    assert.equal(await client.images.logout(token.host), true);
    assert.equal(await client.images.logout(token.host), false);
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    assert.equal(config.otherKey, 'kept');
    assert.deepEqual(Object.keys(config.auths).sort(), [plain.host, noDelete.host].sort());
    const servers = (await client.images.listRegistries()).registries.map((r) => r.server);
    assert.ok(!servers.includes(token.host));
  });
});
