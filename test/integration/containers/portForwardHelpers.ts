// Shared by the port-forward tests (client flow, CLI, over SSH).
import * as fs from 'node:fs';

/** A busybox shell script serving `body` with httpd on `listen` ([IP:]PORT). */
export function webScript(body: string, listen: string): string {
  return `mkdir -p /www && echo '${body}' > /www/index.html && exec httpd -f -p ${listen} -h /www`;
}

/** PIDs of port-forward relays (`gantry.js __port-relay`) whose parent is `daemonPid`; with `netns`, only those in that namespace (a file of it). */
export function relayPids(daemonPid: number, netns?: string): number[] {
  const ino = netns === undefined ? undefined : fs.statSync(netns).ino;
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!argv.includes('__port-relay')) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== daemonPid) continue;
      if (ino === undefined || fs.statSync(`/proc/${entry}/ns/net`).ino === ino) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The local ports of the `Forwarding from ADDR:PORT -> REMOTE` lines printed so far, by remote port. */
export function forwardedPorts(stdout: string): Map<number, number> {
  const ports = new Map<number, number>();
  for (const m of stdout.matchAll(/^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$/gm)) ports.set(Number(m[2]), Number(m[1]));
  return ports;
}
