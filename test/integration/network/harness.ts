// Helpers for the networking core's integration tests: a NetworkManager on
// temp root/state dirs with a bridge name and subnet of its own (so test runs
// never share one), servers started inside a namespace with nsenter, and
// snapshots of what the host has (iptables rules, links, files) to compare.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { background } from '../../../runtime/context';
import { createNetworkManager, type NetworkManager, type NetworkSettings } from '../../../runtime/network/index';
import { removeBridge } from '../../../runtime/network/bridges';
import { releaseNetnsDir } from '../../../runtime/network/netns';
import { runCommand, startProcess, type Proc } from '../../helpers/proc';
import { makeTempDir, type Cleanup } from '../../helpers/tmp';

export const ctx = background();

export interface TestNetworking {
  readonly manager: NetworkManager;
  readonly settings: NetworkSettings;
  readonly bridge: string;
  readonly netnsDir: string;
  readonly ipamDir: string;
  /** Another manager on the same dirs: gantryd after a restart. */
  restart(): Promise<NetworkManager>;
}

/** Test subnets come from 10.200.0.0/13 in /24s, starting at a random one. */
const TEST_POOLS = [{ cidr: '10.200.0.0/13', size: 24 }];

export async function startNetworking(cleanup: Cleanup, extra: Partial<NetworkSettings> = {}): Promise<TestNetworking> {
  const dir = await makeTempDir('gt-net', cleanup);
  const id = randomBytes(3).toString('hex');
  const bridge = `gtt${id}`;
  const settings: NetworkSettings = {
    root: path.join(dir, 'root'),
    state: path.join(dir, 'state'),
    defaultBridge: bridge,
    ipamDir: path.join(dir, 'root', 'ipam'),
    subnetPools: TEST_POOLS,
    subnetSkip: randomBytes(2).readUInt16BE(0) % 2048,
    ...extra,
  };
  const manager = createNetworkManager(settings);
  // Teardown, newest first: whatever a failed test left attached, the
  // networks it made (bridges and isolation rules), the netns dir's mount.
  cleanup.defer(async () => {
    await releaseNetnsDir(path.join(settings.state, 'netns'));
  });
  cleanup.defer(async () => {
    const fresh = createNetworkManager(settings);
    for (const a of await fresh.listAttachments()) await fresh.detach(ctx, a.containerId);
    for (const n of await fresh.listNetworks()) {
      if (n.builtin) await removeBridge(n.bridge);
      else if (!n.readOnly) await fresh.removeNetwork(ctx, n.name);
    }
  });
  await manager.init(ctx);
  return {
    manager,
    settings,
    bridge,
    netnsDir: path.join(settings.state, 'netns'),
    ipamDir: settings.ipamDir!,
    restart: async () => {
      const again = createNetworkManager(settings);
      await again.init(ctx);
      return again;
    },
  };
}

export function containerId(): string {
  return randomBytes(32).toString('hex');
}

/** busybox httpd inside the namespace on port 80, serving `body` as /index.html. */
export async function startHttpd(netns: string, body: string, cleanup: Cleanup): Promise<Proc> {
  const root = await makeTempDir('gt-www', cleanup);
  await fs.promises.writeFile(path.join(root, 'index.html'), body);
  const proc = startProcess('nsenter', [`--net=${netns}`, 'busybox', 'httpd', '-f', '-p', '80', '-h', root], { name: 'httpd' });
  cleanup.defer(() => proc.stop());
  await proc.waitFor(
    () =>
      nsRun(netns, ['busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1/']).then(
        (out) => out === body,
        () => false,
      ),
    { what: 'httpd answers inside the namespace' },
  );
  return proc;
}

/** Runs argv inside the namespace; resolves with stdout. */
export async function nsRun(netns: string, argv: readonly string[]): Promise<string> {
  return (await runCommand('nsenter', [`--net=${netns}`, ...argv], { timeout: 20_000 })).stdout;
}

export { httpGet } from '../../helpers/http';

export interface OutsideHost {
  /** The host's end of the link, the address a masqueraded packet leaves with. */
  readonly hostIp: string;
  /** Where the outside host's HTTP server listens (port 8080); it answers with the address it was reached from. */
  readonly url: string;
}

/**
 * Another machine as far as a container can tell: a namespace behind a veth
 * pair on a /30 of its own, with no route to any bridge subnet, so only a
 * packet whose source was rewritten to the host's end gets an answer.
 */
export async function startOutsideHost(cleanup: Cleanup): Promise<OutsideHost> {
  const id = randomBytes(3).toString('hex');
  const ns = `gto${id}`;
  const octet = randomBytes(1)[0] & 0xfc;
  const hostIp = `10.199.${octet}.1`;
  const outsideIp = `10.199.${octet}.2`;
  await runCommand('ip', ['netns', 'add', ns]);
  cleanup.defer(() => runCommand('ip', ['netns', 'del', ns]));
  await runCommand('ip', ['link', 'add', `${ns}h`, 'type', 'veth', 'peer', 'name', `${ns}o`]);
  cleanup.defer(() => runCommand('ip', ['link', 'del', `${ns}h`]).catch(() => undefined));
  await runCommand('ip', ['link', 'set', `${ns}o`, 'netns', ns]);
  await runCommand('ip', ['addr', 'add', `${hostIp}/30`, 'dev', `${ns}h`]);
  await runCommand('ip', ['link', 'set', `${ns}h`, 'up']);
  await runCommand('ip', ['-n', ns, 'addr', 'add', `${outsideIp}/30`, 'dev', `${ns}o`]);
  await runCommand('ip', ['-n', ns, 'link', 'set', `${ns}o`, 'up']);
  const script = "require('http').createServer((q,r)=>r.end(q.socket.remoteAddress)).listen(8080,'0.0.0.0',()=>console.log('ready'))";
  const server = startProcess('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { name: 'outside host' });
  cleanup.defer(() => server.stop());
  await server.waitFor((p) => p.stdout.includes('ready'), { what: 'the outside host listens' });
  return { hostIp, url: `http://${outsideIp}:8080/` };
}

/** The host's first global IPv4 address that is not on a bridge of ours. */
export async function hostAddress(): Promise<string> {
  const links = JSON.parse((await runCommand('ip', ['-j', '-4', 'addr', 'show', 'scope', 'global'])).stdout) as {
    ifname: string;
    addr_info: { local: string }[];
  }[];
  const found = links.find((l) => !l.ifname.startsWith('gt') && l.addr_info.length > 0);
  assert.ok(found, 'this host has a global IPv4 address');
  return found.addr_info[0].local;
}

export interface HostSnapshot {
  /** iptables-save of filter and nat, counters and comments about dates left out. */
  readonly rules: string[];
  readonly links: string[];
  readonly netnsFiles: string[];
  readonly ipamFiles: string[];
}

/** Where a network manager (or a daemon) keeps what snapshot compares. */
export type HostDirs = Pick<TestNetworking, 'bridge' | 'netnsDir' | 'ipamDir'>;

export async function snapshot(t: HostDirs): Promise<HostSnapshot> {
  const save = (await runCommand('iptables-save', [])).stdout;
  const rules = save
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, ''))
    .sort();
  const links = (JSON.parse((await runCommand('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith('veth') || n === t.bridge || n.startsWith('gt-'))
    .sort();
  const list = async (dir: string): Promise<string[]> => {
    const out: string[] = [];
    const walk = async (d: string) => {
      for (const e of await fs.promises.readdir(d, { withFileTypes: true }).catch(() => [])) {
        if (e.isDirectory()) await walk(path.join(d, e.name));
        else out.push(path.relative(dir, path.join(d, e.name)));
      }
    };
    await walk(dir);
    return out.sort();
  };
  return { rules, links, netnsFiles: await list(t.netnsDir), ipamFiles: await list(t.ipamDir) };
}

/** IPs host-local has handed out on `network` (files named after the address). */
export async function allocatedIps(t: HostDirs, network: string): Promise<string[]> {
  const names = await fs.promises.readdir(path.join(t.ipamDir, network)).catch(() => [] as string[]);
  return names.filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)).sort();
}
