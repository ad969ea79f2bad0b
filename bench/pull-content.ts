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
// shared/TESTING.md, "Benchmarks, not timed tests"). Usage: bench/README.md.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RuntimeClient } from '../runtime/api/client';
import { BlobStatus, type ImageSummary } from '../runtime/api/gen/gantry/v1/images';
import { pushBusybox } from '../test/helpers/fixtures';
import { Proc, runCommand, startProcess } from '../test/helpers/proc';
import { startRegistry, type Registry } from '../test/helpers/registry';
import { Cleanup, makeTempDir, removeTempDir } from '../test/helpers/tmp';
import { BIG, ensureLayout, TEN_LAYERS, type SyntheticImageSpec } from './lib/images';

const REPO = path.resolve(__dirname, '../..');
const GANTRY_JS = path.join(REPO, 'dist/gantry.js');
const CACHE_DIR = path.join(REPO, '.cache/bench/images');

const ALL_IMAGES = ['small', 'ten', 'big'] as const;
type ImageId = (typeof ALL_IMAGES)[number];
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

const USAGE = `Usage: node out/bench/pull-content.js [options]

  --runs N            measured iterations per image (default 5)
  --warmup N          unmeasured iterations first (default 1)
  --images LIST       comma-separated: small,ten,big (default all)
  --tools LIST        comma-separated, from ${ALL_TOOLS.join(',')}
                      (default ${DEFAULT_TOOLS.join(',')})
  --out FILE          JSON report (default test-output/bench/pull-content.json)
  --profile           run gantryd under --cpu-prof (gantry-cli runs; profiles in test-output/bench/profiles/)
  --gantryd-arg ARG   extra gantryd argument (repeatable), e.g. --gantryd-arg=--max-concurrent-downloads=10
`;

interface Options {
  runs: number;
  warmup: number;
  images: ImageId[];
  tools: ToolId[];
  out: string;
  profile: boolean;
  gantrydArgs: string[];
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      images: { type: 'string', default: ALL_IMAGES.join(',') },
      tools: { type: 'string', default: DEFAULT_TOOLS.join(',') },
      out: { type: 'string', default: path.join(REPO, 'test-output/bench/pull-content.json') },
      profile: { type: 'boolean', default: false },
      'gantryd-arg': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const count = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const list = <T extends string>(name: string, v: string, allowed: readonly T[]): T[] => {
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    for (const i of items) if (!allowed.includes(i as T)) throw new Error(`--${name}: unknown "${i}" (one of ${allowed.join(', ')})`);
    return allowed.filter((a) => items.includes(a));
  };
  return {
    runs: count('runs', values.runs!, 1),
    warmup: count('warmup', values.warmup!, 0),
    images: list('images', values.images!, ALL_IMAGES),
    tools: list('tools', values.tools!, ALL_TOOLS),
    out: path.resolve(values.out!),
    profile: values.profile!,
    gantrydArgs: values['gantryd-arg']!,
  };
}

// ---- process bookkeeping: everything we start is stopped on exit and on Ctrl-C ----

const cleanup = new Cleanup();
const running = new Set<Proc>();
let interrupted = false;

function track(p: Proc): Proc {
  running.add(p);
  void p.waitForExit().then(() => running.delete(p));
  return p;
}

function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`\n${signal}: stopping everything this benchmark started and removing its temp dirs…\n`);
  for (const p of running) p.kill('SIGKILL');
  void cleanup.runAll().catch((e) => process.stderr.write(`cleanup: ${(e as Error).message}\n`)).finally(() => process.exit(130));
}

// ---- images ----

interface BenchImage {
  id: ImageId;
  ref: string;
  /** Tag (skopeo's oci: destination needs one). */
  tag: string;
  blobs: number;
  layers: number;
  /** Manifest + config + layers, as stored. */
  bytes: number;
  layerDigests: Set<string>;
  manifestDigest: string;
  prepared: { source: string; buildMs: number; pushMs: number };
}

async function prepareImage(id: ImageId, registry: Registry, workDir: string): Promise<BenchImage> {
  const repo = `bench/${id}`;
  const tag = 'v1';
  let source: string;
  let buildMs = 0;
  const t0 = performance.now();
  if (id === 'small') {
    // The test fixture: Debian's static busybox in one layer, built with umoci.
    await pushBusybox(registry, `${repo}:${tag}`);
    source = 'test/helpers/fixtures.ts pushBusybox (umoci)';
  } else {
    const spec: SyntheticImageSpec = id === 'ten' ? TEN_LAYERS : BIG;
    const layout = await ensureLayout(CACHE_DIR, spec, hostArch());
    buildMs = layout.buildMs;
    source = `${path.relative(REPO, layout.dir)} (${layout.built ? `built in ${(buildMs / 1000).toFixed(1)} s` : 'cached'})`;
    const digestFile = path.join(workDir, `push-${id}.digest`);
    await runCommand('skopeo', [
      'copy', '--quiet', '--format', 'oci', '--dest-tls-verify=false', '--digestfile', digestFile,
      `oci:${layout.dir}:${layout.tag}`, `docker://${registry.host}/${repo}:${tag}`,
    ], { timeout: 600_000 });
  }
  const pushMs = performance.now() - t0 - buildMs;
  const { manifest, digest, size } = await getManifest(registry, repo, tag);
  const layers = manifest.layers.map((l) => l.size);
  return {
    id,
    ref: `${registry.host}/${repo}:${tag}`,
    tag,
    blobs: 2 + layers.length,
    layers: layers.length,
    bytes: size + manifest.config.size + layers.reduce((a, b) => a + b, 0),
    layerDigests: new Set(manifest.layers.map((l) => l.digest)),
    manifestDigest: digest,
    prepared: { source, buildMs, pushMs },
  };
}

interface ManifestDoc {
  config: { size: number };
  layers: { size: number; digest: string }[];
}

function getManifest(registry: Registry, repo: string, tag: string): Promise<{ manifest: ManifestDoc; digest: string; size: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${registry.url}/v2/${repo}/manifests/${tag}`,
      { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`GET manifest ${repo}:${tag}: HTTP ${res.statusCode}`));
          const body = Buffer.concat(chunks);
          resolve({ manifest: JSON.parse(body.toString()) as ManifestDoc, digest: String(res.headers['docker-content-digest']), size: body.length });
        });
      },
    );
    req.on('error', reject);
  });
}

function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
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
          ms: await timed('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${image.ref}`, `oci:${path.join(dir, 'oci')}:${image.tag}`]),
        }),
        stop: async () => undefined,
      };
  }
}

async function startGantryd(dir: string, opts: Options, profileName?: string): Promise<{ proc: Proc; socket: string; root: string }> {
  const root = path.join(dir, 'root');
  const state = path.join(dir, 'state');
  const socket = path.join(state, 'gantry.sock');
  const nodeArgs: string[] = [];
  if (profileName) {
    const profDir = path.join(path.dirname(opts.out), 'profiles');
    fs.mkdirSync(profDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${profileName}.cpuprofile`);
  }
  const proc = track(
    startProcess(process.execPath, [...nodeArgs, GANTRY_JS, 'daemon', '--root', root, '--state', state, ...opts.gantrydArgs], { name: 'gantryd' }),
  );
  const client = RuntimeClient.forSocket(socket);
  try {
    await proc.waitFor(() => fs.existsSync(socket) && client.version({ timeoutMs: 2_000 }).then(() => true, () => false), {
      what: `gantryd answering on ${socket}`,
      timeout: 30_000,
      interval: 20,
    });
  } catch (e) {
    await proc.stop();
    throw e;
  } finally {
    client.close();
  }
  return { proc, socket, root };
}

async function prepareGantry(tool: 'gantry-cli' | 'gantry-api', dir: string, opts: Options, label: string): Promise<Prepared> {
  const { proc, socket, root } = await startGantryd(dir, opts, opts.profile && tool === 'gantry-cli' ? label : undefined);
  const blobsDir = path.join(root, 'content', 'blobs', 'sha256');
  const stop = async () => {
    const status = await proc.stop(10_000);
    if (status.code !== 0 && status.signal !== 'SIGTERM') throw new Error(`gantryd exited ${JSON.stringify(status)}:\n${proc.stderr}`);
  };
  const client = RuntimeClient.forSocket(socket);
  await client.version(); // connected before the clock starts (gantry-api); the CLI connects itself
  if (tool === 'gantry-cli') {
    return {
      blobsDir,
      run: async (image) => {
        const ms = await timed(process.execPath, [GANTRY_JS, '--socket', socket, 'pull', image.ref]);
        const record = (await client.images.list()).find((i) => i.target?.digest === image.manifestDigest);
        return { ms, unpacked: Boolean(record?.snapshotter) };
      },
      stop: async () => {
        client.close();
        await stop();
      },
    };
  }
  return {
    blobsDir,
    run: async (image) => {
      const committed = new Set<string>();
      let fetchMs: number | undefined;
      let summary: ImageSummary | undefined;
      const t0 = performance.now();
      for await (const m of client.images.pull({ reference: image.ref })) {
        if (m.kind?.$case === 'blob') {
          const { status, digest } = m.kind.value;
          if (status === BlobStatus.BLOB_STATUS_DONE || status === BlobStatus.BLOB_STATUS_EXISTS) {
            committed.add(digest);
            if (committed.size === image.layerDigests.size + 1) fetchMs = performance.now() - t0; // + config
          }
        } else if (m.kind?.$case === 'image') {
          summary = m.kind.value;
        }
      }
      const ms = performance.now() - t0;
      if (!summary) throw new Error(`gantryd ended the pull of ${image.ref} without an image`);
      return { ms, fetchMs, unpacked: Boolean(summary.snapshotter) };
    },
    stop: async () => {
      client.close();
      await stop();
    },
  };
}

async function prepareContainerd(dir: string, tool: 'containerd' | 'ctr-progress' | 'ctr-pull'): Promise<Prepared> {
  const root = path.join(dir, 'root');
  const state = path.join(dir, 'state');
  const socket = path.join(state, 'containerd.sock');
  const config = path.join(dir, 'config.toml');
  await fs.promises.mkdir(dir, { recursive: true });
  // Only what a content fetch needs; no CRI, no debug/metrics listeners, nothing under /var/lib or /run.
  await fs.promises.writeFile(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = ${JSON.stringify(socket)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(socket + '.ttrpc')}`,
      '[debug]',
      '  address = ""',
      '  level = "warn"',
      '[metrics]',
      '  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${JSON.stringify(path.join(root, 'opt'))}`,
      '',
    ].join('\n'),
  );
  const proc = track(startProcess('containerd', ['--config', config], { name: 'containerd' }));
  try {
    await proc.waitFor(
      () => fs.existsSync(socket) && runCommand('ctr', ['-a', socket, 'version'], { timeout: 5_000 }).then(() => true, () => false),
      { what: `containerd answering on ${socket}`, timeout: 30_000, interval: 20 },
    );
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return {
    blobsDir: path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256'),
    // ctr shows progress unless --debug; on completion the UI waits for its next 100 ms tick
    // before ctr exits, which would round every fetch up to a multiple of 100 ms.
    run: async (image) => ({
      ms: await timed('ctr', [
        ...(tool === 'ctr-progress' ? [] : ['--debug']),
        '-a', socket,
        ...(tool === 'ctr-pull' ? ['images', 'pull'] : ['content', 'fetch']),
        '--plain-http', image.ref,
      ]),
    }),
    stop: async () => {
      await proc.stop(10_000);
    },
  };
}

/** Runs a command to completion; the wall time from spawn to exit, in ms. */
async function timed(cmd: string, args: string[]): Promise<number> {
  checkInterrupted();
  const t0 = performance.now();
  const p = track(startProcess(cmd, args, { name: `${path.basename(cmd)} ${args.join(' ')}`, maxOutput: 64 * 1024 }));
  const status = await p.waitForExit();
  const ms = performance.now() - t0;
  if (status.code !== 0) throw new Error(`${p.name} failed (${JSON.stringify(status)}):\n${p.stderr.trim()}\n${p.stdout.trim()}`);
  return ms;
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

interface Stats {
  n: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
  /** MB/s (10^6 bytes) at the median time. */
  mbPerSec: number;
}

function stats(ms: number[], bytes: number): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, medianMs: median, minMs: s[0], maxMs: s[s.length - 1], samplesMs: ms, mbPerSec: bytes / 1e6 / (median / 1000) };
}

function versions(): Record<string, string> {
  const first = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().split('\n')[0].trim();
    } catch {
      return 'unknown';
    }
  };
  let gantry = 'unknown';
  try {
    gantry = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
    gantry += ` (${execFileSync('git', ['-C', REPO, 'rev-parse', '--short=12', 'HEAD']).toString().trim()}, dist built ${fs.statSync(GANTRY_JS).mtime.toISOString()})`;
  } catch {
    // best effort
  }
  return {
    node: process.version,
    gantry,
    containerd: first('containerd', ['--version']),
    ctr: first('ctr', ['--version']),
    skopeo: first('skopeo', ['--version']),
    registry: first('docker-registry', ['--version']),
  };
}

const fmtS = (ms: number) => (ms / 1000).toFixed(3);
const fmtMB = (b: number) => (b / 1e6 >= 10 ? (b / 1e6).toFixed(0) : (b / 1e6).toFixed(2)) + ' MB';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

// ---- main ----

async function main(): Promise<void> {
  const opts = options();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  if (!fs.existsSync(GANTRY_JS)) throw new Error(`${GANTRY_JS} is missing; build first: node esbuild.js`);
  for (const bin of ['docker-registry', 'skopeo', 'umoci', 'containerd', 'ctr']) {
    const found = (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, bin)));
    if (!found) throw new Error(`${bin} is not installed; run scripts/install-bench-deps.sh (as root)`);
  }

  const work = await makeTempDir('gbench');
  cleanup.defer(async () => {
    // Last: after every process is gone, and never through a mount left behind.
    await unmountUnder(work);
    await removeTempDir(work);
  });
  cleanup.defer(async () => {
    for (const p of running) await p.stop(5_000);
  });
  const trash = path.join(work, 'trash');
  await fs.promises.mkdir(trash);

  const log = (s: string) => process.stderr.write(s + '\n');
  // Others may rebuild dist/ while this runs; a run that spans two builds measures neither.
  const distAtStart = fs.statSync(GANTRY_JS).mtimeMs;
  const loadAtStart = os.loadavg().map((l) => Number(l.toFixed(2)));
  log(`pull-content: ${opts.images.join(', ')} × ${opts.tools.join(', ')}, ${opts.warmup} warm-up + ${opts.runs} runs; work dir ${work}`);
  const registry = await startRegistry({ cleanup });
  log(`registry ${registry.url} (docker-registry, storage in ${registry.storageDir})`);

  const images: BenchImage[] = [];
  for (const id of opts.images) {
    checkInterrupted();
    const image = await prepareImage(id, registry, work);
    images.push(image);
    log(`image ${id}: ${image.ref} ${fmtMB(image.bytes)} in ${image.blobs} blobs (${image.layers} layers) — ${image.prepared.source}, pushed in ${fmtS(image.prepared.pushMs)} s`);
  }

  const samples: Sample[] = [];
  let seq = 0;
  for (const image of images) {
    for (let it = -opts.warmup; it < opts.runs; it++) {
      // Rotate the order each iteration so drift and after-effects hit every tool alike.
      const k = ((it % opts.tools.length) + opts.tools.length) % opts.tools.length;
      const order = [...opts.tools.slice(k), ...opts.tools.slice(0, k)];
      const line: string[] = [];
      for (const tool of order) {
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
        await unmountUnder(dir); // nothing should be left mounted; never delete through a mount
        // Aside, not deleted: a big delete slows file creation for minutes on this disk.
        await fs.promises.rename(dir, path.join(trash, label));
        samples.push({ image: image.id, tool, iteration: it, warmup: it < 0, ...result });
        line.push(`${tool} ${fmtS(result.ms)}s${result.fetchMs !== undefined ? ` (blobs ${fmtS(result.fetchMs)}s)` : ''}`);
      }
      log(`  ${image.id} ${it < 0 ? 'warm-up' : `run ${it + 1}/${opts.runs}`}: ${line.join(', ')}`);
    }
  }

  // ---- report ----
  const distChanged = fs.statSync(GANTRY_JS).mtimeMs !== distAtStart;
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
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGB: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
      // Other jobs on the machine skew everything: check these before trusting a run.
      loadavgAtStart: loadAtStart,
      loadavgAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    versions: versions(),
    options: { runs: opts.runs, warmup: opts.warmup, tools: opts.tools, gantrydArgs: opts.gantrydArgs, profile: opts.profile },
    gantryUnpacks,
    distChangedDuringRun: distChanged,
    images: images.map(({ id, ref, blobs, layers, bytes, manifestDigest, prepared }) => ({ id, ref, blobs, layers, bytes, manifestDigest, ...prepared })),
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
      `load average ${loadAtStart[0]} at start, ${os.loadavg()[0].toFixed(2)} at end (${os.cpus().length} CPUs)`,
    `JSON: ${path.relative(process.cwd(), opts.out) || opts.out}`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

/** Lazily unmounts whatever is still mounted below `dir` (deepest first). */
async function unmountUnder(dir: string): Promise<void> {
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  let mounts: string[];
  try {
    mounts = (await fs.promises.readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => decode(l.split(' ')[4] ?? ''))
      .filter((m) => m.startsWith(dir + '/'));
  } catch {
    return;
  }
  for (const m of mounts.sort((a, b) => b.length - a.length)) {
    await runCommand('umount', ['-l', m]).catch((e) => process.stderr.write(`umount ${m}: ${(e as Error).message}\n`));
  }
}

main()
  .catch((e) => {
    if (!interrupted) process.stderr.write(`pull-content: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (interrupted) return; // the signal handler cleans up and exits
    process.stderr.write('cleaning up…\n');
    await cleanup.runAll().catch((e) => {
      process.stderr.write(`cleanup: ${(e as Error).message}\n`);
      process.exitCode = 1;
    });
  });
