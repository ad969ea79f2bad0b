// Pull = fetch + unpack benchmark (issue 4): download + verify + unpack into
// snapshots of the same images from the same loopback registry, in one run, by
//
//   gantry       `gantry pull REF` against a gantryd with a fresh --root and its default
//                (overlayfs) snapshotter: end to end, incl. the CLI's Node start-up
//   gantry-api   (optional) the same Pull call made in-process over gRPC: daemon-side time;
//                also when the last blob was committed and when the last layer was applied
//   containerd   `ctr --debug images pull --plain-http --snapshotter overlayfs REF` against a
//                containerd this script starts (own root/state/socket; --debug turns ctr's
//                progress UI off, which would hold the exit until its next 100 ms tick)
//   podman       `podman pull -q --tls-verify=false REF` with its own --root, --runroot, --tmpdir,
//                TMPDIR and --storage-driver overlay (storage initialised before the clock starts)
//   tar          the unpack floor: `tar -xzf BLOB -C DIR` of each layer blob in order (the
//                registry's own blob files, in the page cache) into one fresh dir
//   skopeo       the download floor: `skopeo copy docker://REF oci:DIR`
// and the derived row "skopeo + tar": a pull done by the floors one after the other.
//
// Every tool's result is checked: the files, bytes and symlinks of its unpacked
// trees must match the layers' tar streams (so a tool that skipped unpacking
// cannot win). Fresh roots for every run; the tool order rotates per
// iteration; used trees are unmounted, moved aside, and deleted at the end;
// before each iteration the script waits until file creation is equally fast
// in fresh dirs (a recent large delete makes it slow for minutes on this
// disk; harness.ts settleDisk). docs/testing.md, "Benchmarks, not timed
// tests". Usage: bench/README.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeClient } from '../runtime/client/client';
import { runCommand } from '../test/helpers/proc';
import type { Registry } from '../test/helpers/registry';
import { gantryApiPull, gantryCliPull, gantryImageRecord, startContainerd, startGantryd } from './lib/daemons';
import { prepareImage, type BenchImage, type ImageId } from './lib/fixtures';
import { checkInterrupted, openBenchSession, requireBinaries, runMain, settleDisk, timed } from './lib/harness';
import { intOption, parseBenchOptions, rotation, type BenchOptions } from './lib/options';
import { fmtMB, fmtS, GANTRY_JS, loadavg, machineInfo, stats, table, toolVersions, type Stats } from './lib/report';
import { compression, fmtCounts, layerCounts, sameCounts, subdirs, treeCounts, type TreeCounts } from './lib/trees';

const DEFAULT_IMAGES: ImageId[] = ['small', 'ten', 'bigfiles'];
const ALL_TOOLS = ['gantry', 'gantry-api', 'containerd', 'podman', 'tar', 'skopeo'] as const;
type ToolId = (typeof ALL_TOOLS)[number];
const DEFAULT_TOOLS: ToolId[] = ['gantry', 'containerd', 'podman', 'tar', 'skopeo'];
/** Report rows: the tools, the parts of gantry-api runs, and the floors' sum. */
type RowId = ToolId | 'gantry-api-fetch' | 'gantry-api-extracted' | 'floor';

const ROW_LABEL: Record<RowId, string> = {
  gantry: 'gantry pull (CLI, end to end)',
  'gantry-api': 'gantryd (Pull RPC, no CLI)',
  'gantry-api-fetch': 'gantryd: all blobs committed',
  'gantry-api-extracted': 'gantryd: last layer applied',
  containerd: 'ctr images pull (overlayfs)',
  podman: 'podman pull (overlay)',
  tar: 'floor: tar -xzf each layer',
  skopeo: 'floor: skopeo copy (download)',
  floor: 'floor: skopeo + tar (sum)',
};

/** The rows every row is divided by, in report order. */
const ANCHORS = ['containerd', 'podman', 'tar', 'floor'] as const;
type Anchor = (typeof ANCHORS)[number];
/** Issue 4: gantry ≤ 0.75 × containerd on the big image. */
const GOAL = { row: 'gantry' as RowId, anchor: 'containerd' as Anchor, image: 'bigfiles' as ImageId, max: 0.75 };

type Options = BenchOptions<ToolId> & {
  /** Total time to wait for the disk to settle, over all iterations (harness.ts settleDisk). */
  settleMs: number;
};

function options(): Options {
  const { opts, extra } = parseBenchOptions({
    name: 'pull-unpack',
    defaultImages: DEFAULT_IMAGES,
    tools: ALL_TOOLS,
    defaultTools: DEFAULT_TOOLS,
    extraUsage: `  --settle SECONDS    before each iteration, wait for file creation to be equally fast in
                      fresh dirs, at most this long in all (default 600; 0: only measure it)
`,
    extra: { settle: { type: 'string', default: '600' } },
  });
  return { ...opts, settleMs: intOption('settle', extra.settle as string, 0) * 1000 };
}

// ---- images: what an unpack must produce ----

interface UnpackImage extends BenchImage {
  /** Registry storage paths of the layer blobs, in order (the tar floor reads these). */
  layerPaths: string[];
  /** Summed over the layers' tar streams. */
  expected: TreeCounts;
}

async function prepareUnpackImage(id: ImageId, registry: Registry, workDir: string): Promise<UnpackImage> {
  const image = await prepareImage(id, registry, workDir);
  const layerPaths = image.layers.map((l) => registry.blobPath(l.digest));
  for (const l of image.layers) {
    if (compression(l.mediaType) === 'zstd') throw new Error(`${image.ref}: zstd layers are not supported by this benchmark's tar floor`);
  }
  const expected = await layerCounts(image.layers.map((l, i) => ({ path: layerPaths[i], mediaType: l.mediaType })));
  return { ...image, layerPaths, expected };
}

// ---- tools ----

interface RunResult {
  ms: number;
  /** gantry-api: when the last blob was committed / the last layer applied. */
  fetchMs?: number;
  extractedMs?: number;
}

/** One tool, set up (daemon started, storage initialised) in a fresh directory for one measured pull. */
interface Prepared {
  run(image: UnpackImage): Promise<RunResult>;
  /** The unpacked trees (one per layer for snapshotters; one for tar), after run. */
  trees(): Promise<string[]>;
  /** How many trees `trees()` must find. */
  treeCount(image: UnpackImage): number;
  stop(): Promise<void>;
}

async function prepareTool(tool: ToolId, dir: string, opts: Options, label: string): Promise<Prepared> {
  switch (tool) {
    case 'gantry':
    case 'gantry-api':
      return prepareGantry(tool, dir, opts, label);
    case 'containerd':
      return prepareContainerd(dir);
    case 'podman':
      return preparePodman(dir);
    case 'tar':
      return prepareTar(dir);
    case 'skopeo':
      return {
        run: async (image) => ({
          ms: await timed('skopeo', [
            'copy',
            '--quiet',
            '--src-tls-verify=false',
            `docker://${image.ref}`,
            `oci:${path.join(dir, 'oci')}:${image.tag}`,
          ]),
        }),
        trees: async () => [],
        treeCount: () => 0,
        stop: async () => undefined,
      };
  }
}

async function prepareGantry(tool: 'gantry' | 'gantry-api', dir: string, opts: Options, label: string): Promise<Prepared> {
  const gantryd = await startGantryd(dir, {
    args: opts.gantrydArgs,
    profile: opts.profile && tool === 'gantry' ? { dir: path.join(path.dirname(opts.out), 'profiles'), name: label } : undefined,
  });
  const client = RuntimeClient.forSocket(gantryd.socket);
  await client.system.version(); // connected before the clock starts (gantry-api); the CLI connects itself
  const checkUnpacked = (snapshotter: string | undefined, image: UnpackImage) => {
    if (snapshotter !== 'overlayfs') {
      throw new Error(
        `gantryd recorded ${image.ref} with snapshotter ${JSON.stringify(snapshotter ?? '')}; expected overlayfs (the default here)`,
      );
    }
  };
  return {
    run: async (image) => {
      if (tool === 'gantry') {
        const ms = await gantryCliPull(gantryd.socket, image.ref);
        checkUnpacked((await gantryImageRecord(client, image.manifestDigest))?.snapshotter, image);
        return { ms };
      }
      const { ms, fetchMs, extractedMs, summary } = await gantryApiPull(client, image.ref, image.layers.length);
      checkUnpacked(summary.snapshotter, image);
      return { ms, fetchMs, extractedMs };
    },
    // runtime/snapshots/select.ts + metadata.ts: <root>/snapshots/overlayfs/snapshots/<id>/fs
    trees: () => subdirs(path.join(gantryd.root, 'snapshots', 'overlayfs', 'snapshots'), 'fs'),
    treeCount: (image) => image.layers.length,
    stop: async () => {
      client.close();
      await gantryd.stop();
    },
  };
}

async function prepareContainerd(dir: string): Promise<Prepared> {
  const containerd = await startContainerd(dir);
  return {
    run: async (image) => ({
      ms: await timed('ctr', [
        '--debug',
        '-a',
        containerd.socket,
        'images',
        'pull',
        '--plain-http',
        '--snapshotter',
        'overlayfs',
        image.ref,
      ]),
    }),
    trees: () => subdirs(path.join(containerd.root, 'io.containerd.snapshotter.v1.overlayfs', 'snapshots'), 'fs'),
    treeCount: (image) => image.layers.length,
    stop: containerd.stop,
  };
}

async function preparePodman(dir: string): Promise<Prepared> {
  const root = path.join(dir, 'root');
  const tmp = path.join(dir, 'tmp');
  await fs.promises.mkdir(tmp);
  // Everything under `dir`: storage (--root), its run state (--runroot), libpod's
  // state (--tmpdir) and big temp files (TMPDIR: containers/image downloads layers there).
  const podman = (args: string[]) => [
    '--root',
    root,
    '--runroot',
    path.join(dir, 'run'),
    '--tmpdir',
    path.join(dir, 'libpod'),
    '--storage-driver',
    'overlay',
    '--events-backend',
    'none',
    '--cgroup-manager',
    'cgroupfs',
    ...args,
  ];
  const env = { ...process.env, TMPDIR: tmp };
  // Like the daemons' start-up, setting up the storage (dirs, overlay feature
  // checks, databases) is not timed: it happens once per machine, not per pull.
  await runCommand('podman', podman(['images', '-q']), { env, timeout: 60_000 });
  return {
    run: async (image) => ({ ms: await timed('podman', podman(['pull', '-q', '--tls-verify=false', image.ref]), { env }) }),
    // containers/storage overlay driver: <root>/overlay/<layer id>/diff (overlay/l holds only short-name links).
    trees: () => subdirs(path.join(root, 'overlay'), 'diff'),
    treeCount: (image) => image.layers.length,
    stop: async () => undefined,
  };
}

async function prepareTar(dir: string): Promise<Prepared> {
  const rootfs = path.join(dir, 'rootfs');
  await fs.promises.mkdir(rootfs);
  return {
    run: async (image) => {
      const t0 = performance.now();
      for (let i = 0; i < image.layers.length; i++) {
        const z = compression(image.layers[i].mediaType) === 'gzip' ? ['-z'] : [];
        await timed('tar', ['-x', ...z, '-f', image.layerPaths[i], '-C', rootfs]);
      }
      return { ms: performance.now() - t0 };
    },
    trees: async () => [rootfs],
    treeCount: () => 1,
    stop: async () => undefined,
  };
}

/** The tool unpacked every layer: the right number of trees, holding the layers' files, bytes and symlinks. */
async function verify(prepared: Prepared, image: UnpackImage, tool: ToolId): Promise<void> {
  const trees = await prepared.trees();
  if (trees.length !== prepared.treeCount(image)) {
    throw new Error(`${tool} left ${trees.length} unpacked trees for ${image.ref}; expected ${prepared.treeCount(image)}`);
  }
  if (trees.length === 0) return; // skopeo: download only
  const got = await treeCounts(trees);
  if (!sameCounts(got, image.expected)) {
    throw new Error(`${tool} unpacked ${fmtCounts(got)} of ${image.ref}; its layers hold ${fmtCounts(image.expected)}`);
  }
}

// ---- samples and statistics ----

interface Sample extends RunResult {
  image: ImageId;
  tool: ToolId;
  iteration: number;
  warmup: boolean;
  /** Mount points found below the run's dir after the tool stopped (unmounted then). */
  leftMounts?: string[];
}

/** Per iteration: file creation speed in fresh dirs just before the tools ran (harness.ts settleDisk). */
interface Probe {
  image: ImageId;
  iteration: number;
  /** µs per file in each probe dir of the last round. */
  usPerFile: number[];
  waitedMs: number;
  settled: boolean;
  loadavg1: number;
}

interface Ratio {
  median: number;
  min: number;
}

/** Stats per row; "floor" is skopeo + tar (sums of medians and of mins; its max and samples are sums too). */
function rowStats(image: UnpackImage, samples: Sample[], rows: RowId[]): Partial<Record<RowId, Stats>> {
  const res: Partial<Record<RowId, Stats>> = {};
  const measured = samples.filter((s) => s.image === image.id && !s.warmup);
  for (const row of rows) {
    if (row === 'floor') continue;
    const pick = (s: Sample) => (row === 'gantry-api-fetch' ? s.fetchMs : row === 'gantry-api-extracted' ? s.extractedMs : s.ms);
    const tool: ToolId = row === 'gantry-api-fetch' || row === 'gantry-api-extracted' ? 'gantry-api' : row;
    const ms = measured
      .filter((s) => s.tool === tool)
      .map(pick)
      .filter((v): v is number => v !== undefined);
    if (ms.length) res[row] = stats(ms, image.bytes);
  }
  if (rows.includes('floor') && res.skopeo && res.tar) {
    const s = res.skopeo;
    const t = res.tar;
    const medianMs = s.medianMs + t.medianMs;
    res.floor = {
      n: Math.min(s.n, t.n),
      medianMs,
      minMs: s.minMs + t.minMs,
      maxMs: s.maxMs + t.maxMs,
      samplesMs: [],
      mbPerSec: image.bytes / 1e6 / (medianMs / 1000),
    };
  }
  return res;
}

const ratioOf = (a: Stats | undefined, b: Stats | undefined): Ratio | undefined =>
  a && b ? { median: a.medianMs / b.medianMs, min: a.minMs / b.minMs } : undefined;

// ---- main ----

async function main(): Promise<void> {
  const opts = options();
  if (!fs.existsSync(GANTRY_JS)) throw new Error(`${GANTRY_JS} is missing; build first: node esbuild.js`);
  const needs = new Set(['docker-registry', 'skopeo', 'umoci', 'tar', 'gzip']);
  if (opts.tools.includes('containerd')) ['containerd', 'ctr'].forEach((b) => needs.add(b));
  if (opts.tools.includes('podman')) needs.add('podman');
  requireBinaries([...needs]);
  if (process.getuid?.() !== 0) throw new Error('run as root: overlayfs snapshotters (gantryd, containerd, podman) need it');

  const { workDir, work, log, distChangedSinceStart, loadAtStart, registry } = await openBenchSession('pull-unpack', 'gunpack', opts);

  const images: UnpackImage[] = [];
  for (const id of opts.images) {
    checkInterrupted();
    const image = await prepareUnpackImage(id, registry, work);
    images.push(image);
    log(
      `image ${id}: ${image.ref} ${fmtMB(image.bytes)} in ${image.layers.length} layers, unpacked ${fmtMB(image.expected.bytes)} in ` +
        `${image.expected.files} files — ${image.prepared.source}, pushed in ${fmtS(image.prepared.pushMs)} s`,
    );
  }

  const samples: Sample[] = [];
  const probes: Probe[] = [];
  let waitedMs = 0; // for the disk to settle, all iterations
  let seq = 0;
  for (const image of images) {
    for (let it = -opts.warmup; it < opts.runs; it++) {
      checkInterrupted();
      const disk = await settleDisk(work, { maxWaitMs: Math.max(0, opts.settleMs - waitedMs), log });
      waitedMs += disk.waitedMs;
      probes.push({ image: image.id, iteration: it, ...disk, loadavg1: loadavg()[0] });
      const diskNote =
        `disk ${Math.max(...disk.usPerFile).toFixed(0)} µs/file` +
        (disk.waitedMs > 1000 ? `, waited ${(disk.waitedMs / 1000).toFixed(0)} s` : '') +
        (disk.settled ? '' : ', NOT settled');
      const line: string[] = [];
      for (const tool of rotation(opts.tools, it)) {
        checkInterrupted();
        const label = `${image.id}-${it < 0 ? `w${-it}` : it}-${tool}-${seq++}`;
        const dir = path.join(work, label); // fresh for every run
        await fs.promises.mkdir(dir);
        let prepared: Prepared | undefined;
        let result: RunResult;
        try {
          prepared = await prepareTool(tool, dir, opts, label);
          // Flush dirty pages (earlier runs, the image push) so no run pays for another's writeback.
          await runCommand('sync', []);
          result = await prepared.run(image);
          await verify(prepared, image, tool);
        } finally {
          await prepared?.stop();
        }
        const leftMounts = await workDir.retire(dir);
        if (leftMounts.length) log(`  note: ${tool} left ${leftMounts.length} mount(s) behind (unmounted): ${leftMounts.join(', ')}`);
        samples.push({ image: image.id, tool, iteration: it, warmup: it < 0, ...result, ...(leftMounts.length ? { leftMounts } : {}) });
        const parts = result.fetchMs !== undefined ? ` (blobs ${fmtS(result.fetchMs)}s, applied ${fmtS(result.extractedMs ?? NaN)}s)` : '';
        line.push(`${tool} ${fmtS(result.ms)}s${parts}`);
      }
      log(`  ${image.id} ${it < 0 ? 'warm-up' : `run ${it + 1}/${opts.runs}`} (${diskNote}, load ${loadavg()[0]}): ${line.join(', ')}`);
    }
  }

  await report({ opts, images, samples, probes, loadAtStart, distChanged: distChangedSinceStart() });
}

// ---- report ----

interface RunData {
  opts: Options;
  images: UnpackImage[];
  samples: Sample[];
  probes: Probe[];
  loadAtStart: number[];
  /** dist/gantry.js was rebuilt during the run. */
  distChanged: boolean;
}

/** Prints the table and ratios, writes the JSON. */
async function report({ opts, images, samples, probes, loadAtStart, distChanged }: RunData): Promise<void> {
  const rowIds: RowId[] = [];
  for (const t of opts.tools) {
    rowIds.push(t);
    if (t === 'gantry-api') rowIds.push('gantry-api-fetch', 'gantry-api-extracted');
  }
  if (opts.tools.includes('skopeo') && opts.tools.includes('tar')) rowIds.push('floor');
  const gantryRows = rowIds.filter((r) => r === 'gantry' || r === 'gantry-api');
  const anchors = ANCHORS.filter((a) => rowIds.includes(a));

  const results: Record<string, Partial<Record<RowId, Stats>>> = {};
  /** ratios[image][row][anchor]: row time / anchor time (< 1: the row is faster). */
  const ratios: Record<string, Partial<Record<RowId, Partial<Record<Anchor, Ratio>>>>> = {};
  const header = ['image', 'tool', 'median s', 'min s', 'max s', 'MB/s', 'files/s', ...anchors.map((a) => `÷${a}`)];
  const rows: string[][] = [header];
  for (const image of images) {
    const res = (results[image.id] = rowStats(image, samples, rowIds));
    ratios[image.id] = {};
    let first = true;
    for (const row of rowIds) {
      const st = res[row];
      if (!st) continue;
      const byAnchor: Partial<Record<Anchor, Ratio>> = {};
      for (const a of anchors) {
        const r = a !== row ? ratioOf(st, res[a]) : undefined;
        if (r) byAnchor[a] = r;
      }
      ratios[image.id][row] = byAnchor;
      rows.push([
        first ? `${image.id} (${fmtMB(image.bytes)}, ${image.layers.length} layers, ${image.expected.files} files)` : '',
        ROW_LABEL[row],
        fmtS(st.medianMs),
        fmtS(st.minMs),
        fmtS(st.maxMs),
        st.mbPerSec.toFixed(1),
        row === 'skopeo' ? '' : String(Math.round(image.expected.files / (st.medianMs / 1000))),
        ...anchors.map((a) => (byAnchor[a] ? byAnchor[a].median.toFixed(2) : '')),
      ]);
      first = false;
    }
  }

  const goalImage = images.find((i) => i.id === GOAL.image);
  const goalRatio = goalImage ? ratios[goalImage.id][GOAL.row]?.[GOAL.anchor] : undefined;
  const goal = {
    text: `gantry pull ≤ ${GOAL.max} × containerd (ctr images pull) on the ~250 MB / 25,000-file image (${GOAL.image}), median`,
    ratio: goalRatio,
    met: goalRatio ? goalRatio.median <= GOAL.max : undefined,
  };

  const report = {
    benchmark: 'pull-unpack',
    description:
      'pull = download + verify + unpack into snapshots, from a loopback docker-registry; times in ms. ' +
      'ratios[image][row][anchor] = row time / anchor time (median/median and min/min; < 1 means the row is faster). ' +
      '"floor" = skopeo + tar (sum of medians, sum of mins).',
    date: new Date().toISOString(),
    machine: machineInfo(loadAtStart),
    versions: toolVersions({
      containerd: ['containerd', ['--version']],
      ctr: ['ctr', ['--version']],
      podman: ['podman', ['--version']],
      skopeo: ['skopeo', ['--version']],
      tar: ['tar', ['--version']],
      gzip: ['gzip', ['--version']],
      registry: ['docker-registry', ['--version']],
    }),
    options: {
      runs: opts.runs,
      warmup: opts.warmup,
      tools: opts.tools,
      gantrydArgs: opts.gantrydArgs,
      profile: opts.profile,
      settleMs: opts.settleMs,
    },
    distChangedDuringRun: distChanged,
    goal,
    images: images.map(({ id, ref, blobs, layers, bytes, manifestDigest, prepared, expected }) => ({
      id,
      ref,
      blobs,
      layers: layers.length,
      bytes,
      unpackedBytes: expected.bytes,
      files: expected.files,
      symlinks: expected.symlinks,
      manifestDigest,
      ...prepared,
    })),
    results,
    ratios,
    samples,
    diskProbes: probes,
  };
  await fs.promises.mkdir(path.dirname(opts.out), { recursive: true });
  await fs.promises.writeFile(opts.out, JSON.stringify(report, null, 2) + '\n');

  const out: string[] = ['', 'Pull = download + verify + unpack into snapshots, loopback registry', ''];
  if (distChanged) out.push(`WARNING: ${GANTRY_JS} was rebuilt during this run; the gantry numbers mix two builds. Run again.`, '');
  out.push(table(rows), '', 'Ratios, median (min): < 1.00 means gantry is faster');
  for (const image of images) {
    for (const row of gantryRows) {
      const parts = anchors.flatMap((a) => {
        const r = ratios[image.id][row]?.[a];
        return r ? [`÷${a} ${r.median.toFixed(2)} (${r.min.toFixed(2)})`] : [];
      });
      if (parts.length) out.push(`  ${image.id.padEnd(8)} ${row.padEnd(10)} ${parts.join(', ')}`);
    }
  }
  const measured = probes.filter((p) => p.iteration >= 0);
  if (measured.length) {
    const worst = measured.map((p) => Math.max(...p.usPerFile));
    const waited = probes.reduce((a, p) => a + p.waitedMs, 0);
    out.push(
      '',
      `Disk: creating a 1 KiB file in fresh dirs took ${Math.min(...worst).toFixed(0)}–${Math.max(...worst).toFixed(0)} µs (slowest dir) ` +
        `before the measured iterations; waited ${(waited / 1000).toFixed(0)} s in all (warm-ups included) for it to settle (diskProbes in the JSON).`,
    );
    // Judged again with the best probe of the whole run: early in a run the best seen may itself be slow.
    const best = Math.min(...probes.flatMap((p) => p.usPerFile));
    const uneven = measured
      .filter((p) => !p.settled || Math.max(...p.usPerFile) > 4 * best)
      .map((p) => `${p.image} run ${p.iteration + 1}`);
    if (uneven.length) {
      out.push(
        `WARNING: file creation was uneven (slowest fresh dir > 4× the run's best, ${best.toFixed(0)} µs) before ${uneven.join(', ')} ` +
          '(a recent large delete?): those iterations may measure the disk; compare them, or run again later.',
      );
    }
  }
  if (goalRatio) {
    out.push(
      '',
      `Goal (issue 4): ${goal.text}: ${goalRatio.median.toFixed(3)} (min ${goalRatio.min.toFixed(3)}) — ${goal.met ? 'met' : 'NOT met'}`,
    );
  }
  out.push(
    '',
    `${opts.runs} runs per tool and image (+${opts.warmup} warm-up), fresh roots each run; ` +
      `load average ${loadAtStart[0]} at start, ${loadavg()[0]} at end (${os.cpus().length} CPUs)`,
    `JSON: ${path.relative(process.cwd(), opts.out) || opts.out}`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

runMain('pull-unpack', main);
