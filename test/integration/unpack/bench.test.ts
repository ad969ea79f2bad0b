// Micro-benchmark, not a test (tests never assert on wall time): applying a
// 25,000-entry, ~250 MB layer (gzip, and zstd) with TarApplier into a fresh
// plain directory, against GNU tar extracting the same file (`tar -xzf`,
// `tar --zstd -xf`: the floor). Skipped unless GANTRY_BENCH=1.
//
//   GANTRY_BENCH=1 [GANTRY_BENCH_RUNS=3] [GANTRY_BENCH_DIR=/var/tmp] \
//     npx mocha --timeout 0 out/test/integration/unpack/bench.test.js
//
// Every run gets a fresh target; old trees are moved aside and deleted only at
// the end (on this machine's ext4, creating files right after a large delete
// is several times slower), `sync` runs before each timed run, and tools
// alternate. Prints median/min per tool and the ratio gantry/tar.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { TarApplier } from '../../../runtime/unpack/applier';
import { bindMount, ctx } from '../../helpers/unpackFixtures';

const RUNS = Number(process.env.GANTRY_BENCH_RUNS ?? 3);

/** A deterministic tree: ~1,200 dirs, 23,700 log-uniform small files (64 B–48 KiB), 100 large ones, ~250 MB. */
function generate(root: string): void {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const words = Array.from({ length: 2000 }, (_, i) =>
    createHash('md5')
      .update(String(i))
      .digest('hex')
      .slice(0, 3 + (i % 9)),
  );
  const noise = createHash('sha512');
  const content = (n: number) => {
    const parts: Buffer[] = [];
    let len = 0;
    while (len < n) {
      const b =
        rnd() < 0.08
          ? noise.copy().update(String(len)).digest().subarray(0, 48)
          : Buffer.from(words[Math.floor(rnd() * words.length)] + ' ');
      parts.push(b);
      len += b.length;
    }
    return Buffer.concat(parts).subarray(0, n);
  };
  const dirs = [''];
  for (let i = 0; i < 1200; i++) {
    const d = path.join(dirs[Math.floor(rnd() * dirs.length)], `d${i}`);
    dirs.push(d);
    fs.mkdirSync(path.join(root, d), { recursive: true });
  }
  for (let i = 0; i < 23_700; i++) {
    const n = Math.floor(Math.exp(Math.log(64) + rnd() * (Math.log(49152) - Math.log(64))));
    const f = path.join(root, dirs[Math.floor(rnd() * dirs.length)], `f${i}.so`);
    fs.writeFileSync(f, content(n));
    if (i % 10 === 0) fs.chmodSync(f, 0o755);
  }
  for (let i = 0; i < 100; i++) {
    fs.writeFileSync(path.join(root, dirs[Math.floor(rnd() * dirs.length)], `big${i}`), content(400_000 + Math.floor(rnd() * 600_000)));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(process.env.GANTRY_BENCH === '1' ? describe : describe.skip)('unpack benchmark: TarApplier vs GNU tar', function () {
  this.timeout(0);
  let base: string;
  let layer: string;

  before(() => {
    base = fs.mkdtempSync(path.join(process.env.GANTRY_BENCH_DIR ?? '/var/tmp', 'gunpack-bench-'));
    layer = path.join(base, 'layer.tar');
    const src = path.join(base, 'src');
    fs.mkdirSync(src);
    generate(src);
    execFileSync('tar', ['-C', src, '-cf', layer, '.']);
    execFileSync('sh', ['-c', `gzip -6 -c '${layer}' > '${layer}.gz' && zstd -3 -q -c '${layer}' > '${layer}.zst'`]);
    fs.rmSync(src, { recursive: true });
  });

  after(() => {
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('prints median/min seconds per tool', async () => {
    const diffId = `sha256:${createHash('sha256').update(fs.readFileSync(layer)).digest('hex')}`;
    const times: Record<string, number[]> = {};
    let n = 0;
    const timed = async (name: string, fn: (dir: string) => Promise<void> | void) => {
      const dir = path.join(base, `run-${n++}`);
      fs.mkdirSync(dir);
      execFileSync('sync');
      const t0 = process.hrtime.bigint();
      await fn(dir);
      (times[name] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e9);
    };
    const gantry = (file: string, mediaType: string) => async (dir: string) => {
      await new TarApplier().apply(ctx, bindMount(dir), fs.createReadStream(file, { highWaterMark: 256 * 1024 }), { mediaType, diffId });
    };
    for (let run = 0; run < RUNS; run++) {
      await timed('tar -xzf', (dir) => void execFileSync('tar', ['-xzf', `${layer}.gz`, '-C', dir]));
      await timed('gantry gzip', gantry(`${layer}.gz`, 'application/vnd.oci.image.layer.v1.tar+gzip'));
      await timed('tar --zstd -xf', (dir) => void execFileSync('tar', ['--zstd', '-xf', `${layer}.zst`, '-C', dir]));
      await timed('gantry zstd', gantry(`${layer}.zst`, 'application/vnd.oci.image.layer.v1.tar+zstd'));
      await timed('tar -xf', (dir) => void execFileSync('tar', ['-xf', layer, '-C', dir]));
      await timed('gantry tar', gantry(layer, 'application/vnd.oci.image.layer.v1.tar'));
    }
    const row = (k: string) => `${k.padEnd(16)} median ${median(times[k]).toFixed(2)} s  min ${Math.min(...times[k]).toFixed(2)} s`;
    const ratio = (g: string, t: string) => `${g} / ${t}: ${(median(times[g]) / median(times[t])).toFixed(2)}`;
    console.log(
      `layer: ${(fs.statSync(layer).size / 1e6).toFixed(0)} MB tar, ${(fs.statSync(`${layer}.gz`).size / 1e6).toFixed(0)} MB gzip, ${RUNS} runs`,
    );
    for (const k of Object.keys(times)) console.log(row(k));
    console.log(ratio('gantry gzip', 'tar -xzf'));
    console.log(ratio('gantry zstd', 'tar --zstd -xf'));
    console.log(ratio('gantry tar', 'tar -xf'));
  });
});
