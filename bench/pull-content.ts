// Content fetch benchmark: download + verify + store (no unpack) of the same
// images from the same loopback registry, in one run, by
//
//   gantry-cli   `gantry pull REF` against a running gantryd (end to end, incl. the CLI's Node start-up)
//   gantry-api   the same Pull call made in-process over gRPC: the daemon-side time, without the CLI;
//                also the moment the last blob is committed (the content-fetch part), which matters
//                since gantryd unpacks layers while it downloads them (pull = fetch ∥ unpack)
//   containerd   `ctr --debug content fetch --plain-http REF` against a containerd this script starts
//                (--debug only to turn off ctr's progress UI, which holds the exit until its next
//                100 ms tick; `ctr-progress` measures ctr as is, progress UI included)
//   ctr-pull     `ctr --debug pull --plain-http REF`: fetch + unpack into overlayfs snapshots, the
//                anchor for a gantryd that unpacks
//   skopeo       `skopeo copy docker://REF oci:DIR` — a floor: one process, no daemon, no metadata DB
//
// Every iteration gets fresh daemons with fresh roots; the tool order rotates
// per iteration; used trees are moved aside and deleted at the end (see
// docs/testing.md, "Benchmarks, not timed tests"). Usage: bench/README.md.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeClient } from '../runtime/client/client';
import { runCommand } from '../test/helpers/proc';
import { gantryApiPull, gantryCliPull, gantryImageRecord, startContainerd, startGantryd } from './lib/daemons';
import { prepareImage, type BenchImage, type ImageId } from './lib/fixtures';
import { checkInterrupted, openBenchSession, requireBinaries, runMain, timed } from './lib/harness';
import { parseBenchOptions, rotation, type BenchOptions } from './lib/options';
import { fmtMB, fmtS, GANTRY_JS, loadavg, machineInfo, stats, table, toolVersions, type Stats } from './lib/report';

const DEFAULT_IMAGES: ImageId[] = ['small', 'ten', 'big'];
const ALL_TOOLS = ['gantry-cli', 'gantry-api', 'containerd', 'ctr-progress', 'ctr-pull', 'skopeo'] as const;
type ToolId = (typeof ALL_TOOLS)[number];
const DEFAULT_TOOLS: ToolId[] = ['gantry-cli', 'gantry-api', 'containerd', 'ctr-pull', 'skopeo'];
/** Rows of the report: the tools, plus the content-fetch part of gantry-api runs. */
type RowId = ToolId | 'gantry-api-fetch';

const TOOL_LABEL: Record<RowId, string> = {
  'gantry-cli': 'gantry pull (CLI, end to end)',
  'gantry-api': 'gantryd (Pull RPC, no CLI)',
  'gantry-api-fetch': 'gantryd: all blobs committed',
  containerd: 'ctr content fetch (no progress UI)',
  'ctr-progress': 'ctr content fetch (progress UI)',
  'ctr-pull': 'ctr pull (fetch + unpack)',
  skopeo: 'skopeo copy (floor)',
};

type Options = BenchOptions<ToolId>;

function options(): Options {
  return parseBenchOptions({ name: 'pull-content', defaultImages: DEFAULT_IMAGES, tools: ALL_TOOLS, defaultTools: DEFAULT_TOOLS }).opts;
}

// ---- tools ----

interface RunResult {
  ms: number;
  /** gantry-api: when the last config/layer blob was committed (DONE or EXISTS). */
  fetchMs?: number;
  /** gantry: whether the daemon unpacked the image (its record names a snapshot). */
  unpacked?: boolean;
}

/** One tool, set up in a fresh directory for one measured fetch. */
interface Prepared {
  /** Performs the fetch; resolves with the elapsed milliseconds (and what else it saw). */
  run(image: BenchImage): Promise<RunResult>;
  /** Where the fetched blobs end up (checked after every run). */
  blobsDir: string;
  stop(): Promise<void>;
}

async function prepareTool(tool: ToolId, dir: string, opts: Options, label: string): Promise<Prepared> {
  switch (tool) {
    case 'gantry-cli':
    case 'gantry-api':
      return prepareGantry(tool, dir, opts, label);
    case 'containerd':
    case 'ctr-progress':
    case 'ctr-pull':
      return prepareContainerd(dir, tool);
    case 'skopeo':
      return {
        blobsDir: path.join(dir, 'oci', 'blobs', 'sha256'),
        run: async (image) => ({
          ms: await timed('skopeo', [
            'copy',
            '--quiet',
            '--src-tls-verify=false',
            `docker://${image.ref}`,
            `oci:${path.join(dir, 'oci')}:${image.tag}`,
          ]),
        }),
        stop: async () => undefined,
      };
  }
}

async function prepareGantry(tool: 'gantry-cli' | 'gantry-api', dir: string, opts: Options, label: string): Promise<Prepared> {
  const gantryd = await startGantryd(dir, {
    args: opts.gantrydArgs,
    profile: opts.profile && tool === 'gantry-cli' ? { dir: path.join(path.dirname(opts.out), 'profiles'), name: label } : undefined,
  });
  const { socket, stop } = gantryd;
  const blobsDir = path.join(gantryd.root, 'content', 'blobs', 'sha256');
  const client = RuntimeClient.forSocket(socket);
  await client.system.version(); // connected before the clock starts (gantry-api); the CLI connects itself
  const stopAll = async () => {
    client.close();
    await stop();
  };
  if (tool === 'gantry-cli') {
    return {
      blobsDir,
      run: async (image) => {
        const ms = await gantryCliPull(socket, image.ref);
        const record = await gantryImageRecord(client, image.manifestDigest);
        return { ms, unpacked: Boolean(record?.snapshotter) };
      },
      stop: stopAll,
    };
  }
  return {
    blobsDir,
    run: async (image) => {
      const { ms, fetchMs, summary } = await gantryApiPull(client, image.ref, image.layers.length);
      return { ms, fetchMs, unpacked: Boolean(summary.snapshotter) };
    },
    stop: stopAll,
  };
}

async function prepareContainerd(dir: string, tool: 'containerd' | 'ctr-progress' | 'ctr-pull'): Promise<Prepared> {
  const { socket, root, stop } = await startContainerd(dir);
  return {
    blobsDir: path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256'),
    // ctr shows progress unless --debug; on completion the UI waits for its next 100 ms tick
    // before ctr exits, which would round every fetch up to a multiple of 100 ms.
    run: async (image) => ({
      ms: await timed('ctr', [
        ...(tool === 'ctr-progress' ? [] : ['--debug']),
        '-a',
        socket,
        ...(tool === 'ctr-pull' ? ['images', 'pull'] : ['content', 'fetch']),
        '--plain-http',
        image.ref,
      ]),
    }),
    stop,
  };
}

/** Every blob of the image arrived, with the right total size. */
async function verify(blobsDir: string, image: BenchImage, tool: ToolId): Promise<void> {
  let names: string[];
  try {
    names = (await fs.promises.readdir(blobsDir)).filter((n) => /^[a-f0-9]{64}$/.test(n));
  } catch {
    names = [];
  }
  let bytes = 0;
  for (const n of names) bytes += (await fs.promises.stat(path.join(blobsDir, n))).size;
  if (names.length !== image.blobs || bytes !== image.bytes) {
    throw new Error(`${tool} stored ${names.length} blobs / ${bytes} bytes of ${image.ref}; expected ${image.blobs} / ${image.bytes}`);
  }
}

// ---- statistics and report ----

interface Sample {
  image: ImageId;
  tool: ToolId;
  iteration: number;
  warmup: boolean;
  ms: number;
  fetchMs?: number;
  unpacked?: boolean;
}

// ---- main ----

async function main(): Promise<void> {
  const opts = options();
  if (!fs.existsSync(GANTRY_JS)) throw new Error(`${GANTRY_JS} is missing; build first: node esbuild.js`);
  requireBinaries(['docker-registry', 'skopeo', 'umoci', 'containerd', 'ctr']);

  const { workDir, work, log, distChangedSinceStart, loadAtStart, registry } = await openBenchSession('pull-content', 'gbench', opts);

  const images: BenchImage[] = [];
  for (const id of opts.images) {
    checkInterrupted();
    const image = await prepareImage(id, registry, work);
    images.push(image);
    log(
      `image ${id}: ${image.ref} ${fmtMB(image.bytes)} in ${image.blobs} blobs (${image.layers.length} layers) — ${image.prepared.source}, pushed in ${fmtS(image.prepared.pushMs)} s`,
    );
  }

  const samples: Sample[] = [];
  let seq = 0;
  for (const image of images) {
    for (let it = -opts.warmup; it < opts.runs; it++) {
      const line: string[] = [];
      for (const tool of rotation(opts.tools, it)) {
        checkInterrupted();
        const label = `${image.id}-${it < 0 ? `w${-it}` : it}-${tool}-${seq++}`;
        const dir = path.join(work, label); // fresh for every run
        await fs.promises.mkdir(dir);
        const prepared = await prepareTool(tool, dir, opts, label);
        // Flush dirty pages (earlier runs, the image push) so no run pays for another's writeback.
        await runCommand('sync', []);
        let result: RunResult;
        try {
          result = await prepared.run(image);
          await verify(prepared.blobsDir, image, tool);
        } finally {
          await prepared.stop();
        }
        await workDir.retire(dir);
        samples.push({ image: image.id, tool, iteration: it, warmup: it < 0, ...result });
        line.push(`${tool} ${fmtS(result.ms)}s${result.fetchMs !== undefined ? ` (blobs ${fmtS(result.fetchMs)}s)` : ''}`);
      }
      log(`  ${image.id} ${it < 0 ? 'warm-up' : `run ${it + 1}/${opts.runs}`}: ${line.join(', ')}`);
    }
  }

  // ---- report ----
  const distChanged = distChangedSinceStart();
  const gantryUnpacks = samples.some((s) => s.unpacked);
  const rowIds: RowId[] = [];
  for (const t of opts.tools) {
    rowIds.push(t);
    if (t === 'gantry-api') rowIds.push('gantry-api-fetch');
  }
  /** The anchor each row is compared with: like with like. */
  const anchorOf = (row: RowId): ToolId | undefined => {
    if (row === 'gantry-cli' || row === 'gantry-api') {
      if (gantryUnpacks) return opts.tools.includes('ctr-pull') ? 'ctr-pull' : undefined;
      return opts.tools.includes('containerd') ? 'containerd' : undefined;
    }
    if (row === 'containerd' || row === 'ctr-pull') return undefined;
    return opts.tools.includes('containerd') ? 'containerd' : undefined;
  };
  const results: Record<string, Partial<Record<RowId, Stats>>> = {};
  const ratios: Record<string, Partial<Record<RowId, { anchor: ToolId; median: number; min: number }>>> = {};
  const rows: string[][] = [['image', 'tool', 'median s', 'min s', 'max s', 'MB/s', 'compared with', 'ratio (median)', 'ratio (min)']];
  for (const image of images) {
    const res: Partial<Record<RowId, Stats>> = (results[image.id] = {});
    const measured = samples.filter((s) => s.image === image.id && !s.warmup);
    for (const row of rowIds) {
      const ms =
        row === 'gantry-api-fetch'
          ? measured.filter((s) => s.tool === 'gantry-api' && s.fetchMs !== undefined).map((s) => s.fetchMs!)
          : measured.filter((s) => s.tool === row).map((s) => s.ms);
      if (ms.length) res[row] = stats(ms, image.bytes);
    }
    ratios[image.id] = {};
    let first = true;
    for (const row of rowIds) {
      const st = res[row];
      if (!st) continue;
      const anchor = anchorOf(row);
      const base = anchor ? res[anchor] : undefined;
      const r = anchor && base ? { anchor, median: st.medianMs / base.medianMs, min: st.minMs / base.minMs } : undefined;
      if (r) ratios[image.id][row] = r;
      rows.push([
        first ? `${image.id} (${fmtMB(image.bytes)}, ${image.blobs} blobs)` : '',
        TOOL_LABEL[row],
        fmtS(st.medianMs),
        fmtS(st.minMs),
        fmtS(st.maxMs),
        st.mbPerSec.toFixed(1),
        r ? r.anchor : '',
        r ? r.median.toFixed(2) : '',
        r ? r.min.toFixed(2) : '',
      ]);
      first = false;
    }
  }

  const report = {
    benchmark: 'pull-content',
    description:
      'content fetch (download + verify + store, no unpack) from a loopback docker-registry; times in ms. ' +
      'gantryUnpacks: gantryd unpacked layers during the pull (then gantry-cli/gantry-api are compared with ctr-pull, ' +
      'and gantry-api-fetch — the moment the last blob was committed — with containerd).',
    date: new Date().toISOString(),
    machine: machineInfo(loadAtStart),
    versions: toolVersions({
      containerd: ['containerd', ['--version']],
      ctr: ['ctr', ['--version']],
      skopeo: ['skopeo', ['--version']],
      registry: ['docker-registry', ['--version']],
    }),
    options: { runs: opts.runs, warmup: opts.warmup, tools: opts.tools, gantrydArgs: opts.gantrydArgs, profile: opts.profile },
    gantryUnpacks,
    distChangedDuringRun: distChanged,
    images: images.map(({ id, ref, blobs, layers, bytes, manifestDigest, prepared }) => ({
      id,
      ref,
      blobs,
      layers: layers.length,
      bytes,
      manifestDigest,
      ...prepared,
    })),
    results,
    ratios,
    samples,
  };
  await fs.promises.mkdir(path.dirname(opts.out), { recursive: true });
  await fs.promises.writeFile(opts.out, JSON.stringify(report, null, 2) + '\n');

  const out: string[] = ['', 'Content fetch (download + verify + store, no unpack), loopback registry', ''];
  if (distChanged) out.push(`WARNING: ${GANTRY_JS} was rebuilt during this run; the gantry numbers mix two builds. Run again.`, '');
  if (gantryUnpacks) {
    out.push(
      'NOTE: this gantryd unpacks layers while it pulls (pull = fetch ∥ unpack), so `gantry pull` cannot be timed',
      'as a content fetch alone: its totals are compared with `ctr pull` (fetch + unpack), and the moment its last',
      'blob was committed (unpack still running alongside) with `ctr content fetch`.',
      '',
    );
  }
  out.push(table(rows), '');
  const ratioText = (image: BenchImage, row: RowId, name: string) => {
    const r = ratios[image.id][row];
    return r ? `${name} / ${r.anchor} = ${r.median.toFixed(2)}` : undefined;
  };
  for (const image of images) {
    const parts = [
      ratioText(image, 'gantry-cli', 'gantry CLI'),
      ratioText(image, 'gantry-api', 'gantryd'),
      gantryUnpacks ? ratioText(image, 'gantry-api-fetch', 'gantryd blobs committed') : undefined,
    ].filter(Boolean);
    if (parts.length) out.push(`${image.id.padEnd(5)}: ${parts.join(', ')}`);
  }
  out.push(
    '(median ratios; < 1.00 means gantry is faster)',
    '',
    `${opts.runs} runs per tool and image (+${opts.warmup} warm-up), fresh roots each run; ` +
      `load average ${loadAtStart[0]} at start, ${loadavg()[0]} at end (${os.cpus().length} CPUs)`,
    `JSON: ${path.relative(process.cwd(), opts.out) || opts.out}`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

runMain('pull-content', main);
