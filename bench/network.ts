// Network benchmark (issue 13, "Benchmarks"): what a network attachment costs
// and what goes through it, gantry beside podman on the same machine, same
// busybox image from the same loopback registry, in one run, as ratios:
//
//   1. run --rm IMAGE /bin/true: gantry on its default bridge and with
//      --network none (CLI, and the API from a connected client: the daemon's
//      own time), podman on its default network (CNI bridge) and with
//      --network none, `ctr run --rm` for reference; rotated order.
//      Goal: gantry bridge ÷ podman bridge ≤ 1.0.
//   2. stream: BYTES (1 GiB) per connection from a container through a
//      published port (gantry -p, podman -p), from gantry's container IP
//      directly, and over host loopback (the floor): busybox nc -ll running
//      dd in the container (or on the host), a counting socket on the host.
//   3. http: REQUESTS (1,000) short GETs, one connection each, to busybox
//      httpd: gantry -p, the container IP, podman -p, a host loopback floor.
//   4. soak: SOAK (200) run/rm cycles on the bridge with -p, then nothing may
//      be left (IPAM, iptables, veths, netns, records, port table): a leak
//      fails the run (exit 1) after the report is written.
//
// gantryd runs from a copy of dist/ with a bridge and subnet of its own (never
// gantry0), podman with its own storage dirs (its network config is the
// host's /etc/cni/net.d). Everything is removed at the end and on Ctrl-C.
// docs/testing.md, "Benchmarks, not timed tests". Usage: bench/README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RuntimeClient } from '../runtime/client/client';
import { releaseNetworks, testNetwork } from '../test/helpers/daemon';
import { runCommand } from '../test/helpers/proc';
import { freePort } from '../test/helpers/ports';
import { PODMAN_RUN_LIMITS, podmanCli, setupCtr, setupPodman } from './lib/anchorRuntimes';
import { cgroupParentsCreatedHere } from './lib/containerRuntime';
import { snapshotDist } from './lib/daemons';
import { prepareImage } from './lib/fixtures';
import { apiRunAttached, setupGantry } from './lib/gantryRuntimes';
import { cleanup, openBenchSession, requireBinaries, runMain, timed } from './lib/harness';
import { soak, type SoakResult } from './lib/networkSoak';
import {
  httpBatch,
  httpServerCmd,
  HTTP_PORT,
  receiveStream,
  startHostHttpd,
  startHostStreamServer,
  streamServerCmd,
  STREAM_PORT,
  waitHttp,
  waitStream,
} from './lib/networkTraffic';
import { intOption } from './lib/options';
import { paired, rotated, timeTable, type Target } from './lib/rotatedRuns';
import { GANTRY_JS, loadavg, machineInfo, REPO, stats, toolVersions } from './lib/report';

const RUN_ROWS = ['gantry-bridge', 'gantry-none', 'gantry-api-bridge', 'gantry-api-none', 'podman-bridge', 'podman-none', 'ctr'] as const;
type RunRow = (typeof RUN_ROWS)[number];
const PHASES = ['run', 'stream', 'http', 'soak'] as const;
type Phase = (typeof PHASES)[number];

interface Options {
  runs: number;
  warmup: number;
  rows: RunRow[];
  phases: Phase[];
  bytes: number;
  streamRuns: number;
  requests: number;
  httpRuns: number;
  soak: number;
  out: string;
  gantrydArgs: string[];
  profile: boolean;
}

const USAGE = `Usage: node out/bench/network.js [options]

  --runs N            measured run --rm per row (default 10)
  --warmup N          unmeasured iterations first (default 1)
  --rows LIST         run --rm rows, from ${RUN_ROWS.join(',')} (default all)
  --phases LIST       from ${PHASES.join(',')} (default all)
  --bytes N           bytes per stream connection (default 1073741824 = 1 GiB)
  --stream-runs N     streams per target (default 3)
  --requests N        HTTP requests per batch (default 1000)
  --http-runs N       batches per target (default 3)
  --soak N            run/rm cycles of the leak check (default 200)
  --out FILE          JSON report (default test-output/bench/network.json)
  --gantryd-arg ARG   extra gantryd argument (repeatable)
  --profile           gantryd under --cpu-prof (test-output/bench/profiles/network-gantryd.cpuprofile)
`;

function options(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      rows: { type: 'string', default: RUN_ROWS.join(',') },
      phases: { type: 'string', default: PHASES.join(',') },
      bytes: { type: 'string', default: String(2 ** 30) },
      'stream-runs': { type: 'string', default: '3' },
      requests: { type: 'string', default: '1000' },
      'http-runs': { type: 'string', default: '3' },
      soak: { type: 'string', default: '200' },
      out: { type: 'string', default: path.join(REPO, 'test-output/bench/network.json') },
      'gantryd-arg': { type: 'string', multiple: true, default: [] },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const list = <T extends string>(name: string, v: string, allowed: readonly T[]): T[] => {
    const items = v.split(',').map((s) => s.trim());
    for (const i of items) if (!allowed.includes(i as T)) throw new Error(`--${name}: unknown "${i}" (one of ${allowed.join(', ')})`);
    return allowed.filter((a) => items.includes(a));
  };
  return {
    runs: intOption('runs', values.runs, 1),
    warmup: intOption('warmup', values.warmup, 0),
    rows: list('rows', values.rows, RUN_ROWS),
    phases: list('phases', values.phases, PHASES),
    bytes: intOption('bytes', values.bytes, 1),
    streamRuns: intOption('stream-runs', values['stream-runs'], 1),
    requests: intOption('requests', values.requests, 1),
    httpRuns: intOption('http-runs', values['http-runs'], 1),
    soak: intOption('soak', values.soak, 0),
    out: path.resolve(values.out),
    gantrydArgs: values['gantryd-arg'],
    profile: values.profile,
  };
}

async function main(): Promise<void> {
  const opts = options();
  if (!fs.existsSync(GANTRY_JS)) throw new Error(`${GANTRY_JS} is missing; build first: node esbuild.js`);
  if (process.getuid?.() !== 0) throw new Error('run as root: containers, bridges and iptables need it');
  const usePodman = opts.rows.some((r) => r.startsWith('podman')) || opts.phases.some((p) => p === 'stream' || p === 'http');
  const needs = ['docker-registry', 'skopeo', 'runc', 'conmon', 'busybox', 'iptables-save', 'ip'];
  if (usePodman) needs.push('podman');
  if (opts.rows.includes('ctr')) needs.push('containerd', 'ctr', 'containerd-shim-runc-v2');
  requireBinaries(needs);

  const session = await openBenchSession('network', 'gnet', { images: ['small'], tools: opts.rows, warmup: opts.warmup, runs: opts.runs });
  const { work, log, registry } = session;
  cleanup.defer(cgroupParentsCreatedHere(['gantry', 'default', 'libpod_parent/conmon', 'libpod_parent']));
  const image = await prepareImage('small', registry, work);
  const profileDir = path.join(path.dirname(opts.out), 'profiles');
  const dist = await snapshotDist(opts.profile ? path.join(profileDir, 'network-dist') : path.join(work, 'dist'));
  log(`image ${image.ref}; gantry: a copy of dist/ built ${dist.builtAt}`);

  // gantryd with a bridge and subnet of its own; its networks are released after it stops (LIFO).
  const gdir = path.join(work, 'gantry');
  await fs.promises.mkdir(gdir);
  const net = testNetwork(path.join(gdir, 'root'));
  cleanup.defer(() => releaseNetworks(path.join(gdir, 'root'), path.join(gdir, 'state'), net.bridge));
  const profile = opts.profile ? { dir: profileDir, name: 'network-gantryd' } : undefined;
  const g = await setupGantry(gdir, image, {
    gantryJs: dist.gantryJs,
    args: ['--bridge', net.bridge, '--bridge-subnet', net.subnet, ...opts.gantrydArgs],
    profile,
  });
  const client = RuntimeClient.forSocket(g.gantryd.socket);
  cleanup.defer(async () => client.close());
  const gantry = (args: string[]) => timed(process.execPath, [dist.gantryJs, '--socket', g.gantryd.socket, ...args]);
  log(`gantryd ready: bridge ${net.bridge}, subnet ${net.subnet}`);

  const pdir = path.join(work, 'podman');
  let podman: ReturnType<typeof podmanCli> | undefined;
  if (usePodman) {
    await fs.promises.mkdir(pdir);
    await setupPodman(pdir, image);
    podman = podmanCli(pdir);
    const backend = await runCommand('podman', podman.args(['info', '--format', '{{.Host.NetworkBackend}}']), { env: podman.env });
    log(`podman ready (network backend ${backend.stdout.trim()})`);
  }
  const ctr = opts.rows.includes('ctr') ? await setupCtr(path.join(work, 'containerd'), image) : undefined;

  const report: Record<string, unknown> = {
    machine: machineInfo(session.loadAtStart),
    versions: toolVersions({
      podman: ['podman', ['--version']],
      ctr: ['ctr', ['--version']],
      runc: ['runc', ['--version']],
      cni: ['/usr/lib/cni/bridge', ['--version']],
    }),
    gantryBuiltAt: dist.builtAt,
    network: net,
    options: opts,
  };
  const summary: string[] = [];

  if (opts.phases.includes('run')) {
    const p = podman;
    const rows: Record<RunRow, () => Promise<number>> = {
      'gantry-bridge': () => gantry(['run', '--rm', image.ref, '/bin/true']),
      'gantry-none': () => gantry(['run', '--rm', '--network', 'none', image.ref, '/bin/true']),
      'gantry-api-bridge': async () => (await apiRunAttached(client, image.ref)).ms,
      'gantry-api-none': async () => (await apiRunAttached(client, image.ref, { network: 'none' })).ms,
      'podman-bridge': () => timed('podman', p!.args(['run', '--rm', ...PODMAN_RUN_LIMITS, image.ref, '/bin/true']), { env: p!.env }),
      'podman-none': () =>
        timed('podman', p!.args(['run', '--rm', '--network', 'none', ...PODMAN_RUN_LIMITS, image.ref, '/bin/true']), { env: p!.env }),
      ctr: async () => (await ctr!.runRm[0].run(0)).ms,
    };
    let seq = 0;
    log(`run --rm ${image.ref} /bin/true: ${opts.warmup} warm-up + ${opts.runs} runs of ${opts.rows.join(', ')}`);
    const targets = opts.rows.map<Target<{ ms: number }>>((row) => ({
      label: row,
      run: async () => ({ ms: row === 'ctr' ? (await ctr!.runRm[0].run(seq++)).ms : await rows[row]() }),
    }));
    const { samples, iterations } = await rotated(targets, opts.warmup, opts.runs, log, (r) => r.ms.toFixed(0));
    const st = Object.fromEntries(
      Object.entries(samples).map(([k, v]) => [
        k,
        stats(
          v.map((x) => x.ms),
          0,
        ),
      ]),
    );
    const anchors = ['podman-bridge', 'gantry-none', 'podman-none'].filter((a) => st[a]);
    summary.push(`run --rm ${image.ref} /bin/true (${opts.runs} runs):\n${timeTable(st, () => '', anchors)}`);
    const goal = st['gantry-bridge'] && st['podman-bridge'] ? st['gantry-bridge'].medianMs / st['podman-bridge'].medianMs : undefined;
    const pairs = {
      'gantry-bridge/podman-bridge': paired(iterations, 'gantry-bridge', 'podman-bridge'),
      'gantry-bridge/gantry-none': paired(iterations, 'gantry-bridge', 'gantry-none'),
      'podman-bridge/podman-none': paired(iterations, 'podman-bridge', 'podman-none'),
      'gantry-api-bridge/gantry-api-none': paired(iterations, 'gantry-api-bridge', 'gantry-api-none'),
    };
    const attach = (a: string, b: string) => (st[a] && st[b] ? st[a].medianMs - st[b].medianMs : undefined);
    const costs = {
      gantry: attach('gantry-bridge', 'gantry-none'),
      'gantry-api': attach('gantry-api-bridge', 'gantry-api-none'),
      podman: attach('podman-bridge', 'podman-none'),
    };
    summary.push(
      'paired ratios (median of per-iteration ratios, min–max): ' +
        Object.entries(pairs)
          .filter(([, v]) => v)
          .map(([k, v]) => `${k} ${v!.median.toFixed(2)} (${v!.min.toFixed(2)}–${v!.max.toFixed(2)})`)
          .join('; ') +
        '\nthe attachment (bridge − none, medians): ' +
        Object.entries(costs)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k} ${v!.toFixed(0)} ms`)
          .join(', '),
    );
    if (goal !== undefined) summary.push(`goal gantry bridge ÷ podman bridge ≤ 1.0: ${goal.toFixed(2)} — ${goal <= 1 ? 'met' : 'NOT met'}`);
    report.runRm = { stats: st, iterations, paired: pairs, attachmentCostMs: costs, goal };
  }

  // Servers for stream and http: one container per runtime and kind, removed before the soak.
  const servers: { gantry: string[]; podman: string[] } = { gantry: [], podman: [] };
  const gantryServer = async (name: string, cmd: string[], port: number): Promise<{ hostPort: number; ip: string }> => {
    const hostPort = await freePort();
    const c = await client.containers.create(name, { image: image.ref, cmd, publish: [`127.0.0.1:${hostPort}:${port}`] });
    servers.gantry.push(c.id);
    const started = await client.containers.start(c.id);
    const ip = started.networks[0]?.ipAddress;
    if (!ip) throw new Error(`gantry: ${name} has no address on the bridge`);
    return { hostPort, ip };
  };
  const podmanServer = async (name: string, cmd: string[], port: number): Promise<number> => {
    const hostPort = await freePort();
    await runCommand(
      'podman',
      podman!.args(['run', '-d', '--name', name, ...PODMAN_RUN_LIMITS, '-p', `127.0.0.1:${hostPort}:${port}`, image.ref, ...cmd]),
      {
        env: podman!.env,
        timeout: 60_000,
      },
    );
    servers.podman.push(name);
    return hostPort;
  };

  if (opts.phases.includes('stream')) {
    const g1 = await gantryServer('stream', streamServerCmd(opts.bytes), STREAM_PORT);
    const p1 = await podmanServer('stream', streamServerCmd(opts.bytes), STREAM_PORT);
    const floorPort = await freePort();
    await startHostStreamServer(opts.bytes, floorPort);
    const endpoints: [string, string, number][] = [
      ['gantry -p', '127.0.0.1', g1.hostPort],
      ['gantry container IP', g1.ip, STREAM_PORT],
      ['podman -p', '127.0.0.1', p1],
    ];
    for (const [, host, port] of endpoints) await waitStream(host, port);
    endpoints.push(['host loopback', '127.0.0.1', floorPort]);
    log(`stream: ${opts.bytes} bytes per connection, 1 warm-up + ${opts.streamRuns} per target`);
    const targets = endpoints.map<Target<{ ms: number }>>(([label, host, port]) => ({
      label,
      run: async () => {
        const r = await receiveStream(host, port);
        if (r.bytes !== opts.bytes) throw new Error(`${label}: received ${r.bytes} bytes, expected ${opts.bytes}`);
        return { ms: r.ms };
      },
    }));
    const { samples, iterations } = await rotated(
      targets,
      1,
      opts.streamRuns,
      log,
      (r) => `${(((opts.bytes / r.ms) * 1000) / 2 ** 20).toFixed(0)} MiB/s`,
    );
    const st = Object.fromEntries(
      Object.entries(samples).map(([k, v]) => [
        k,
        stats(
          v.map((x) => x.ms),
          opts.bytes,
        ),
      ]),
    );
    summary.push(
      `stream ${opts.bytes} bytes (${opts.streamRuns} runs; ratios are of times, > 1 slower):\n` +
        timeTable(st, (s) => `${(((opts.bytes / s.medianMs) * 1000) / 2 ** 20).toFixed(0)} MiB/s`, ['host loopback', 'podman -p']),
    );
    report.stream = { bytes: opts.bytes, stats: st, iterations };
  }

  if (opts.phases.includes('http')) {
    const g2 = await gantryServer('httpd', httpServerCmd(), HTTP_PORT);
    const p2 = await podmanServer('httpd', httpServerCmd(), HTTP_PORT);
    const floorPort = await freePort();
    await startHostHttpd(path.join(work, 'www'), floorPort);
    const urls: [string, string][] = [
      ['gantry -p', `http://127.0.0.1:${g2.hostPort}/`],
      ['gantry container IP', `http://${g2.ip}:${HTTP_PORT}/`],
      ['podman -p', `http://127.0.0.1:${p2}/`],
      ['host loopback', `http://127.0.0.1:${floorPort}/`],
    ];
    for (const [, url] of urls) await waitHttp(url);
    log(`http: ${opts.requests} GETs per batch (a connection each), 1 warm-up + ${opts.httpRuns} batches per target`);
    const targets = urls.map<Target<{ ms: number }>>(([label, url]) => ({
      label,
      run: async () => ({ ms: await httpBatch(url, opts.requests) }),
    }));
    const { samples, iterations } = await rotated(
      targets,
      1,
      opts.httpRuns,
      log,
      (r) => `${((opts.requests / r.ms) * 1000).toFixed(0)} req/s`,
    );
    const st = Object.fromEntries(
      Object.entries(samples).map(([k, v]) => [
        k,
        stats(
          v.map((x) => x.ms),
          0,
        ),
      ]),
    );
    summary.push(
      `http ${opts.requests} requests (${opts.httpRuns} batches; ratios are of times, > 1 slower):\n` +
        timeTable(st, (s) => `${((opts.requests / s.medianMs) * 1000).toFixed(0)} req/s`, ['host loopback', 'podman -p']),
    );
    report.http = { requests: opts.requests, stats: st, iterations };
  }

  for (const id of servers.gantry) await client.containers.remove(id, true);
  if (servers.podman.length)
    await runCommand('podman', podman!.args(['rm', '-f', '-t', '0', ...servers.podman]), { env: podman!.env, timeout: 60_000 });

  let soakResult: SoakResult | undefined;
  if (opts.phases.includes('soak') && opts.soak > 0) {
    log(`soak: ${opts.soak} run/rm cycles on ${net.bridge} with -p, then the leak check`);
    soakResult = await soak(
      client,
      image.ref,
      { root: path.join(gdir, 'root'), state: path.join(gdir, 'state'), bridge: net.bridge, subnet: net.subnet },
      { cycles: opts.soak, hostPort: await freePort(), log },
    );
    const cyc = stats(soakResult.cycleMs, 0);
    summary.push(
      `soak: ${soakResult.cycles} cycles in ${(soakResult.ms / 1000).toFixed(1)} s (per cycle median ${cyc.medianMs.toFixed(0)} ms, max ${cyc.maxMs.toFixed(0)}), ` +
        `${soakResult.addresses} distinct addresses over the rm -f cycles; ` +
        (soakResult.leaks.length
          ? `LEAKS:\n  - ${soakResult.leaks.join('\n  - ')}`
          : 'nothing leaked (IPAM, iptables, veths, netns, records, ports)'),
    );
    report.soak = soakResult;
  }

  report.loadAtEnd = loadavg();
  if (session.distChangedSinceStart()) summary.push('note: dist/ was rebuilt during the run (this run used its copy taken at start)');
  await fs.promises.mkdir(path.dirname(opts.out), { recursive: true });
  await fs.promises.writeFile(opts.out, JSON.stringify(report, null, 1) + '\n');
  process.stdout.write(
    `\n${summary.join('\n\n')}\n\nload average at start ${session.loadAtStart.join(' ')}, at end ${loadavg().join(' ')}; JSON in ${opts.out}\n`,
  );
  if (soakResult?.leaks.length) throw new Error(`the soak leaked: ${soakResult.leaks.length} problem(s), see above`);
}

runMain('network', main);
