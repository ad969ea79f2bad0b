// The leak check of bench/network.ts (issue 13: "nothing leaks after
// thousands of run/rm cycles"; the 200-cycle soak lives here, not in the test
// suite): run/rm cycles on the default bridge with a published port, then
// everything a network attachment makes must be gone — IPs in the IPAM dir,
// iptables rules and chains, veths on the bridge, netns files, attachment
// records, port reservations.
//
// Other jobs share this host and change iptables meanwhile, so rules are
// compared only where they concern this daemon: they mention a soak
// container's ID, an address of the bridge's subnet, or the soak's host port.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeClient } from '../../runtime/client/client';
import { isNotFound } from '../../runtime/errdefs/errdefs';
import { runCommand } from '../../test/helpers/proc';
import { allocatedIps } from '../../test/integration/network/harness';
import { checkInterrupted } from './harness';

export interface SoakDirs {
  /** gantryd's --root and --state. */
  root: string;
  state: string;
  bridge: string;
  /** The default network's subnet, e.g. 10.210.7.0/24. */
  subnet: string;
}

export interface SoakResult {
  cycles: number;
  ms: number;
  /** Per cycle: create → gone. */
  cycleMs: number[];
  /** Distinct addresses handed out to the running (rm -f) cycles: host-local goes round-robin. */
  addresses: number;
  /** Empty when nothing leaked. */
  leaks: string[];
}

/** iptables rules (filter and nat) that concern this daemon's subnet, `ids` or `hostPort`; counters dropped. */
async function rulesOf(dirs: SoakDirs, ids: readonly string[], hostPort: number): Promise<string[]> {
  const chains = ids.flatMap((id) => cniChains('bridge', id));
  const prefix = dirs.subnet.split('.').slice(0, 3).join('.') + '.';
  const out: string[] = [];
  for (const table of ['filter', 'nat']) {
    const save = (await runCommand('iptables-save', ['-t', table])).stdout;
    for (const l of save.split('\n')) {
      if (!l || l.startsWith('#')) continue;
      const rule = l.replace(/\[\d+:\d+\]/, '');
      const addr = rule.includes(prefix) && !rule.includes(dirs.subnet); // one container's address, not the whole subnet
      const id = ids.some((i) => rule.includes(i.slice(0, 12))) || chains.some((c) => rule.includes(c));
      const port = new RegExp(`(--dport|:)${hostPort}\\b`).test(rule);
      if (addr || id || port) out.push(`${table}: ${rule}`);
    }
  }
  return out.sort();
}

/**
 * The per-container chains the plugins name after the network and the
 * container ID (containernetworking/plugins pkg/utils FormatChainName:
 * "CNI-" + prefix + hex sha512(network + id), cut to 28 characters): bridge's
 * masquerade chain and portmap's DNAT chain. An empty chain left behind has
 * no rule naming the container; its name still does.
 */
export function cniChains(network: string, id: string): string[] {
  const hex = createHash('sha512')
    .update(network + id)
    .digest('hex');
  return ['', 'DN-'].map((prefix) => `CNI-${prefix}${hex}`.slice(0, 28));
}

async function entries(dir: string): Promise<string[]> {
  return fs.promises.readdir(dir).catch(() => [] as string[]);
}

/** What an attachment leaves on the host, for the report (and the before/after comparison). */
async function hostState(dirs: SoakDirs, ids: readonly string[], hostPort: number) {
  const netDir = path.join(dirs.root, 'networks');
  const ports = await fs.promises
    .readFile(path.join(netDir, 'ports.json'), 'utf8')
    .then((t) => (JSON.parse(t) as { reservations?: unknown[] }).reservations ?? [])
    .catch(() => [] as unknown[]);
  // The bridge plugin makes the bridge at the first ADD: before it, no bridge and no veths.
  const links = await runCommand('ip', ['-j', 'link', 'show', 'master', dirs.bridge]).then(
    (r) => r.stdout,
    () => '[]',
  );
  const veths = (JSON.parse(links || '[]') as { ifname: string }[]).map((l) => l.ifname);
  return {
    rules: await rulesOf(dirs, ids, hostPort),
    ips: await allocatedIps(
      { bridge: dirs.bridge, netnsDir: path.join(dirs.state, 'netns'), ipamDir: path.join(netDir, 'ipam') },
      'bridge',
    ),
    netns: await entries(path.join(dirs.state, 'netns')),
    attachments: await entries(path.join(netDir, 'attachments')),
    ports: ports.length,
    veths,
  };
}

/**
 * `cycles` run/rm cycles over the API, all publishing 127.0.0.1:hostPort:80
 * (a reservation left behind would fail the next cycle at once): even cycles
 * start `sleep 60` and remove it running (rm -f), odd ones run `/bin/true`
 * with auto-remove (`run --rm`) and wait until it is gone. Then the leak check.
 */
export async function soak(
  client: RuntimeClient,
  ref: string,
  dirs: SoakDirs,
  opts: { cycles: number; hostPort: number; log: (s: string) => void },
): Promise<SoakResult> {
  const before = await hostState(dirs, [], opts.hostPort);
  const ids: string[] = [];
  const addresses = new Set<string>();
  const cycleMs: number[] = [];
  const publish = [`127.0.0.1:${opts.hostPort}:80`];
  const t0 = performance.now();
  for (let i = 0; i < opts.cycles; i++) {
    checkInterrupted();
    const c0 = performance.now();
    if (i % 2 === 0) {
      const c = await client.containers.create('', { image: ref, cmd: ['sleep', '60'], publish });
      ids.push(c.id);
      const started = await client.containers.start(c.id);
      for (const n of started.networks) addresses.add(n.ipAddress);
      await client.containers.remove(c.id, true);
    } else {
      const c = await client.containers.create('', { image: ref, cmd: ['/bin/true'], publish, autoRemove: true });
      ids.push(c.id);
      await client.containers.start(c.id);
      await client.containers.wait(c.id, 'removed').catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    cycleMs.push(performance.now() - c0);
    if ((i + 1) % 50 === 0) opts.log(`  soak: ${i + 1}/${opts.cycles} cycles (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const ms = performance.now() - t0;
  const left = (await client.containers.list(true)).filter((c) => ids.includes(c.id));
  const after = await hostState(dirs, ids, opts.hostPort);
  const leaks: string[] = [];
  if (left.length) leaks.push(`${left.length} soak container(s) still exist: ${left.map((c) => c.id.slice(0, 12)).join(', ')}`);
  if (after.ips.length) leaks.push(`IPAM still holds ${after.ips.length} address(es): ${after.ips.join(', ')}`);
  if (after.netns.length) leaks.push(`netns files left in ${path.join(dirs.state, 'netns')}: ${after.netns.join(', ')}`);
  if (after.attachments.length) leaks.push(`attachment records left: ${after.attachments.join(', ')}`);
  if (after.ports) leaks.push(`the port table still has ${after.ports} reservation(s)`);
  if (after.veths.length) leaks.push(`veths still on ${dirs.bridge}: ${after.veths.join(', ')}`);
  const newRules = after.rules.filter((r) => !before.rules.includes(r));
  if (newRules.length) leaks.push(`iptables rules left (${newRules.length}):\n      ${newRules.slice(0, 20).join('\n      ')}`);
  return { cycles: opts.cycles, ms, cycleMs, addresses: addresses.size, leaks };
}
