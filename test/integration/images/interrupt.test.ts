// Pulls that are interrupted half-way: the connection cut mid-blob, the
// registry killed and restarted, gantryd killed, two pulls of one image at
// once, the CLI interrupted with ^C. A real registry behind the fault proxy
// (test/helpers/faultProxy.ts), a real gantryd, the real CLI.
//
// The image has one ~6 MB layer that gzip cannot shrink (base64 of random
// bytes), so faults land well inside it.
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GANTRY_JS, startDaemon, type TestDaemon } from '../../helpers/daemon';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../../helpers/faultProxy';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { startProcess, type Proc } from '../../helpers/proc';
import { startRegistry, type Registry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';

const MiB = 1024 * 1024;

/** Every file under the store's blobs/ whose bytes do not hash to its name (same check as failures.test.ts). */
function corruptBlobs(root: string): string[] {
  const blobs = path.join(root, 'content', 'blobs');
  const bad: string[] = [];
  for (const alg of fs.existsSync(blobs) ? fs.readdirSync(blobs) : []) {
    for (const name of fs.readdirSync(path.join(blobs, alg))) {
      const actual = createHash(alg)
        .update(fs.readFileSync(path.join(blobs, alg, name)))
        .digest('hex');
      if (actual !== name) bad.push(`${alg}/${name}: bytes hash to ${actual}`);
    }
  }
  return bad;
}

function hasBlob(daemon: TestDaemon, digest: string): boolean {
  const [alg, hex] = digest.split(':');
  return fs.existsSync(path.join(daemon.root, 'content', 'blobs', alg, hex));
}

/** Bytes in the store's partial ingests (content/ingest/<id>/data). */
function ingestBytes(daemon: TestDaemon): number {
  const dir = path.join(daemon.root, 'content', 'ingest');
  let total = 0;
  for (const id of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const data = path.join(dir, id, 'data');
    if (fs.existsSync(data)) total += fs.statSync(data).size;
  }
  return total;
}

/** Resolves once the daemon has written `bytes` into partial ingests (what the proxy let through). */
async function ingested(daemon: TestDaemon, bytes: number): Promise<void> {
  await daemon.process.waitFor(() => ingestBytes(daemon) >= bytes, { what: `${bytes} bytes in the partial ingest` });
}

/** The start offset of a `Range: bytes=N-` request, or 0 without one. */
function rangeStart(r: ProxiedRequest): number {
  const m = /^bytes=(\d+)-$/.exec(r.range ?? '');
  return m ? Number(m[1]) : 0;
}

describe('gantry pull: interruptions (real registry behind a fault proxy)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let registry: Registry;
  let proxy: FaultProxy;
  let image: PushedImage;
  let layer: string;
  let ref: string;

  before(async () => {
    registry = await startRegistry({ cleanup });
    proxy = await startFaultProxy(registry.port);
    cleanup.defer(() => proxy.close());
    image = await pushBusybox(registry, 'big/image:1', {
      format: 'oci',
      image: { marker: 'interrupt', files: { '/random.b64': randomBytes(4.5 * MiB).toString('base64') } },
    });
    [layer] = image.layerDigests;
    ref = `${proxy.host}/big/image:1`;
  });

  afterEach(() => proxy.release());

  /** Each test pulls into an empty store, so the layer is really downloaded. */
  async function freshDaemon(): Promise<TestDaemon> {
    return startDaemon(cleanup);
  }

  /** The layer's GETs seen from now on (call before the pull). */
  function layerGets(): () => ProxiedRequest[] {
    const from = proxy.requests.length;
    return () => proxy.blobGets(layer).filter((r) => proxy.requests.indexOf(r) >= from);
  }

  /** `gantry pull REF` as a running process. */
  function startPull(daemon: TestDaemon): Proc {
    return startProcess(process.execPath, [GANTRY_JS, '--socket', daemon.socket, 'pull', ref], { name: 'gantry pull' });
  }

  /** Both pulls exit 0, the layer was downloaded once, and the image is listed. */
  async function bothPulledWithOneDownload(daemon: TestDaemon, [first, second]: [Proc, Proc], gets: () => ProxiedRequest[]): Promise<void> {
    const [a, b] = await Promise.all([first.waitForExit(), second.waitForExit()]);
    assert.equal(a.code, 0, first.stderr);
    assert.equal(b.code, 0, second.stderr);
    assert.equal(gets().length, 1, `exactly one download of the layer: ${JSON.stringify(gets())}`);
    await expectPulled(daemon);
  }

  async function expectPulled(daemon: TestDaemon): Promise<void> {
    const list = await daemon.cli(['images', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(
      (JSON.parse(list.stdout) as { name: string }[]).some((i) => i.name === ref),
      `${ref} is listed`,
    );
    assert.equal(hasBlob(daemon, layer), true, 'the layer is stored');
    assert.deepEqual(corruptBlobs(daemon.root), [], 'every stored blob hashes to its name');
  }

  it('resumes with a Range request when the connection is cut mid-blob', async () => {
    const daemon = await freshDaemon();
    const gets = layerGets();
    proxy.cutBlobAfter(1 * MiB, { digest: layer, times: 2 }); // the first GET and the first resume

    const pull = await daemon.cli(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);

    // A reset can also swallow bytes that were already sent, so the resume
    // offsets are not exactly 1 MiB apart; but each GET after a cut resumes.
    const seen = gets();
    assert.ok(seen.length >= 3, `at least three GETs of the layer: ${JSON.stringify(seen)}`);
    assert.equal(seen[0].range, undefined, 'the first GET asks for everything');
    const starts = seen.slice(1).map(rangeStart);
    assert.ok(
      starts.every((n) => n > 0),
      `every later GET resumes with Range: bytes=N-, N > 0: ${JSON.stringify(seen)}`,
    );
    assert.deepEqual(
      [...starts].sort((x, y) => x - y),
      starts,
      'resumes never go backwards',
    );
    await expectPulled(daemon);
  });

  it('resumes after the registry is killed mid-blob and restarted', async () => {
    const daemon = await freshDaemon();
    const gets = layerGets();
    const paused = proxy.pauseBlobAfter(1 * MiB, { digest: layer });
    const pulling = daemon.cli(['pull', ref]);
    await paused;
    await ingested(daemon, 1 * MiB);
    registry.kill('SIGKILL');
    await registry.restart();
    // Lose what the dead registry had sent: the kernel may have buffered all
    // of the blob, and delivering it would leave nothing to resume.
    proxy.release({ reset: true });

    const pull = await pulling;
    assert.equal(pull.code, 0, pull.stderr);
    const seen = gets();
    assert.ok(seen.length >= 2, `the layer is fetched again after the restart: ${JSON.stringify(seen)}`);
    assert.equal(rangeStart(seen[seen.length - 1]), 1 * MiB, `and resumed where it broke off: ${JSON.stringify(seen)}`);
    await expectPulled(daemon);
  });

  it('keeps the store sound when gantryd is killed mid-blob, and resumes after a restart', async () => {
    const daemon = await freshDaemon();
    const paused = proxy.pauseBlobAfter(2 * MiB, { digest: layer });
    const pulling = daemon.cli(['pull', ref]);
    await paused;
    await ingested(daemon, 2 * MiB); // all the proxy let through is on disk
    await daemon.kill();
    proxy.release();
    const failed = await pulling;
    assert.notEqual(failed.code, 0, 'the CLI notices the daemon is gone');

    // Nothing half-done is visible: the layer is not a blob, every blob is sound,
    // and (after the restart) there is no image record.
    assert.equal(hasBlob(daemon, layer), false, 'the partial layer is not a blob');
    assert.deepEqual(corruptBlobs(daemon.root), []);
    await daemon.start();
    const list = await daemon.cli(['images', '--json']);
    assert.deepEqual(JSON.parse(list.stdout), [], 'no image record');

    const gets = layerGets();
    const pull = await daemon.cli(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    const seen = gets();
    assert.equal(seen.length, 1, `one GET of the layer after the restart: ${JSON.stringify(seen)}`);
    assert.equal(rangeStart(seen[0]), 2 * MiB, `the partial ingest is resumed, not restarted: ${JSON.stringify(seen[0])}`);
    await expectPulled(daemon);
  });

  it('shares one download between two concurrent pulls of the same image', async () => {
    const daemon = await freshDaemon();
    const gets = layerGets();
    const paused = proxy.pauseBlobAfter(1 * MiB, { digest: layer });
    const first = startPull(daemon);
    await paused;
    const second = startPull(daemon);
    // The second pull reports the layer as waiting for the first one's download.
    await second.waitFor((p) => p.stdout.includes(`${layer.slice(7, 19)}: Waiting`), { what: 'the second pull to wait for the layer' });
    proxy.release();

    await bothPulledWithOneDownload(daemon, [first, second], gets);
  });

  it('two pulls that store the same manifest at the same moment both succeed', async () => {
    const daemon = await freshDaemon();
    const gets = layerGets();
    // Hold both pulls' manifest GETs, then let them go together: both store
    // the manifest at once, then fetch the config and the layer at once.
    const paused = proxy.pauseBlobAfter(0, { digest: image.manifestDigest, times: 2 });
    const first = startPull(daemon);
    const second = startPull(daemon);
    await paused;
    proxy.release();

    await bothPulledWithOneDownload(daemon, [first, second], gets);
  });

  it('two pulls that reach the same blob at the same moment share one download', async () => {
    const daemon = await freshDaemon();
    const gets = layerGets();
    // The second pull joins the first one's config download; both go on to the layer together.
    const paused = proxy.pauseBlobAfter(0, { digest: image.configDigest });
    const first = startPull(daemon);
    await paused;
    const second = startPull(daemon);
    await second.waitFor((p) => p.stdout.includes(`${image.configDigest.slice(7, 19)}: Waiting`), {
      what: 'the second pull to wait for the config',
    });
    proxy.release();

    await bothPulledWithOneDownload(daemon, [first, second], gets);
  });

  it("a pull waiting on another pull's download carries on when that one is cancelled", async () => {
    const daemon = await freshDaemon();
    const gets = layerGets();
    const paused = proxy.pauseBlobAfter(1 * MiB, { digest: layer });
    const first = startPull(daemon);
    const [stalled] = await paused;
    await ingested(daemon, 1 * MiB);
    const second = startPull(daemon);
    await second.waitFor((p) => p.stdout.includes(`${layer.slice(7, 19)}: Waiting`), { what: 'the second pull to wait for the layer' });
    first.kill('SIGINT');
    assert.equal((await first.waitForExit()).code, 130, first.stderr);
    await proxy.clientClosed(stalled.conn);

    const b = await second.waitForExit();
    assert.equal(b.code, 0, second.stderr);
    const seen = gets();
    assert.equal(seen.length, 2, `the second pull fetches the layer itself: ${JSON.stringify(seen)}`);
    assert.equal(rangeStart(seen[1]), 1 * MiB, `from where the cancelled download stopped: ${JSON.stringify(seen)}`);
    await expectPulled(daemon);
  });

  it('exits 130 on ^C mid-pull, and a later pull completes', async () => {
    const daemon = await freshDaemon();
    const paused = proxy.pauseBlobAfter(1 * MiB, { digest: layer });
    const pull = startPull(daemon);
    const [stalled] = await paused;
    await ingested(daemon, 1 * MiB);
    pull.kill('SIGINT');
    const status = await pull.waitForExit();
    assert.equal(status.code, 130, `exit status ${JSON.stringify(status)}; stderr: ${pull.stderr}`);
    assert.match(pull.stderr, /pull cancelled/);
    // The daemon gives the download up too: it closes the stalled connection.
    await proxy.clientClosed(stalled.conn);
    assert.equal(hasBlob(daemon, layer), false);

    const gets = layerGets();
    const again = await daemon.cli(['pull', ref]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(gets().length, 1, `one GET of the layer: ${JSON.stringify(gets())}`);
    assert.equal(rangeStart(gets()[0]), 1 * MiB, `the cancelled pull's partial ingest is resumed: ${JSON.stringify(gets()[0])}`);
    await expectPulled(daemon);
  });
});
