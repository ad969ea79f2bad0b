// `gantry save` / `gantry load` with the tools people already use: skopeo
// reads what save writes (docker-archive: and oci-archive:), gantry loads
// and runs what skopeo writes, a save → load round trip into a fresh daemon
// runs, and a truncated archive, a tampered layer or a hostile entry name is
// refused with no image recorded.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { GANTRY_JS, startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { runCommand } from '../../helpers/proc';
import { startRegistry, type Registry } from '../../helpers/registry';
import { buildTar, zstd } from '../../helpers/tarBuilder';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('gantry save and load', function () {
  this.timeout(300_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;
  let fresh: TestDaemon;
  let registry: Registry;
  let fixture: PushedImage;
  let dir: string;
  const image = () => `${registry.host}/lib/busybox:1`;

  async function imageNames(d: TestDaemon): Promise<string[]> {
    const client = d.client();
    try {
      return (await client.images.list()).map((i) => i.name);
    } finally {
      client.close();
    }
  }

  async function runsFixture(d: TestDaemon, ref: string): Promise<void> {
    const run = await d.cli(['run', '--rm', '--network', 'none', ref, 'cat', '/etc/gantry-fixture']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'busybox-amd64');
  }

  before(async () => {
    [daemon, fresh, registry, dir] = await Promise.all([
      startDaemon(cleanup),
      startDaemon(cleanup),
      startRegistry({ cleanup }),
      makeTempDir('garc', cleanup),
    ]);
    fixture = await pushBusybox(registry, 'lib/busybox:1', { format: 'oci' });
    const pull = await daemon.cli(['pull', '-q', image()]);
    assert.equal(pull.code, 0, pull.stderr);
  });

  it('save (docker) is read by skopeo as docker-archive: and as oci-archive:', async () => {
    const file = path.join(dir, 'docker.tar');
    const save = await daemon.cli(['save', '-o', file, image()]);
    assert.equal(save.code, 0, save.stderr);
    const docker = JSON.parse((await runCommand('skopeo', ['inspect', `docker-archive:${file}`])).stdout) as {
      RepoTags?: string[];
      Layers: string[];
      Architecture: string;
    };
    assert.equal(docker.Layers.length, fixture.layerDigests.length);
    assert.equal(docker.Architecture, 'amd64');
    const oci = JSON.parse((await runCommand('skopeo', ['inspect', `oci-archive:${file}`])).stdout) as { Digest: string };
    assert.equal(oci.Digest, fixture.manifestDigest);
  });

  it('save --format oci is an OCI layout skopeo reads, with ref.name annotations', async () => {
    const file = path.join(dir, 'oci.tar');
    const save = await daemon.cli(['save', '--format', 'oci', '-o', file, image()]);
    assert.equal(save.code, 0, save.stderr);
    const oci = JSON.parse((await runCommand('skopeo', ['inspect', `oci-archive:${file}:1`])).stdout) as { Digest: string };
    assert.equal(oci.Digest, fixture.manifestDigest);
    const listing = (await runCommand('tar', ['-tf', file])).stdout.split('\n');
    assert.ok(listing.includes('oci-layout') && listing.includes('index.json'), listing.join(' '));
    assert.ok(!listing.includes('manifest.json'), 'an OCI archive has no docker manifest.json');
    const index = JSON.parse((await runCommand('tar', ['-xOf', file, 'index.json'])).stdout) as {
      manifests: { annotations: Record<string, string> }[];
    };
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], '1');
    assert.equal(index.manifests[0].annotations['io.containerd.image.name'], image());
  });

  it('save → load (stdin, gzip) into a fresh daemon, which runs the image', async () => {
    const file = path.join(dir, 'roundtrip.tar');
    assert.equal((await daemon.cli(['save', '-o', file, image()])).code, 0);
    const load = await fresh.cli(['load'], { input: zlib.gzipSync(fs.readFileSync(file)) });
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, new RegExp(`Loaded image: ${image().replace(/\./g, '\\.')}`));
    await runsFixture(fresh, image());
  });

  it('save to a pipe → load from a pipe (stdout and stdin), and a zstd archive', async () => {
    const other = await startDaemon(cleanup);
    const cli = (socket: string) => `${JSON.stringify(process.execPath)} ${JSON.stringify(GANTRY_JS)} --socket ${JSON.stringify(socket)}`;
    const piped = await runCommand('sh', ['-c', `${cli(daemon.socket)} save ${image()} | ${cli(other.socket)} load`]);
    assert.match(piped.stdout, /Loaded image: /);
    await runsFixture(other, image());

    const file = path.join(dir, 'zstd.tar');
    assert.equal((await daemon.cli(['save', '--format', 'oci', '-o', file, image()])).code, 0);
    const third = await startDaemon(cleanup);
    const load = await third.cli(['load', '--json'], { input: zstd(fs.readFileSync(file)) });
    assert.equal(load.code, 0, load.stderr);
    const loaded = JSON.parse(load.stdout) as { name: string; target: { digest: string } }[];
    assert.deepEqual(
      loaded.map((i) => [i.name, i.target.digest]),
      [[image(), fixture.manifestDigest]],
    );
  });

  it('saves several images into one archive and loads them all', async () => {
    const second = await pushBusybox(registry, 'lib/second:2', { format: 'v2s2', image: { marker: 'second-image' } });
    assert.equal((await daemon.cli(['pull', '-q', second.ref])).code, 0);
    const file = path.join(dir, 'several.tar');
    assert.equal((await daemon.cli(['save', '-o', file, image(), second.ref])).code, 0);
    const target = await startDaemon(cleanup);
    const load = await target.cli(['load', '-i', file]);
    assert.equal(load.code, 0, load.stderr);
    assert.deepEqual((await imageNames(target)).sort(), [image(), second.ref].sort());
    const run = await target.cli(['run', '--rm', '--network', 'none', second.ref, 'cat', '/etc/gantry-fixture']);
    assert.equal(run.stdout.trim(), 'second-image', run.stderr);
  });

  it('loads and runs what skopeo wrote as docker-archive: and as oci-archive:', async () => {
    const dockerFile = path.join(dir, 'skopeo-docker.tar');
    const ociFile = path.join(dir, 'skopeo-oci.tar');
    await runCommand('skopeo', ['copy', '--src-tls-verify=false', `docker://${image()}`, `docker-archive:${dockerFile}:made/docker:1`]);
    await runCommand('skopeo', ['copy', '--src-tls-verify=false', `docker://${image()}`, `oci-archive:${ociFile}:made/oci:1`]);
    const a = await fresh.cli(['load', '-i', dockerFile]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /Loaded image: made\/docker:1/);
    const b = await fresh.cli(['load', '-i', ociFile]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /Loaded image: made\/oci:1/);
    await runsFixture(fresh, 'made/docker:1');
    await runsFixture(fresh, 'made/oci:1');
  });

  describe('damaged archives change nothing', () => {
    let victim: TestDaemon;
    let saved: string;

    before(async () => {
      victim = await startDaemon(cleanup);
      saved = path.join(dir, 'good.tar');
      assert.equal((await daemon.cli(['save', '-o', saved, image()])).code, 0);
    });

    afterEach(async () => {
      assert.deepEqual(await imageNames(victim), [], 'no image record written');
    });

    it('refuses a truncated archive', async () => {
      const bytes = fs.readFileSync(saved);
      const file = path.join(dir, 'truncated.tar');
      fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2) + 100));
      const load = await victim.cli(['load', '-i', file]);
      assert.equal(load.code, 1);
      assert.match(load.stderr, /truncated|incomplete|lacks/);
    });

    it('refuses an archive whose layer was changed (digest mismatch)', async () => {
      const tree = await makeTempDir('gtamper', cleanup);
      await runCommand('tar', ['-xf', saved, '-C', tree]);
      const layer = path.join(tree, 'blobs', 'sha256', fixture.layerDigests[0].slice('sha256:'.length));
      const bytes = fs.readFileSync(layer);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      fs.writeFileSync(layer, bytes);
      const file = path.join(dir, 'tampered.tar');
      await runCommand('tar', ['-cf', file, '-C', tree, '.']);
      const load = await victim.cli(['load', '-i', file]);
      assert.equal(load.code, 1);
      assert.match(load.stderr, /does not match its digest/);
    });

    for (const name of ['../x', '/etc/gantry-evil', 'blobs/../../x']) {
      it(`refuses a hostile entry name ${JSON.stringify(name)}`, async () => {
        const archive = buildTar([{ name, content: 'evil' }]);
        const load = await victim.cli(['load'], { input: archive });
        assert.equal(load.code, 1);
        assert.match(load.stderr, /archive entry .*(absolute path|"\.\.")/);
        assert.ok(!fs.existsSync('/etc/gantry-evil'));
      });
    }
  });
});
