// Helpers for the container networking tests: a gRPC client of
// gantry.v1.Networks (the CLI wrappers come with the client rewrite), the
// daemon's network dirs for host snapshots, and a busybox httpd container.
import * as path from 'node:path';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import type { RuntimeClient } from '../../../runtime/client';
import type { ContainerConfig, ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import {
  NetworksClient,
  type CreateNetworkResponse,
  type InspectNetworkResponse,
  type ListNetworksResponse,
  type NetworkInfo,
  type PruneNetworksResponse,
  type RemoveNetworkResponse,
} from '../../../runtime/api/gen/gantry/v1/networks';
import { testNetwork, type TestDaemon } from '../../helpers/daemon';
import type { Cleanup } from '../../helpers/tmp';
import { httpGet, snapshot, type HostDirs, type HostSnapshot } from '../network/harness';
import { runCommand } from '../../helpers/proc';
import { eventually } from './harness';

type Callback<Res> = (e: ServiceError | null, res: Res) => void;

function promised<Res>(fn: (cb: Callback<Res>) => unknown): Promise<Res> {
  return new Promise<Res>((resolve, reject) => fn((e, res) => (e ? reject(e) : resolve(res))));
}

/** Promise-style calls on the generated client, closed by `cleanup`. */
export function networksApi(daemon: TestDaemon, cleanup: Cleanup) {
  const client = new NetworksClient(`unix:${daemon.socket}`, credentials.createInsecure());
  cleanup.defer(() => client.close());
  return {
    create: async (name: string, opts: { subnet?: string; internal?: boolean } = {}): Promise<NetworkInfo> => {
      const req = { name, subnet: opts.subnet ?? '', gateway: '', internal: opts.internal ?? false, labels: {}, options: {} };
      return (await promised<CreateNetworkResponse>((cb) => client.create(req, cb))).network!;
    },
    list: async (): Promise<NetworkInfo[]> => (await promised<ListNetworksResponse>((cb) => client.list({}, cb))).networks,
    inspect: async (name: string): Promise<NetworkInfo> =>
      (await promised<InspectNetworkResponse>((cb) => client.inspect({ name }, cb))).network!,
    remove: async (name: string): Promise<string> => (await promised<RemoveNetworkResponse>((cb) => client.remove({ name }, cb))).id,
    prune: async (): Promise<string[]> => (await promised<PruneNetworksResponse>((cb) => client.prune({}, cb))).removed,
  };
}

/**
 * What this daemon's containers have on the host — iptables rules naming its
 * bridge, an address of its subnet or one of its containers (from the event
 * log), the links on its bridge, its namespace files and IPAM files — so
 * other test runs on the same host (other daemons, the network core's tests)
 * do not show up in a comparison.
 */
export async function daemonSnapshot(daemon: TestDaemon, client: RuntimeClient): Promise<HostSnapshot> {
  const { bridge, subnet } = testNetwork(daemon.root);
  const prefix = `${subnet.split('.').slice(0, 3).join('.')}.`;
  const ids: string[] = [];
  for await (const m of client.events.subscribe({ since: 0, topics: ['/containers/create'], noFollow: true })) {
    if (m.kind?.$case === 'event') ids.push(m.kind.value.id);
  }
  const whole = await snapshot(daemonDirs(daemon));
  const ours = (line: string) => line.includes(bridge) || line.includes(prefix) || ids.some((id) => line.includes(id));
  const onBridge = await runCommand('ip', ['-j', 'link', 'show', 'master', bridge]).then(
    (r) => (JSON.parse(r.stdout || '[]') as { ifname: string }[]).map((l) => l.ifname),
    () => [] as string[],
  );
  return {
    rules: whole.rules.filter((l) => l.startsWith('-A') && ours(l)),
    links: [...whole.links.filter((l) => l === bridge), ...onBridge].sort(),
    netnsFiles: whole.netnsFiles,
    ipamFiles: whole.ipamFiles,
  };
}

/** The daemon's bridge, namespace and IPAM dirs (what host snapshots compare). */
export function daemonDirs(daemon: TestDaemon): HostDirs {
  return {
    bridge: testNetwork(daemon.root).bridge,
    netnsDir: path.join(daemon.state, 'netns'),
    ipamDir: path.join(daemon.root, 'networks', 'ipam'),
  };
}

/** busybox httpd on port 80 serving `body`, started; resolves once it answers on 127.0.0.1:hostPort. */
export async function startWeb(
  client: RuntimeClient,
  image: string,
  body: string,
  config: Partial<ContainerConfig> & { publish: string[] },
  hostPort?: number,
): Promise<ContainerSummary> {
  const script = `mkdir -p /www && echo '${body}' > /www/index.html && exec httpd -f -p 80 -h /www`;
  const created = await client.containers.create('', { image, cmd: ['sh', '-c', script], ...config });
  await client.containers.start(created.id);
  if (hostPort !== undefined) {
    await eventually(`httpd answering on 127.0.0.1:${hostPort}`, () =>
      httpGet(`http://127.0.0.1:${hostPort}/`).then(
        (b) => (b === `${body}\n` ? true : undefined),
        () => undefined,
      ),
    );
  }
  return created;
}

/** GET that resolves to undefined instead of failing (for "no longer answers"). */
export function tryGet(url: string): Promise<string | undefined> {
  return httpGet(url).then(
    (b) => b,
    () => undefined,
  );
}

/**
 * One run on the default network, so its own parts — the bridge (the plugin
 * makes it at the first ADD), its isolation rules, host-local's lock file —
 * exist before a test snapshots the host: what a test compares is what its
 * containers leave, not what the network keeps.
 */
export async function warmBridge(client: RuntimeClient, image: string): Promise<void> {
  const c = await client.containers.create('', { image, cmd: ['true'] });
  await client.containers.start(c.id);
  await client.containers.wait(c.id);
  await client.containers.remove(c.id, true);
}
