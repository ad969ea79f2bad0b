// Files benchmark (issue 17, "Benchmarks"): a container's files through
// gantryd's files service against getting them by running a process in the
// container, and against reading the tree directly (the floor), in one run,
// same container, as ratios. Three phases, each with its own anchors in its
// own rotation (so one phase's garbage does not land in another's rows):
//
//   1. list-types: a 10,000-entry directory as the editor's
//      FileSystemProvider lists it, names and types. files-types
//      (client.files.readDirectoryTypes; run as root, the bench gets local
//      access, docs/files.md "Local access"), files-types-socket (the same
//      with local access off: what a client that cannot open gantryd's
//      descriptors gets, docs/files.md "Listing modes"), gantry-exec
//      (`gantry exec C ls -la DIR`), runc-exec (bare `runc exec ID ls -la
//      DIR`), floor-types (readdir with types of the same directory through
//      /proc/<pid>/root, in this process).
//   2. list: the same directory with every entry lstat'ed, links resolved
//      in-root (`ls -la` parity; the API's full listing). files-api
//      (client.files.readDirectory), gantry-cp (`gantry cp C:DIR -`, a tar
//      of the directory to /dev/null), gantry-exec, runc-exec, floor
//      (readdir + lstat of every entry, back to back as `ls -la` does them).
//   3. read: a 50 MB file. files-api (client.files.read: local access as
//      root), files-socket (the same with local access off: ReadFile and
//      the raw socket), gantry-cp (`gantry cp C:FILE -`), gantry-exec
//      (`gantry exec C cat FILE`), runc-exec (`runc exec ID cat FILE`),
//      floor (reads of the same file through /proc/<pid>/root into one
//      reused buffer, in this process: nothing kept), floor-kept (the file
//      read whole into memory, which is what files-api delivers: every byte
//      in a buffer the reader may keep).
//
// Goals: the provider's rows ≤ 0.2 × gantry-exec and ≤ 2 × their floor
// (files-types ÷ floor-types, read files-api ÷ floor-kept); the full
// listing is held to the same and reported. Rotated order, medians and
// spread, one warm-up; every sample starts with this process's garbage
// collected. gantryd runs from a copy of dist/ with a bridge of its own;
// everything is removed at the end and on Ctrl-C. docs/testing.md,
// "Benchmarks, not timed tests". Usage: bench/README.md.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { RuntimeClient } from '../runtime/client/client';
import { releaseNetworks, testNetwork } from '../test/helpers/daemon';
import { execStdout } from '../test/helpers/containerExec';
import { snapshotDist } from './lib/daemons';
import { prepareImage } from './lib/fixtures';
import { setupGantry } from './lib/gantryRuntimes';
import { checkInterrupted, cleanup, openBenchSession, requireBinaries, runMain } from './lib/harness';
import { intOption } from './lib/options';
import { paired, rotated, timeTable, type Target } from './lib/rotatedRuns';
import { GANTRY_JS, loadavg, machineInfo, REPO, stats, toolVersions } from './lib/report';

const ROWS = [
  'files-api',
  'files-types',
  'files-socket',
  'files-types-socket',
  'gantry-cp',
  'gantry-exec',
  'runc-exec',
  'floor',
  'floor-types',
  'floor-kept',
] as const;
type Row = (typeof ROWS)[number];

const USAGE = `Usage: node out/bench/files.js [options]

  --runs N      measured iterations (default 5)
  --warmup N    unmeasured iterations first (default 1)
  --entries N   entries of the listed directory (default 10000)
  --mb N        size of the read file in MB (default 50)
  --out FILE    JSON report (default test-output/bench/files.json)
  --profile     run gantryd under --cpu-prof (development bundle; the profile
                and the bundle in test-output/bench/profiles/, for profile-summary)
`;

/** A full collection of this process's heap (V8's gc(), reached without --expose-gc on the command line). */
const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  // A forced collection per sample would age every function at each one,
  // and V8 drops the bytecode of functions that are old enough: rows would
  // pay for recompiling what the collections, not their own work, threw away.
  v8.setFlagsFromString('--no-flush-bytecode');
  return vm.runInNewContext('gc') as () => void;
})();

/** Runs a command to completion with its stdout to /dev/null (the bytes are the point, not their keeping); ms. */
function timedToNull(cmd: string, args: string[]): Promise<number> {
  checkInterrupted();
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', fs.openSync('/dev/null', 'w'), 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4096)));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`));
      else resolve(ms);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      entries: { type: 'string', default: '10000' },
      mb: { type: 'string', default: '50' },
      out: { type: 'string', default: path.join(REPO, 'test-output/bench/files.json') },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const opts = {
    runs: intOption('runs', values.runs, 1),
    warmup: intOption('warmup', values.warmup, 0),
    entries: intOption('entries', values.entries, 1),
    mb: intOption('mb', values.mb, 1),
    out: path.resolve(values.out),
    profile: values.profile,
  };
  if (!fs.existsSync(GANTRY_JS)) throw new Error(`${GANTRY_JS} is missing; build first: node esbuild.js`);
  if (process.getuid?.() !== 0) throw new Error('run as root: containers need it');
  requireBinaries(['docker-registry', 'skopeo', 'runc', 'conmon', 'busybox']);

  const session = await openBenchSession('files', 'gfiles', { images: ['small'], tools: [...ROWS], warmup: opts.warmup, runs: opts.runs });
  const { work, log, registry } = session;
  const image = await prepareImage('small', registry, work);
  const profileDir = path.join(path.dirname(opts.out), 'profiles');
  const dist = await snapshotDist(opts.profile ? path.join(profileDir, 'files-dist') : path.join(work, 'dist'), opts.profile);
  const gdir = path.join(work, 'gantry');
  await fs.promises.mkdir(gdir);
  const net = testNetwork(path.join(gdir, 'root'));
  cleanup.defer(() => releaseNetworks(path.join(gdir, 'root'), path.join(gdir, 'state'), net.bridge));
  const g = await setupGantry(gdir, image, {
    gantryJs: dist.gantryJs,
    args: ['--bridge', net.bridge, '--bridge-subnet', net.subnet],
    ...(opts.profile ? { profile: { dir: profileDir, name: 'files-gantryd' } } : {}),
  });
  const client = RuntimeClient.forSocket(g.gantryd.socket);
  cleanup.defer(async () => client.close());
  // What a client without access to gantryd's descriptors gets (a user of a system gantryd).
  const socketClient = RuntimeClient.forSocket(g.gantryd.socket, { localFiles: false });
  cleanup.defer(async () => socketClient.close());
  const runcRoot = path.join(gdir, 'state', 'runc');

  const c = await client.containers.create('files-bench', { image: image.ref, cmd: ['sleep', '3600'], network: 'none' });
  const started = await client.containers.start(c.id);
  const pid = started.pid;
  if (!pid) throw new Error('the container has no init pid');
  const dir = '/tmp/many';
  const file = '/tmp/file';
  await execStdout(client, c.id, [
    'sh',
    '-c',
    `mkdir ${dir} && cd ${dir} && seq 1 ${opts.entries} | xargs touch && dd if=/dev/urandom of=${file} bs=1M count=${opts.mb} 2>/dev/null`,
  ]);
  log(`container ${c.id.slice(0, 12)} (pid ${pid}): ${dir} with ${opts.entries} entries, ${file} of ${opts.mb} MiB`);
  const target = { container: c.id };
  const gantry = (args: string[]) => timedToNull(process.execPath, [dist.gantryJs, '--socket', g.gantryd.socket, ...args]);
  const hostView = (p: string) => `/proc/${pid}/root${p}`;

  const report: Record<string, unknown> = {
    machine: machineInfo(session.loadAtStart),
    versions: toolVersions({ runc: ['runc', ['--version']] }),
    gantryBuiltAt: dist.builtAt,
    options: opts,
  };
  const summary: string[] = [];

  /** The editor's listing of `dir` through `via`; ms. */
  const listTypes = async (via: RuntimeClient): Promise<number> => {
    const t0 = performance.now();
    const entries = await via.files.readDirectoryTypes(target, dir);
    if (entries.length !== opts.entries) throw new Error(`ReadDirectory (names and types) gave ${entries.length} entries`);
    return performance.now() - t0;
  };
  /** `file` read through `via`, every chunk counted; ms. */
  const readAll = async (via: RuntimeClient): Promise<number> => {
    const t0 = performance.now();
    let n = 0;
    for await (const chunk of via.files.read(target, file)) n += chunk.data.length;
    if (n !== opts.mb * 2 ** 20) throw new Error(`ReadFile gave ${n} bytes`);
    return performance.now() - t0;
  };

  /** Each phase's rows, and its goals: files row ÷ gantry-exec, and ÷ its floor. */
  const phases: {
    name: string;
    what: string;
    rows: Partial<Record<Row, () => Promise<number>>>;
    goals: { row: Row; floor: Row }[];
    /** More anchors to divide by in the table. */
    alsoShown?: Row[];
  }[] = [
    {
      name: 'list-types',
      what: `list a ${opts.entries}-entry directory, names and types (the editor's listing)`,
      rows: {
        'files-types': () => listTypes(client),
        'files-types-socket': () => listTypes(socketClient),
        'gantry-exec': () => gantry(['exec', c.id, 'ls', '-la', dir]),
        'runc-exec': () => timedToNull('runc', ['--root', runcRoot, 'exec', c.id, 'ls', '-la', dir]),
        'floor-types': async () => {
          const t0 = performance.now();
          const n = fs.readdirSync(hostView(dir), { withFileTypes: true }).length;
          if (n !== opts.entries) throw new Error(`the floor listed ${n} entries`);
          return performance.now() - t0;
        },
      },
      goals: [{ row: 'files-types', floor: 'floor-types' }],
    },
    {
      name: 'list',
      what: `list a ${opts.entries}-entry directory, every entry lstat'ed (\`ls -la\` parity)`,
      rows: {
        'files-api': async () => {
          const t0 = performance.now();
          const n = (await client.files.readDirectory(target, dir)).length;
          if (n !== opts.entries) throw new Error(`ReadDirectory gave ${n} entries`);
          return performance.now() - t0;
        },
        'gantry-cp': () => gantry(['cp', `${c.id}:${dir}`, '-']),
        'gantry-exec': () => gantry(['exec', c.id, 'ls', '-la', dir]),
        'runc-exec': () => timedToNull('runc', ['--root', runcRoot, 'exec', c.id, 'ls', '-la', dir]),
        // What a fast local lister (`ls -la`) does: readdir, then one lstat
        // per entry, back to back — not one awaited promise per entry, which
        // measured Node's promise round trips (~300 ms) rather than the disk.
        floor: async () => {
          const t0 = performance.now();
          const d = hostView(dir);
          for (const name of fs.readdirSync(d)) fs.lstatSync(`${d}/${name}`);
          return performance.now() - t0;
        },
      },
      goals: [{ row: 'files-api', floor: 'floor' }],
    },
    {
      name: 'read',
      what: `read a ${opts.mb} MiB file`,
      rows: {
        'files-api': () => readAll(client),
        'files-socket': () => readAll(socketClient),
        'gantry-cp': () => gantry(['cp', `${c.id}:${file}`, '-']),
        'gantry-exec': () => gantry(['exec', c.id, 'cat', file]),
        'runc-exec': () => timedToNull('runc', ['--root', runcRoot, 'exec', c.id, 'cat', file]),
        // The fastest way to read it from here: one reused 1 MiB buffer,
        // read after read. (A read stream allocates a buffer per chunk and
        // was slower than files-api once gantryd stopped doing that.)
        floor: async () => {
          const t0 = performance.now();
          const buf = Buffer.allocUnsafeSlow(2 ** 20);
          const fd = fs.openSync(hostView(file), 'r');
          let n = 0;
          try {
            for (let got; (got = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) n += got;
          } finally {
            fs.closeSync(fd);
          }
          if (n !== opts.mb * 2 ** 20) throw new Error(`the floor read ${n} bytes`);
          return performance.now() - t0;
        },
        // The same bytes in memory the reader can keep, as files-api hands
        // them over (an editor keeps them all): the file read whole.
        'floor-kept': async () => {
          const t0 = performance.now();
          const n = fs.readFileSync(hostView(file)).length;
          if (n !== opts.mb * 2 ** 20) throw new Error(`the floor read ${n} bytes`);
          return performance.now() - t0;
        },
      },
      goals: [{ row: 'files-api', floor: 'floor-kept' }],
      alsoShown: ['floor'],
    },
  ];

  const results: Record<string, unknown> = {};
  for (const phase of phases) {
    const rows = ROWS.filter((row) => phase.rows[row]);
    log(`${phase.what}: ${opts.warmup} warm-up + ${opts.runs} runs of ${rows.join(', ')}`);
    // Each sample starts with this process's garbage collected, so that no
    // row pays for what the row before it left (a 50 MiB read's buffers, a
    // full listing's objects).
    const targets = rows.map<Target<{ ms: number }>>((row) => ({
      label: row,
      run: async () => {
        collectGarbage();
        return { ms: await phase.rows[row]!() };
      },
    }));
    const { samples, iterations } = await rotated(targets, opts.warmup, opts.runs, log, (r) => r.ms.toFixed(1));
    const st = Object.fromEntries(
      Object.entries(samples).map(([k, v]) => [
        k,
        stats(
          v.map((x) => x.ms),
          0,
        ),
      ]),
    );
    const anchors = ['gantry-exec', 'runc-exec', ...new Set([...phase.goals.map((g) => g.floor), ...(phase.alsoShown ?? [])])];
    const goals = phase.goals.map(({ row, floor }) => {
      const vsExec = st[row].medianMs / st['gantry-exec'].medianMs;
      const vsFloor = st[row].medianMs / st[floor].medianMs;
      // Per iteration (same moment, same load), less sensitive to drift on a shared machine.
      const pairedExec = paired(iterations, row, 'gantry-exec');
      const line =
        `goal ${row} ÷ gantry-exec ≤ 0.2: ${vsExec.toFixed(2)} — ${vsExec <= 0.2 ? 'met' : 'NOT met'}` +
        (pairedExec ? ` (per iteration ${pairedExec.min.toFixed(2)}–${pairedExec.max.toFixed(2)})` : '') +
        `; ${row} ÷ ${floor} ≤ 2: ${vsFloor.toFixed(2)} — ${vsFloor <= 2 ? 'met' : 'NOT met'}`;
      return { row, floor, vsExec, vsFloor, pairedExec, line };
    });
    summary.push(
      `${phase.what} (${opts.runs} runs; ratios of medians, < 1 faster):\n${timeTable(st, () => '', anchors)}\n` +
        goals.map((g) => g.line).join('\n'),
    );
    results[phase.name] = { stats: st, iterations, goals: goals.map(({ line, ...g }) => (void line, g)) };
  }
  report.results = results;
  await client.containers.remove(c.id, true);

  report.loadAtEnd = loadavg();
  if (session.distChangedSinceStart()) summary.push('note: dist/ was rebuilt during the run (this run used its copy taken at start)');
  await fs.promises.mkdir(path.dirname(opts.out), { recursive: true });
  await fs.promises.writeFile(opts.out, JSON.stringify(report, null, 1) + '\n');
  process.stdout.write(
    `\n${summary.join('\n\n')}\n\nload average at start ${session.loadAtStart.join(' ')}, at end ${loadavg().join(' ')}; JSON in ${opts.out}\n`,
  );
}

runMain('files', main);
