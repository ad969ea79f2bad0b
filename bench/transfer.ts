// Image transfer benchmark (issue 16): push, save and load of the same images
// in one run, side by side with the tools people use,
//
//   push   gantry push          | ctr images push          | skopeo copy oci:DIR docker://  (to a loopback
//          registry started for each run, so every layer uploads)
//   save   gantry save -o FILE  | ctr images export FILE   | podman save -o FILE
//   load   gantry load -i FILE  | ctr images import FILE   | podman load -i FILE  (all read the same
//          archive, written once per image by `gantry save`; every tool unpacks what it loads)
//
// The production bundle is built into the work dir; every run gets a fresh
// daemon (gantryd, a containerd started here) or a fresh podman --root with
// the image already stored (not timed); tools rotate per iteration; the disk
// probe waits for file creation to settle before each iteration (harness.ts
// settleDisk). Goals: gantry ≤ 0.75 × containerd, and push ≤ 1.5 × skopeo.
// Usage and results: bench/README.md, docs/performance.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeClient } from '../runtime/client/client';
import { runCommand } from '../test/helpers/proc';
import { gantryApiPull, snapshotDist, startGantryd } from './lib/daemons';
import { prepareImage, type BenchImage, type ImageId } from './lib/fixtures';
import { checkInterrupted, openBenchSession, requireBinaries, runMain, settleDisk, type DiskState } from './lib/harness';
import { intOption, parseBenchOptions, rotation } from './lib/options';
import { fmtMB, fmtS, loadavg, machineInfo, stats, table, toolVersions, type Stats } from './lib/report';
import { paired } from './lib/rotatedRuns';
import { LABEL, OPS, prepareRun, TOOLS, TOOLS_OF, type Op, type Tool, type TransferContext } from './lib/transferTools';

const PUSH_GOAL_VS_SKOPEO = 1.5;
const GOAL_VS_CONTAINERD = 0.75;

function options() {
  const { opts, extra } = parseBenchOptions({
    name: 'transfer',
    defaultImages: ['big', 'bigfiles'],
    tools: TOOLS,
    defaultTools: [...TOOLS],
    extraUsage: `  --ops LIST          comma-separated, from ${OPS.join(',')} (default all)
  --settle SECONDS    before each iteration, wait for file creation to be equally fast in
                      fresh dirs, at most this long in all (default 600; 0: only record it)
`,
    extra: { ops: { type: 'string', default: OPS.join(',') }, settle: { type: 'string', default: '600' } },
  });
  const ops = String(extra.ops)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of ops) if (!OPS.includes(o as Op)) throw new Error(`--ops: unknown "${o}" (one of ${OPS.join(', ')})`);
  return { ...opts, ops: OPS.filter((o) => ops.includes(o)), settleMs: intOption('settle', String(extra.settle), 0) * 1000 };
}

interface Sample {
  image: ImageId;
  op: Op;
  tool: Tool;
  iteration: number;
  ms: number;
  loadavg1: number;
}

async function main(): Promise<void> {
  const opts = options();
  if (process.getuid?.() !== 0) throw new Error('run as root: the overlayfs snapshotters (gantryd, containerd, podman) need it');
  const needs = new Set(['docker-registry', 'skopeo', 'umoci']);
  if (opts.tools.includes('containerd')) ['containerd', 'ctr'].forEach((b) => needs.add(b));
  if (opts.tools.includes('podman')) needs.add('podman');
  requireBinaries([...needs]);

  const { workDir, work, log, loadAtStart, registry } = await openBenchSession('transfer', 'gxfer', opts);
  const profileDir = path.join(path.dirname(opts.out), 'profiles');
  const dist = await snapshotDist(opts.profile ? path.join(profileDir, 'transfer-dist') : path.join(work, 'dist'), opts.profile);
  log(`gantry: the ${opts.profile ? 'development' : 'production'} bundle, built ${dist.builtAt} into ${path.dirname(dist.gantryJs)}`);

  const images: { image: BenchImage; archive: string }[] = [];
  for (const id of opts.images) {
    checkInterrupted();
    const image = await prepareImage(id, registry, work);
    const archive = await saveArchive(work, dist.gantryJs, image);
    images.push({ image, archive });
    log(
      `image ${id}: ${image.ref} ${fmtMB(image.bytes)} in ${image.layers.length} layers (${image.prepared.source}); ` +
        `load archive ${fmtMB(fs.statSync(archive).size)} by gantry save`,
    );
  }

  const samples: Sample[] = [];
  const probes: (DiskState & { image: ImageId; iteration: number })[] = [];
  let waitedMs = 0;
  let seq = 0;
  for (const { image, archive } of images) {
    const ctx: TransferContext = { image, archive, gantryJs: dist.gantryJs, gantryd: { args: opts.gantrydArgs } };
    for (let it = -opts.warmup; it < opts.runs; it++) {
      const disk = await settleDisk(work, { maxWaitMs: Math.max(0, opts.settleMs - waitedMs), log });
      waitedMs += disk.waitedMs;
      probes.push({ image: image.id, iteration: it, ...disk });
      const line: string[] = [];
      for (const op of opts.ops) {
        const tools = TOOLS_OF[op].filter((t) => opts.tools.includes(t));
        for (const tool of rotation(tools, it)) {
          checkInterrupted();
          const label = `${image.id}-${it < 0 ? `w${-it}` : it}-${op}-${tool}-${seq++}`;
          const dir = path.join(work, label);
          await fs.promises.mkdir(dir);
          const profile = opts.profile && tool === 'gantry' ? { dir: profileDir, name: label } : undefined;
          const run = await prepareRun(op, tool, dir, { ...ctx, gantryd: { ...ctx.gantryd, profile } }, seq);
          let ms: number;
          try {
            await runCommand('sync', []); // no run pays for another's writeback
            ms = await run.run();
            await run.verify();
          } finally {
            await run.stop();
          }
          await workDir.retire(dir);
          if (it >= 0) samples.push({ image: image.id, op, tool, iteration: it, ms, loadavg1: loadavg()[0] });
          line.push(`${op} ${tool} ${fmtS(ms)}s`);
        }
      }
      log(
        `  ${image.id} ${it < 0 ? 'warm-up' : `run ${it + 1}/${opts.runs}`} (load ${loadavg()[0]}, disk ${disk.usPerFile.map((u) => u.toFixed(0)).join('/')} µs/file${disk.settled ? '' : ', NOT settled'}): ${line.join(', ')}`,
      );
    }
  }
  await report(opts, images, samples, probes, loadAtStart);
}

/** The archive every load reads: `gantry save` (docker format) from a gantryd that pulled the image. */
async function saveArchive(work: string, gantryJs: string, image: BenchImage): Promise<string> {
  const dir = path.join(work, `archive-${image.id}`);
  await fs.promises.mkdir(dir);
  const gantryd = await startGantryd(path.join(dir, 'gantryd'), { gantryJs });
  const client = RuntimeClient.forSocket(gantryd.socket);
  const file = path.join(dir, `${image.id}.tar`);
  try {
    await gantryApiPull(client, image.ref, image.layers.length);
    await runCommand(process.execPath, [gantryJs, '--socket', gantryd.socket, 'save', '-o', file, image.ref], { timeout: 600_000 });
  } finally {
    client.close();
    await gantryd.stop();
  }
  return file;
}

async function report(
  opts: ReturnType<typeof options>,
  images: { image: BenchImage; archive: string }[],
  samples: Sample[],
  probes: (DiskState & { image: ImageId; iteration: number })[],
  loadAtStart: number[],
): Promise<void> {
  const results: Record<string, Record<string, Record<string, Stats>>> = {};
  const ratios: Record<string, Record<string, Record<string, unknown>>> = {};
  const goals: { image: ImageId; op: Op; anchor: string; ratio: number; paired?: number; goal: number; met: boolean }[] = [];
  const rows = [
    ['image / op', 'tool', 'median s', 'min s', 'max s', 'spread', 'MB/s', '÷ containerd', '÷ skopeo', 'paired ÷ ctr (min–max)'],
  ];
  for (const { image } of images) {
    results[image.id] = {};
    ratios[image.id] = {};
    for (const op of opts.ops) {
      const res: Record<string, Stats> = (results[image.id][op] = {});
      const mine = samples.filter((s) => s.image === image.id && s.op === op);
      for (const tool of TOOLS_OF[op]) {
        const ms = mine.filter((s) => s.tool === tool).map((s) => s.ms);
        if (ms.length) res[tool] = stats(ms, image.bytes);
      }
      const iterations: Record<string, { ms: number }>[] = [];
      for (let it = 0; it < opts.runs; it++) {
        iterations.push(Object.fromEntries(mine.filter((s) => s.iteration === it).map((s) => [s.tool, { ms: s.ms }])));
      }
      let first = true;
      for (const [tool, st] of Object.entries(res)) {
        const vsCtr = res.containerd && tool !== 'containerd' ? st.medianMs / res.containerd.medianMs : undefined;
        const vsSkopeo = res.skopeo && tool !== 'skopeo' ? st.medianMs / res.skopeo.medianMs : undefined;
        const pair = tool !== 'containerd' ? paired(iterations, tool, 'containerd') : undefined;
        ratios[image.id][`${op}/${tool}`] = { containerd: vsCtr, skopeo: vsSkopeo, pairedContainerd: pair };
        rows.push([
          first ? `${image.id} ${op}` : '',
          LABEL[op][tool],
          fmtS(st.medianMs),
          fmtS(st.minMs),
          fmtS(st.maxMs),
          `${(((st.maxMs - st.minMs) / st.medianMs) * 100).toFixed(0)}%`,
          st.mbPerSec.toFixed(0),
          vsCtr?.toFixed(2) ?? '',
          vsSkopeo?.toFixed(2) ?? '',
          pair ? `${pair.median.toFixed(2)} (${pair.min.toFixed(2)}–${pair.max.toFixed(2)})` : '',
        ]);
        first = false;
      }
      const g = res.gantry;
      if (g && res.containerd) {
        const ratio = g.medianMs / res.containerd.medianMs;
        const pair = paired(iterations, 'gantry', 'containerd');
        goals.push({
          image: image.id,
          op,
          anchor: 'containerd',
          ratio,
          paired: pair?.median,
          goal: GOAL_VS_CONTAINERD,
          met: ratio <= GOAL_VS_CONTAINERD,
        });
      }
      if (g && res.skopeo) {
        const ratio = g.medianMs / res.skopeo.medianMs;
        const pair = paired(iterations, 'gantry', 'skopeo');
        goals.push({
          image: image.id,
          op,
          anchor: 'skopeo',
          ratio,
          paired: pair?.median,
          goal: PUSH_GOAL_VS_SKOPEO,
          met: ratio <= PUSH_GOAL_VS_SKOPEO,
        });
      }
    }
  }

  const json = {
    benchmark: 'transfer',
    description:
      'push (to a registry started per run), save and load (all tools read the same gantry-saved archive); times in ms; ' +
      'MB/s over the image (manifest + config + compressed layers)',
    date: new Date().toISOString(),
    machine: machineInfo(loadAtStart),
    versions: toolVersions({
      containerd: ['containerd', ['--version']],
      skopeo: ['skopeo', ['--version']],
      podman: ['podman', ['--version']],
      registry: ['docker-registry', ['--version']],
    }),
    options: opts,
    images: images.map(({ image, archive }) => ({ ...image, archiveBytes: fs.statSync(archive).size })),
    results,
    ratios,
    goals,
    diskProbes: probes,
    samples,
  };
  await fs.promises.mkdir(path.dirname(opts.out), { recursive: true });
  await fs.promises.writeFile(opts.out, JSON.stringify(json, null, 2) + '\n');

  const out = ['', 'Image transfer: push to a loopback registry, save, load', '', table(rows), ''];
  for (const g of goals) {
    out.push(
      `${g.image} ${g.op}: gantry ÷ ${g.anchor} = ${g.ratio.toFixed(2)}${g.paired !== undefined ? ` (paired ${g.paired.toFixed(2)})` : ''}` +
        ` — goal ≤ ${g.goal}: ${g.met ? 'met' : 'NOT met'}`,
    );
  }
  const unsettled = probes.filter((p) => !p.settled && p.iteration >= 0).length;
  out.push(
    '',
    `${opts.runs} runs per tool, operation and image (+${opts.warmup} warm-up), rotated; load average ${loadAtStart[0]} at start, ` +
      `${loadavg()[0]} at end (${os.cpus().length} CPUs)${unsettled ? `; ${unsettled} iterations began on an unsettled disk` : ''}`,
    `JSON: ${path.relative(process.cwd(), opts.out) || opts.out}`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

runMain('transfer', main);
