// The files service at scale and under attack, against real containers:
// a 10,000-entry directory lists; a 200 MB file streams through ReadFile
// and `gantry cp`, and a file over 1 GiB through `gantry cp` both ways,
// while gantryd's peak resident memory (VmHWM, reset before the work)
// grows by far less than the file; and a container swapping a directory
// and a link to `/` in a tight loop while 1,000 copies go in and out never
// gets one onto the host.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { FileType } from '../../../runtime/client/index';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { execStdout } from '../../helpers/containerExec';
import { gantryBytes, memoryOf, resetPeakMemory } from '../../helpers/gantryCp';
import { buildTar } from '../../helpers/tarBuilder';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { containerWorld, eventually, type ContainerWorld } from '../containers/harness';

const MiB = 1024 * 1024;

describe('files: scale (10,000 entries, 200 MB and 1 GiB files) and the cp race', function () {
  this.timeout(900_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
  });

  const running = async (cmd: string[] = ['sleep', '600']) => {
    const c = await world.client.containers.create('', { image: world.image, cmd, network: 'none' });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    await world.client.containers.start(c.id);
    return c.id;
  };

  /** Runs `work` and returns how far gantryd's peak resident memory rose above where it stood before (MiB). */
  const peakGrowth = async (work: () => Promise<void>): Promise<number> => {
    const pid = world.daemon.process.pid;
    resetPeakMemory(pid);
    const before = memoryOf(pid).rssKiB;
    await work();
    const grew = (memoryOf(pid).hwmKiB - before) / 1024;
    return grew;
  };

  it('lists a 10,000-entry directory, and copies it out', async () => {
    const c = await running();
    await execStdout(world.client, c, ['sh', '-c', 'mkdir /tmp/many && cd /tmp/many && seq 1 10000 | xargs touch']);
    let entries = 0;
    const grew = await peakGrowth(async () => {
      entries = (await world.client.files.readDirectory({ container: c }, '/tmp/many')).length;
    });
    assert.equal(entries, 10_000);
    // The provider's names-and-types listing: the types overlayfs's readdir gives.
    const typed = await world.client.files.readDirectoryTypes({ container: c }, '/tmp/many');
    assert.equal(typed.length, 10_000);
    assert.ok(typed.every((e) => e.type === FileType.FILE_TYPE_FILE));
    assert.deepEqual(new Set(typed.map((e) => e.name)), new Set(Array.from({ length: 10_000 }, (_, i) => String(i + 1))));
    assert.ok(grew < 64, `listing 10,000 entries raised gantryd's peak by ${grew.toFixed(1)} MiB`);
    const host = await makeTempDir('gantry-scale', cleanup);
    const r = await gantryBytes(world.daemon.socket, ['cp', `${c}:/tmp/many`, host]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readdirSync(path.join(host, 'many')).length, 10_000);
  });

  it("streams a 200 MB file through ReadFile and cp without gantryd's memory growing with it", async () => {
    const c = await running();
    await execStdout(world.client, c, ['sh', '-c', 'dd if=/dev/zero of=/tmp/big bs=1M count=200 2>/dev/null && printf END >> /tmp/big']);
    const size = 200 * MiB + 3;
    let read = 0;
    let tail = Buffer.alloc(0);
    const grewRead = await peakGrowth(async () => {
      for await (const chunk of world.client.files.read({ container: c }, '/tmp/big')) {
        read += chunk.data.length;
        tail = Buffer.concat([tail, Buffer.from(chunk.data)]).subarray(-3);
      }
    });
    assert.equal(read, size);
    assert.equal(tail.toString(), 'END');
    const host = await makeTempDir('gantry-scale', cleanup);
    const grewCp = await peakGrowth(async () => {
      const r = await gantryBytes(world.daemon.socket, ['cp', `${c}:/tmp/big`, path.join(host, 'big')]);
      assert.equal(r.code, 0, r.stderr);
    });
    assert.equal(fs.statSync(path.join(host, 'big')).size, size);
    for (const [what, grew] of [
      ['ReadFile', grewRead],
      ['cp', grewCp],
    ] as const) {
      assert.ok(grew < 64, `${what} of 200 MB raised gantryd's peak by ${grew.toFixed(1)} MiB`);
    }
  });

  it('copies a file over 1 GiB into a container and back, streamed: the daemon never holds it', async () => {
    const c = await running();
    const host = await makeTempDir('gantry-scale', cleanup);
    const src = path.join(host, 'sparse');
    const size = 1024 * MiB + 4096;
    // Sparse on the host (no disk for the zeros), with a marker at the end.
    const fd = fs.openSync(src, 'w');
    fs.writeSync(fd, Buffer.from('TAIL'), 0, 4, size - 4);
    fs.closeSync(fd);
    const grewIn = await peakGrowth(async () => {
      const r = await gantryBytes(world.daemon.socket, ['cp', src, `${c}:/tmp/`]);
      assert.equal(r.code, 0, r.stderr);
    });
    assert.equal(await execStdout(world.client, c, ['sh', '-c', 'stat -c %s /tmp/sparse; tail -c 4 /tmp/sparse']), `${size}\nTAIL`);
    fs.rmSync(src);
    const back = path.join(host, 'back');
    const grewOut = await peakGrowth(async () => {
      const r = await gantryBytes(world.daemon.socket, ['cp', `${c}:/tmp/sparse`, back]);
      assert.equal(r.code, 0, r.stderr);
    });
    assert.equal(fs.statSync(back).size, size);
    const end = Buffer.alloc(4);
    const bfd = fs.openSync(back, 'r');
    fs.readSync(bfd, end, 0, 4, size - 4);
    fs.closeSync(bfd);
    assert.equal(end.toString(), 'TAIL');
    fs.rmSync(back);
    await execStdout(world.client, c, ['rm', '/tmp/sparse']);
    for (const [what, grew] of [
      ['in', grewIn],
      ['out', grewOut],
    ] as const) {
      assert.ok(grew < 128, `cp ${what} of 1 GiB raised gantryd's peak by ${grew.toFixed(1)} MiB`);
    }
  });

  it('a container swapping a directory and a link to / in a tight loop: 1,000 copies in and out never touch the host', async () => {
    const canary = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-cp-canary-'));
    cleanup.defer(() => fs.rmSync(canary, { recursive: true, force: true }));
    fs.writeFileSync(path.join(canary, 'file'), 'host canary\n');
    // /r/<canary's host path> is a directory in the container; /r swaps
    // with a link to `/`, which followed from the host's side is the
    // host's root — and /r/<canary path> the canary itself.
    const script = `mkdir -p /r${canary} && echo inside > /r${canary}/file && while :; do mv /r /h; ln -s / /r; rm /r; mv /h /r; done`;
    const c = await running(['sh', '-c', script]);
    const target = { container: c };
    const dir = `/r${canary}`;
    await eventually('the swapping loop running', async () =>
      (await world.client.files.stat(target, `${dir}/file`).catch(() => undefined)) ? true : undefined,
    );
    const readOut = async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of world.client.files.getArchive(target, `${dir}/file`)) chunks.push(Buffer.from(chunk.data));
      const ex = tar.extract();
      Readable.from([Buffer.concat(chunks)]).pipe(ex);
      for await (const e of ex) {
        let text = '';
        for await (const d of e) text += (d as Buffer).toString();
        assert.match(text, /^(inside|w\d+)\n$/, 'never the host canary');
      }
    };
    const outcomes = { ok: 0, failed: 0 };
    for (let i = 0; i < 500; i++) {
      const archive = buildTar([{ name: 'file', content: `w${i}\n` }]);
      const results = await Promise.allSettled([readOut(), world.client.files.putArchive(target, dir, Readable.from([archive]))]);
      for (const r of results) {
        if (r.status === 'fulfilled') outcomes.ok++;
        else {
          assert.ok(['NotFound', 'FailedPrecondition', 'InvalidArgument'].includes(kindOf(r.reason)), String(r.reason));
          outcomes.failed++;
        }
      }
    }
    assert.equal(fs.readFileSync(path.join(canary, 'file'), 'utf8'), 'host canary\n');
    assert.deepEqual(fs.readdirSync(canary), ['file']);
    assert.ok(!fs.readdirSync('/').some((n) => n.startsWith('.gantry-cp-')), 'no staging directory on the host root');
    assert.ok(outcomes.ok > 0 && outcomes.failed > 0, `both states were met: ${JSON.stringify(outcomes)}`);
  });
});
