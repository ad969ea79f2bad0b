/**
 * The host side of gantryd's bridge networks that is not any one
 * container's: the isolation between networks, the masquerade to the
 * outside, and what a removed network leaves behind.
 *
 * Isolation is set up per network, not per container, as Docker's
 * DOCKER-ISOLATION-STAGE-1/2 are: gantryd writes the rules the firewall
 * plugin's `ingressPolicy: same-bridge` would (two per bridge, in
 * CNI-ISOLATION-STAGE-1/2, the same text, so either can remove what the
 * other made) when it starts and when it makes a network, and its conflists
 * no longer ask the plugin to re-check them on every ADD — eight iptables
 * executions off every bridged container start (docs/networking.md).
 *
 * Masquerade is per network too, as Docker's `-s SUBNET ! -o BRIDGE -j
 * MASQUERADE`: the bridge plugin's `ipMasq` would make a chain and three
 * rules per container on ADD and delete them on DEL (nine and six iptables
 * executions, the DEL's on the way out of every `run --rm`).
 *
 * The bridge plugin never deletes its bridge and nobody else deletes the
 * isolation and masquerade rules: gantryd does all three when it removes a
 * network. The shared
 * top-level chains (CNI-FORWARD, CNI-ISOLATION-STAGE-*) stay: other networks
 * use them.
 */
import { run, runOk } from '../util/exec';

const ISOLATION_COMMENT = 'CNI firewall plugin rules (ingressPolicy: same-bridge)';
/** The firewall plugin's own FORWARD rule (its CNI-FORWARD chain accepts each container's traffic). */
const FIREWALL_COMMENT = 'CNI firewall plugin rules';
const STAGE_1 = 'CNI-ISOLATION-STAGE-1';
const STAGE_2 = 'CNI-ISOLATION-STAGE-2';
const FIREWALL_CHAIN = 'CNI-FORWARD';

/** A rule that jumps to `chain`, with the comment the firewall plugin marks its rules with. */
const jumpTo = (chain: string, comment: string): string[] => ['-m', 'comment', '--comment', comment, '-j', chain];

/**
 * Puts the isolation rules for `bridges` in place, adding only what is
 * missing. Traffic that comes in on one of them and leaves on another
 * bridge with such rules is dropped; the host and the outside stay
 * reachable.
 *
 * The jump to STAGE-1 must come before the firewall plugin's jump to
 * CNI-FORWARD, which accepts a container's traffic wherever it goes. The
 * plugin inserts its jump at the top of FORWARD when it is missing, so that
 * jump is made here first when it is missing, and the isolation jump goes
 * above it: the order one plugin ADD with ingressPolicy leaves.
 */
export async function ensureIsolation(bridges: readonly string[]): Promise<void> {
  const ipt = (args: readonly string[]) => runOk('iptables', ['-w', '-t', 'filter', ...args]);
  const present = async (chain: string, spec: readonly string[]) =>
    (await run('iptables', ['-w', '-t', 'filter', '-C', chain, ...spec])).code === 0;
  const listed = (await ipt(['-S'])).stdout.split('\n');
  for (const chain of [FIREWALL_CHAIN, STAGE_1, STAGE_2]) {
    if (listed.includes(`-N ${chain}`)) continue;
    // Another gantryd (or a plugin) may make it at the same moment.
    const made = await run('iptables', ['-w', '-t', 'filter', '-N', chain]);
    if (made.code !== 0 && !/exists/i.test(made.stderr)) throw new Error(`iptables -N ${chain}: ${made.stderr.trim()}`);
  }
  const forward = listed.filter((l) => l.startsWith('-A FORWARD '));
  const isolationAt = forward.findIndex((l) => l.endsWith(`-j ${STAGE_1}`));
  const firewallAt = forward.findIndex((l) => l.endsWith(`-j ${FIREWALL_CHAIN}`));
  if (firewallAt < 0) await ipt(['-I', 'FORWARD', '1', ...jumpTo(FIREWALL_CHAIN, FIREWALL_COMMENT)]);
  if (isolationAt < 0 || firewallAt < 0 || isolationAt > firewallAt) {
    if (isolationAt >= 0) await ipt(['-D', 'FORWARD', ...jumpTo(STAGE_1, ISOLATION_COMMENT)]);
    await ipt(['-I', 'FORWARD', '1', ...jumpTo(STAGE_1, ISOLATION_COMMENT)]);
  }
  // Each bridge's rule goes above its chain's final RETURN, which is appended when missing.
  for (const bridge of bridges) {
    for (const [chain, ...spec] of isolationRules(bridge)) if (!(await present(chain, spec))) await ipt(['-I', chain, '1', ...spec]);
  }
  for (const chain of [STAGE_1, STAGE_2]) {
    const spec = jumpTo('RETURN', ISOLATION_COMMENT);
    if (!(await present(chain, spec))) await ipt(['-A', chain, ...spec]);
  }
}

/** The comment that marks a network's masquerade rule, naming its bridge (so removal finds it whatever the subnet). */
const masqueradeComment = (bridge: string) => `gantry masquerade ${bridge}`;

/**
 * The nat rule that gives traffic from `subnet` leaving by any interface
 * but its own bridge the host's address; multicast is left alone, as the
 * bridge plugin's ipMasq does.
 */
export function masqueradeRule(bridge: string, subnet: string): string[] {
  return [
    'POSTROUTING',
    '-s',
    subnet,
    '!',
    '-o',
    bridge,
    '!',
    '-d',
    '224.0.0.0/4',
    '-m',
    'comment',
    '--comment',
    masqueradeComment(bridge),
    '-j',
    'MASQUERADE',
  ];
}

/** The subnets of `bridge`'s masquerade rules, from `iptables -t nat -S POSTROUTING`. */
async function masqueradedSubnets(bridge: string): Promise<string[]> {
  const listed = (await runOk('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'])).stdout.split('\n');
  const mark = `--comment "${masqueradeComment(bridge)}"`;
  return listed.filter((l) => l.includes(mark)).flatMap((l) => /^-A POSTROUTING -s (\S+) /.exec(l)?.[1] ?? []);
}

/**
 * Masquerades `subnet` on `bridge`, or nothing when `subnet` is undefined
 * (an internal network, or ip-masq=false); a rule for another subnet of the
 * same bridge (the default network given a new one) goes.
 */
export async function ensureMasquerade(bridge: string, subnet: string | undefined): Promise<void> {
  const present = await masqueradedSubnets(bridge);
  for (const old of present) if (old !== subnet) await runOk('iptables', ['-w', '-t', 'nat', '-D', ...masqueradeRule(bridge, old)]);
  if (subnet && !present.includes(subnet)) await runOk('iptables', ['-w', '-t', 'nat', '-A', ...masqueradeRule(bridge, subnet)]);
}

/** The comment that marks a network's forwarding rules, naming its bridge. */
const forwardComment = (bridge: string) => `gantry forward ${bridge}`;

/**
 * The two CNI-FORWARD rules that accept a network's traffic in FORWARD
 * whatever the chain's policy (Docker's `-i BR -j ACCEPT` and `-o BR
 * RELATED,ESTABLISHED`): what the firewall plugin would add per container
 * IP on every ADD (and delete on every DEL), once per network instead.
 */
export function forwardRules(bridge: string): string[][] {
  const comment = ['-m', 'comment', '--comment', forwardComment(bridge)];
  return [
    [FIREWALL_CHAIN, '-i', bridge, ...comment, '-j', 'ACCEPT'],
    [FIREWALL_CHAIN, '-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...comment, '-j', 'ACCEPT'],
  ];
}

/** Puts `bridge`'s forwarding rules in place (after ensureIsolation made CNI-FORWARD and its jump), adding only what is missing. */
export async function ensureForwarding(bridge: string): Promise<void> {
  for (const [chain, ...spec] of forwardRules(bridge)) {
    if ((await run('iptables', ['-w', '-t', 'filter', '-C', chain, ...spec])).code !== 0)
      await runOk('iptables', ['-w', '-t', 'filter', '-A', chain, ...spec]);
  }
}

/** The two rule specs the firewall plugin (v1.1.x) adds for `bridge`. */
export function isolationRules(bridge: string): string[][] {
  return [
    [STAGE_1, '-i', bridge, '!', '-o', bridge, '-m', 'comment', '--comment', ISOLATION_COMMENT, '-j', STAGE_2],
    [STAGE_2, '-o', bridge, '-m', 'comment', '--comment', ISOLATION_COMMENT, '-j', 'DROP'],
  ];
}

export async function linkExists(name: string): Promise<boolean> {
  const r = await run('ip', ['-j', 'link', 'show', 'dev', name]);
  return r.code === 0;
}

/** Deletes the isolation, forwarding and masquerade rules for `bridge` and the bridge itself (each a no-op when gone). */
export async function removeBridge(bridge: string): Promise<void> {
  await ensureMasquerade(bridge, undefined).catch(() => undefined);
  for (const rule of [...isolationRules(bridge), ...forwardRules(bridge)]) {
    // -C then -D: a rule added twice (two firewall ADDs racing) is deleted twice.
    for (let i = 0; i < 8; i++) {
      const check = await run('iptables', ['-w', '-t', 'filter', '-C', ...rule]);
      if (check.code !== 0) break;
      await run('iptables', ['-w', '-t', 'filter', '-D', ...rule]);
    }
  }
  if (await linkExists(bridge)) {
    const r = await run('ip', ['link', 'del', 'dev', bridge]);
    if (r.code !== 0 && (await linkExists(bridge))) throw new Error(`ip link del ${bridge}: ${r.stderr.trim()}`);
  }
}
