// Views render benchmark: how long the Containers and Images providers take
// to build their trees from one list response, and how many daemon calls a
// refresh makes. Not a timed test: it prints, and the goals are read off.
//
//   node out/bench/views-render.js [--containers 1000] [--images 200] [--runs 200]
//
// The providers run in plain Node against a stand-in `vscode` module
// (lib/vscodeStub.ts) and a fake client whose list calls decode recorded
// (protobuf-encoded, synthetic) responses — the extension's share of a
// refresh: decode, arrange, and one TreeItem per node. The wire and the
// daemon are not in it. Every client call is counted, so a per-item call
// (an inspect per container, say) would show up as calls per refresh > 1.
//
// Goals: under 100 ms per refresh for 1,000 containers and for 200 images;
// exactly one list call per refresh of each view.
import './lib/vscodeStub';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ContainerStatus, HealthStatus, ListContainersResponse, type ContainerSummary } from '../runtime/api/gen/gantry/v1/containers';
import { ListImagesResponse, type ImageSummary } from '../runtime/api/gen/gantry/v1/images';
import type { RuntimeConnection } from '../src/client/connection';
import { ContainersTreeProvider } from '../src/views/containers/containersTreeProvider';
import { ImagesTreeProvider } from '../src/views/images/imagesTreeProvider';
import { REPO, table } from './lib/report';

interface Args {
  containers: number;
  images: number;
  runs: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { containers: 1000, images: 200, runs: 200 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '') as keyof Args;
    if (!(key in args)) throw new Error(`unknown option ${argv[i]} (--containers N, --images N, --runs N)`);
    args[key] = Number(argv[++i]);
    if (!Number.isInteger(args[key]) || args[key] < 1) throw new Error(`--${key} takes a positive integer`);
  }
  return args;
}

const STATES = [
  ContainerStatus.CONTAINER_STATUS_RUNNING,
  ContainerStatus.CONTAINER_STATUS_RUNNING,
  ContainerStatus.CONTAINER_STATUS_EXITED,
  ContainerStatus.CONTAINER_STATUS_EXITED,
  ContainerStatus.CONTAINER_STATUS_CREATED,
  ContainerStatus.CONTAINER_STATUS_PAUSED,
  ContainerStatus.CONTAINER_STATUS_RESTARTING,
];

function hex(n: number, length: number): string {
  return n
    .toString(16)
    .padStart(8, '0')
    .repeat(Math.ceil(length / 8))
    .slice(0, length);
}

/** Containers as `containers.list(all)` returns them: mixed states, health, mounts and labels. */
function containerList(count: number, now: number): Uint8Array {
  const containers: ContainerSummary[] = [];
  for (let i = 0; i < count; i++) {
    const status = STATES[i % STATES.length];
    const started = status !== ContainerStatus.CONTAINER_STATUS_CREATED;
    const stopped = status === ContainerStatus.CONTAINER_STATUS_EXITED || status === ContainerStatus.CONTAINER_STATUS_RESTARTING;
    containers.push({
      id: hex(i * 7919 + 1, 64),
      name: `service-${i}`,
      image: `registry.example.com/team/app-${i % 40}:v${i % 7}`,
      imageName: `registry.example.com/team/app-${i % 40}:v${i % 7}`,
      imageId: `sha256:${hex(i % 40, 64)}`,
      command: ['/bin/sh', '-c', `exec server --port ${8000 + i}`],
      status,
      exitCode: stopped ? i % 3 : 0,
      oomKilled: false,
      createdAt: new Date(now - (i + 10) * 60_000),
      startedAt: started ? new Date(now - (i + 5) * 60_000) : undefined,
      finishedAt: stopped ? new Date(now - i * 30_000) : undefined,
      health: i % 5 === 0 ? HealthStatus.HEALTH_STATUS_HEALTHY : HealthStatus.HEALTH_STATUS_NONE,
      restartCount: i % 4,
      pid: started ? 10_000 + i : 0,
      labels: { 'com.example.team': `team-${i % 9}`, 'com.example.tier': i % 2 ? 'web' : 'worker' },
      mounts: [{ source: `/srv/data/${i}`, destination: '/data', readOnly: false }],
      network: 'none',
      restartPolicy: { name: 'unless-stopped', maximumRetryCount: 0 },
      tty: false,
      error: '',
      stoppedByUser: false,
      namespace: '',
      cri: undefined,
      networks: [],
      ports: [],
      mountPoints: [],
    });
  }
  return ListContainersResponse.encode({ containers }).finish();
}

/** Images as `images.list()` returns them: 40 repositories, some untagged. */
function imageList(count: number, now: number): Uint8Array {
  const images: ImageSummary[] = [];
  for (let i = 0; i < count; i++) {
    const repository = `registry.example.com/team/app-${i % 40}`;
    const untagged = i % 10 === 9;
    const digest = `sha256:${hex(i * 104_729 + 3, 64)}`;
    images.push({
      name: untagged ? `${repository}@${digest}` : `${repository}:v${Math.floor(i / 40)}`,
      repository,
      tag: untagged ? '' : `v${Math.floor(i / 40)}`,
      id: `sha256:${hex(i, 64)}`,
      target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1234, annotations: {}, platform: undefined },
      manifest: undefined,
      platform: { os: 'linux', architecture: 'amd64', variant: '' },
      size: 5_000_000 + i * 1000,
      created: new Date(now - i * 3_600_000).toISOString(),
      snapshotter: 'overlayfs',
      chainId: `sha256:${hex(i + 1, 64)}`,
      recordedAt: new Date(now - i * 60_000),
      labels: {},
    });
  }
  return ListImagesResponse.encode({ images }).finish();
}

/** A connection whose client answers list calls from the recorded bytes and counts every call it gets. */
function fakeConnection(containersBytes: Uint8Array, imagesBytes: Uint8Array) {
  const calls: Record<string, number> = {};
  const count = (api: string, impl: Record<string, (...a: unknown[]) => unknown>) =>
    new Proxy(impl, {
      get:
        (target, method: string) =>
        (...a: unknown[]) => {
          calls[`${api}.${method}`] = (calls[`${api}.${method}`] ?? 0) + 1;
          if (!(method in target)) throw new Error(`the benchmark's client has no ${api}.${method}`);
          return target[method](...a);
        },
    });
  const client = {
    containers: count('containers', { list: async () => ListContainersResponse.decode(containersBytes).containers }),
    images: count('images', { list: async () => ListImagesResponse.decode(imagesBytes).images }),
  };
  const connection = { current: { state: 'connected', socket: '(bench)' }, requireClient: () => client };
  return { connection: connection as unknown as RuntimeConnection, calls };
}

const log = { trace: () => undefined, warn: (m: string) => console.error(m) } as never;

interface Provider<N> {
  refresh(reason: 'manual'): void;
  getChildren(node?: N): Promise<N[]>;
  getTreeItem(node: N): unknown;
}

/** One refresh as VS Code drives it: refresh, list the roots, an item per root, children of the expanded ones. */
async function renderOnce<N>(provider: Provider<N>): Promise<number> {
  provider.refresh('manual');
  let items = 0;
  const walk = async (node?: N): Promise<void> => {
    for (const child of await provider.getChildren(node)) {
      provider.getTreeItem(child);
      items++;
      await walk(child);
    }
  };
  await walk();
  return items;
}

interface Result {
  view: string;
  records: number;
  items: number;
  medianMs: number;
  p95Ms: number;
  decodeMs: number;
  callsPerRefresh: Record<string, number>;
}

async function measure<N>(
  view: string,
  records: number,
  provider: Provider<N>,
  calls: Record<string, number>,
  decode: () => unknown,
  runs: number,
): Promise<Result> {
  for (let i = 0; i < Math.min(20, runs); i++) await renderOnce(provider); // warm-up: JIT, caches
  const before = { ...calls };
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    items = await renderOnce(provider);
    times.push(performance.now() - start);
  }
  const decodeTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    decode();
    decodeTimes.push(performance.now() - start);
  }
  const callsPerRefresh = Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, (v - (before[k] ?? 0)) / runs]));
  return {
    view,
    records,
    items,
    medianMs: quantile(times, 0.5),
    p95Ms: quantile(times, 0.95),
    decodeMs: quantile(decodeTimes, 0.5),
    callsPerRefresh,
  };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const now = Date.now();
  const containersBytes = containerList(args.containers, now);
  const imagesBytes = imageList(args.images, now);
  const { connection, calls } = fakeConnection(containersBytes, imagesBytes);
  const containers = new ContainersTreeProvider(connection, log);
  const images = new ImagesTreeProvider(connection, log);

  const results = [
    await measure('Containers', args.containers, containers, calls, () => ListContainersResponse.decode(containersBytes), args.runs),
    await measure('Images (grouped by repository)', args.images, images, calls, () => ListImagesResponse.decode(imagesBytes), args.runs),
  ];
  const GOAL_MS = 100;
  const rows = [['view', 'records', 'tree items', 'ms/refresh (median)', 'p95', 'of which decode', 'API calls/refresh', 'goal']];
  for (const r of results) {
    const callText = Object.entries(r.callsPerRefresh)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    const totalCalls = Object.values(r.callsPerRefresh).reduce((a, b) => a + b, 0);
    const met = r.medianMs < GOAL_MS && totalCalls === 1;
    rows.push([
      r.view,
      String(r.records),
      String(r.items),
      r.medianMs.toFixed(2),
      r.p95Ms.toFixed(2),
      r.decodeMs.toFixed(2),
      callText,
      met ? 'met' : 'NOT met',
    ]);
  }
  console.log(`views-render: ${args.runs} refreshes per view (after warm-up), Node ${process.version}`);
  console.log(table(rows));
  console.log(`goal: < ${GOAL_MS} ms per refresh and exactly one list call per view's refresh`);

  const out = path.join(REPO, 'test-output/bench/views-render.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ args, node: process.version, goalMs: GOAL_MS, results }, null, 2));
  console.log(`results: ${path.relative(REPO, out)}`);
  containers.dispose();
  images.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
