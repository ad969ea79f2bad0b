// `gantry push` against real registries: an image pulled from one registry
// pushed to another behind a token server (Bearer with push scope), read
// back by skopeo and by a fresh pull; a second push uploads nothing; a push
// to another repository of the same registry mounts instead of uploading; an
// upload cut mid-chunk by the fault proxy resumes; no credentials is a clear
// error naming the registry and the scope.
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { startFaultProxy, type FaultProxy } from '../../helpers/faultProxy';
import { pushBusybox, pushLayers, pushMultiArch, type PushedImage } from '../../helpers/fixtures';
import { runCommand } from '../../helpers/proc';
import { startRegistry, type Registry } from '../../helpers/registry';
import { layerOf, MEDIA } from '../../helpers/tarBuilder';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

async function skopeoDigest(ref: string, creds?: { username: string; password: string }): Promise<string> {
  const args = ['inspect', '--tls-verify=false', '--format', '{{.Digest}}'];
  if (creds) args.push('--creds', `${creds.username}:${creds.password}`);
  else args.push('--no-creds');
  args.push(`docker://${ref}`);
  return (await runCommand('skopeo', args)).stdout.trim();
}

describe('gantry push', function () {
  this.timeout(300_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;
  let source: Registry;
  let target: Registry;
  let fixture: PushedImage;
  let env: NodeJS.ProcessEnv;
  let anonymous: NodeJS.ProcessEnv;

  before(async () => {
    [daemon, source, target] = await Promise.all([
      startDaemon(cleanup),
      startRegistry({ cleanup }),
      startRegistry({ auth: 'token', cleanup }),
    ]);
    fixture = await pushBusybox(source, 'src/app:1', { format: 'oci' });
    const dir = await makeTempDir('dcfg', cleanup);
    const { username, password } = target.creds!;
    const auth = Buffer.from(`${username}:${password}`).toString('base64');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [target.host]: { auth } } }));
    env = { ...process.env, DOCKER_CONFIG: dir };
    anonymous = { ...process.env, DOCKER_CONFIG: await makeTempDir('dcfg', cleanup) };
    const pull = await daemon.cli(['pull', '-q', fixture.ref], { env });
    assert.equal(pull.code, 0, pull.stderr);
  });

  it('refuses a push without credentials, naming the registry and the scope', async () => {
    const ref = `${target.host}/team/denied:1`;
    assert.equal((await daemon.cli(['tag', fixture.ref, ref])).code, 0);
    const result = await daemon.cli(['push', ref], { env: anonymous });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, new RegExp(`push access denied to ${target.host.replace(/\./g, '\\.')}/team/denied`));
    assert.match(result.stderr, /scope repository:team\/denied:pull,push/);
  });

  it('pushes to another registry; skopeo and a fresh pull see the same digest', async () => {
    const ref = `${target.host}/team/app:1`;
    assert.equal((await daemon.cli(['tag', fixture.ref, ref])).code, 0);
    const result = await daemon.cli(['push', ref], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /The push refers to repository/);
    assert.match(result.stdout, /Pushed/);
    assert.match(result.stdout, new RegExp(`1: digest: ${fixture.manifestDigest} size: \\d+`));
    assert.equal(await skopeoDigest(ref, target.creds), fixture.manifestDigest);
    const events = await daemon.cli(['events', '--since', '0', '--no-follow', '--topic', '/images/push', '--json']);
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, new RegExp(`"digest":"${fixture.manifestDigest}"`));

    const fresh = await startDaemon(cleanup);
    const pull = await fresh.cli(['pull', '--json', ref], { env });
    assert.equal(pull.code, 0, pull.stderr);
    const image = JSON.parse(pull.stdout) as { target: { digest: string }; id: string };
    assert.equal(image.target.digest, fixture.manifestDigest);
    assert.equal(image.id, fixture.configDigest);
    await fresh.stop();
  });

  it('a second push uploads nothing: every layer already exists', async () => {
    const ref = `${target.host}/team/app:1`;
    const result = await daemon.cli(['push', ref], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Layer already exists/);
    assert.doesNotMatch(result.stdout, /Pushed|Pushing/);
  });

  it('mounts blobs from another repository of the same registry instead of uploading', async () => {
    const ref = `${target.host}/other/app:2`;
    assert.equal((await daemon.cli(['tag', fixture.ref, ref])).code, 0);
    const before = target.tokenServer!.requests.length;
    const result = await daemon.cli(['push', ref], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Mounted from team\/app/);
    assert.doesNotMatch(result.stdout, /: Pushed/);
    // The token asked for covers the mount's source repository too.
    const scopes = target.tokenServer!.requests.slice(before).flatMap((r) => r.scopes);
    assert.ok(scopes.includes('repository:team/app:pull'), scopes.join(' '));
    assert.equal(await skopeoDigest(ref, target.creds), fixture.manifestDigest);
  });

  it('--all-tags pushes every tag of the repository', async () => {
    for (const tag of ['a', 'b']) assert.equal((await daemon.cli(['tag', fixture.ref, `${target.host}/team/tags:${tag}`])).code, 0);
    const result = await daemon.cli(['push', '--all-tags', `${target.host}/team/tags`], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^a: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    assert.match(result.stdout, /^b: digest: sha256:[a-f0-9]{64} size: \d+$/m);
    for (const tag of ['a', 'b']) assert.equal(await skopeoDigest(`${target.host}/team/tags:${tag}`, target.creds), fixture.manifestDigest);
  });

  it('pushes a multi-platform image loaded whole as its index and every manifest', async () => {
    const multi = await pushMultiArch(source, 'src/multi:1', { format: 'oci' });
    const file = path.join(await makeTempDir('gmulti', cleanup), 'multi.tar');
    await runCommand('skopeo', ['copy', '--all', '--src-tls-verify=false', `docker://${multi.ref}`, `oci-archive:${file}:src/multi:1`]);
    const load = await daemon.cli(['load', '-i', file]);
    assert.equal(load.code, 0, load.stderr);
    const ref = `${target.host}/team/multi:1`;
    assert.equal((await daemon.cli(['tag', 'src/multi:1', ref])).code, 0);
    const result = await daemon.cli(['push', ref], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await skopeoDigest(ref, target.creds), multi.manifestDigest);
    for (const image of multi.images) {
      assert.equal(await skopeoDigest(`${target.host}/team/multi@${image.manifestDigest}`, target.creds), image.manifestDigest);
    }
  });

  describe('chunked upload', () => {
    let plain: Registry;
    let proxy: FaultProxy;
    let big: PushedImage;

    before(async () => {
      plain = await startRegistry({ cleanup });
      proxy = await startFaultProxy(plain.port);
      cleanup.defer(() => proxy.close());
      // 20 MiB of random bytes: over the 16 MiB sent in one PUT (so it goes in a streamed PATCH), and incompressible.
      const layer = layerOf([{ name: 'big.bin', content: crypto.randomBytes(20 * 1024 * 1024) }]);
      big = await pushLayers(plain, 'src/big:1', [{ blob: layer.tar, mediaType: MEDIA.tar, diffId: layer.diffId }]);
      const pull = await daemon.cli(['pull', '-q', big.ref], { timeout: 120_000 });
      assert.equal(pull.code, 0, pull.stderr);
    });

    it('carries on after an upload is cut mid-chunk: asks where it stands, then resumes (or restarts when the registry refuses the session)', async () => {
      const ref = `${proxy.host}/dst/big:1`;
      assert.equal((await daemon.cli(['tag', big.ref, ref])).code, 0);
      proxy.cutUploadAfter(3 * 1024 * 1024);
      const result = await daemon.cli(['push', ref], { timeout: 120_000 });
      assert.equal(result.code, 0, result.stderr);
      const uploads = proxy.requests.filter((r) => r.path.startsWith('/v2/dst/big/blobs/uploads/'));
      const patches = uploads.filter((r) => r.method === 'PATCH');
      // The cut PATCH, then at least one more carrying the rest.
      assert.ok(patches.length >= 2, `PATCHes sent: ${patches.length}`);
      const cut = uploads.findIndex((r) => r.method === 'PATCH');
      const log = uploads.map((r) => `${r.method} ${r.contentRange ?? ''}`).join('\n');
      // After the cut: the upload's status is asked for, then the upload goes on (distribution 2.8
      // refuses a session a cut request left behind, so it goes on in a new one).
      assert.ok(
        uploads.slice(cut).some((r) => r.method === 'GET'),
        `asked where the upload stands:\n${log}`,
      );
      assert.ok(uploads.filter((r) => r.method === 'PUT').length >= 1, log);
      assert.equal(await skopeoDigest(ref), big.manifestDigest);
    });
  });
});
