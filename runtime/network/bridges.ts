/**
 * Host-side leftovers of a bridge network that no CNI DEL removes: the
 * bridge plugin never deletes its bridge, and the firewall plugin's
 * same-bridge isolation rules (two per bridge, in CNI-ISOLATION-STAGE-1/2)
 * stay until someone deletes them. gantryd does, when it removes a network.
 * The shared top-level chains (CNI-FORWARD, CNI-ISOLATION-STAGE-*) stay:
 * other networks use them.
 */
import { run } from '../util/exec';

const ISOLATION_COMMENT = 'CNI firewall plugin rules (ingressPolicy: same-bridge)';

/** The two rule specs the firewall plugin (v1.1.x) adds for `bridge`. */
export function isolationRules(bridge: string): string[][] {
  return [
    [
      'CNI-ISOLATION-STAGE-1',
      '-i',
      bridge,
      '!',
      '-o',
      bridge,
      '-m',
      'comment',
      '--comment',
      ISOLATION_COMMENT,
      '-j',
      'CNI-ISOLATION-STAGE-2',
    ],
    ['CNI-ISOLATION-STAGE-2', '-o', bridge, '-m', 'comment', '--comment', ISOLATION_COMMENT, '-j', 'DROP'],
  ];
}

export async function linkExists(name: string): Promise<boolean> {
  const r = await run('ip', ['-j', 'link', 'show', 'dev', name]);
  return r.code === 0;
}

/** Deletes the isolation rules for `bridge` and the bridge itself (each a no-op when gone). */
export async function removeBridge(bridge: string): Promise<void> {
  for (const rule of isolationRules(bridge)) {
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
