// A remote Linux host for the SSH tests: a network namespace with its own
// address (createTestHost), a real sshd in it (startSshd) whose sessions get
// GANTRY_HOME=<temp dir> through sshd_config `SetEnv` — the "remote" shares
// this machine's filesystem and must not touch ~/.gantry, /var/lib/gantry or
// /run/gantry — and the checks and cleanup every test needs:
//
//   leftovers()      our ssh clients, remote `dial-stdio`s and sshd sessions still alive
//   removeDaemon()   containers removed, the remote gantryd stopped, runc state,
//                    conmons and mounts under GANTRY_HOME removed
// `ip netns exec` (how startSshd enters the namespace) also gives sshd its own
// mount namespace with a fresh /sys, so the cgroup mounts runc needs are
// missing there; mirrorCgroupMounts() mounts the same hierarchies again in it
// (a real host's sshd sees the machine's own).
//
//   hide(path)       make a binary vanish for this sshd's sessions only: a bind mount
//                    of an empty non-executable file in sshd's own mount namespace
//                    (`ip netns exec` gave it one; it is a slave of ours, so nothing
//                    propagates back to this machine)
//
// The registry forwarder: the test registry listens on 127.0.0.1 of this
// namespace, which the test host cannot reach; a TCP forwarder on the veth's
// host-side address carries it, and the remote daemon gets
// --insecure-registry for that address (only loopback may be plain HTTP).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { RemoteOptions } from '../../../runtime/client/ssh/remote';
import { GANTRY_JS, removeContainers, removeLeftovers, runGantry, type CliOptions, type CliResult } from '../../helpers/daemon';
import { pidAlive, runCommand } from '../../helpers/proc';
import { createTestHost, startSshd, type Sshd, type TestHost } from '../../helpers/sshd';
import { makeTempDir, type Cleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

export const DIST = path.dirname(GANTRY_JS);

export interface RemoteHost {
  host: TestHost;
  sshd: Sshd;
  /** GANTRY_HOME on the remote side (a temp dir here). */
  gantryHome: string;
  /** `ssh://<alias>`: the alias of sshd's client config. */
  target: string;
  /** For connectRemote: the test's ssh config, the dist bundle, 1 s × 3 keepalives. */
  options: RemoteOptions;
  /** Environment for the CLI: GANTRY_SSH_CONFIG and the short keepalives. */
  env: NodeJS.ProcessEnv;
  /** `gantry --host <target> ARGS…` */
  cli(args: readonly string[], opts?: CliOptions): Promise<CliResult>;
  /** Live processes of ours that should not be: described one per line, [] when clean. */
  leftovers(): string[];
  /** Polls leftovers() until empty; fails listing them after `ms`. */
  expectNoLeftovers(ms?: number): Promise<void>;
  /** Pids of gantryd processes running from GANTRY_HOME. */
  daemonPids(): number[];
  removeDaemon(): Promise<void>;
  hide(file: string): Promise<void>;
}

export interface RemoteHostOptions {
  cleanup: Cleanup;
  /** Reuse a test host (several sshds on one host); default: a new one. */
  host?: TestHost;
  /** sshd port; default 22. */
  port?: number;
}

export async function startRemoteHost(opts: RemoteHostOptions): Promise<RemoteHost> {
  const { cleanup } = opts;
  const host = opts.host ?? (await createTestHost({ cleanup }));
  const gantryHome = await makeTempDir('grh', cleanup);
  const sshd = await startSshd({
    netns: host.netns,
    listenAddress: host.address,
    port: opts.port,
    extraConfig: [`SetEnv GANTRY_HOME=${gantryHome}`],
    cleanup,
  });
  await mirrorCgroupMounts(sshd.proc.pid);
  const target = `ssh://${sshd.alias}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GANTRY_SSH_CONFIG: sshd.sshConfigPath,
    GANTRY_SSH_ALIVE_INTERVAL: '1',
    GANTRY_SSH_ALIVE_COUNT: '3',
  };
  delete env.GANTRY_HOST;
  delete env.GANTRY_SOCKET;
  const remoteJs = path.join(gantryHome, 'bin');

  const scan = (): Array<{ pid: number; ppid: number; argv: string[] }> => {
    const out = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (fields[0] === 'Z') continue;
        out.push({ pid: Number(entry), ppid: Number(fields[1]), argv });
      } catch {
        // gone meanwhile
      }
    }
    return out;
  };

  const remote: RemoteHost = {
    host,
    sshd,
    gantryHome,
    target,
    options: { configFile: sshd.sshConfigPath, bundleDir: DIST, aliveIntervalSec: 1, aliveCountMax: 3 },
    env,
    cli: (args, cliOpts = {}) => runGantry(['--host', target, ...args], { env, ...cliOpts }),
    leftovers: () => {
      const found: string[] = [];
      for (const p of scan()) {
        const line = `${p.pid}: ${p.argv.join(' ')}`;
        if (path.basename(p.argv[0] ?? '') === 'ssh' && p.argv.includes(sshd.sshConfigPath)) found.push(`ssh client ${line}`);
        else if (p.argv.includes('dial-stdio') && p.argv.some((a) => a.startsWith(remoteJs))) found.push(`remote dial-stdio ${line}`);
        else if (p.ppid === sshd.proc.pid) found.push(`sshd session ${line}`);
      }
      return found;
    },
    expectNoLeftovers: async (ms = 15_000) => {
      await waitFor(() => remote.leftovers().length === 0, { what: 'no leftovers', timeoutMs: ms, intervalMs: 100 }).catch(() => undefined);
      const left = remote.leftovers();
      if (left.length) throw new Error(`left running:\n${left.join('\n')}`);
    },
    daemonPids: () =>
      scan()
        // node [V8 flags] <remote gantry.js> daemon …
        .filter((p) => {
          const js = p.argv.findIndex((a) => a.startsWith(remoteJs));
          return js > 0 && p.argv[js + 1] === 'daemon';
        })
        .map((p) => p.pid),
    removeDaemon: async () => {
      const socket = path.join(gantryHome, 'state', 'gantry.sock');
      // A path socket can be dialled across network namespaces: no ssh needed to clean up.
      if (fs.existsSync(socket)) await removeContainers(socket);
      for (const pid of remote.daemonPids()) {
        process.kill(pid, 'SIGTERM');
        await waitFor(() => !pidAlive(pid), { what: `gantryd ${pid} to stop`, timeoutMs: 10_000 }).catch(() => undefined);
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      }
      await removeLeftovers(gantryHome);
    },
    hide: async (file) => {
      const empty = path.join(gantryHome, `.hidden-${path.basename(file)}`);
      fs.writeFileSync(empty, '', { mode: 0o644 });
      await runCommand('nsenter', ['-t', String(sshd.proc.pid), '-m', '--', 'mount', '--bind', empty, file]);
    },
  };
  // LIFO: runs before sshd and the namespace go away.
  cleanup.defer(() => remote.removeDaemon());
  return remote;
}

/**
 * A TCP forwarder on `address` (the veth's host side) to 127.0.0.1:`port`;
 * resolves to "address:port" as image references use it.
 */
export async function forwardTo(port: number, address: string, cleanup: Cleanup): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(conn).add(upstream);
    conn.pipe(upstream).pipe(conn);
    const drop = () => {
      conn.destroy();
      upstream.destroy();
      sockets.delete(conn);
      sockets.delete(upstream);
    };
    conn.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  cleanup.defer(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return `${address}:${(server.address() as net.AddressInfo).port}`;
}

/**
 * Mounts this machine's cgroup hierarchies (tmpfs at /sys/fs/cgroup, each v1
 * controller, the cgroup2 `unified` one) in the mount namespace of `pid`.
 * Mounting a v1 hierarchy with the same options attaches the existing one,
 * so both namespaces see the same cgroups.
 */
async function mirrorCgroupMounts(pid: number): Promise<void> {
  const inNs = (...argv: string[]) => runCommand('nsenter', ['-t', String(pid), '-m', '--', ...argv]);
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS…] - FSTYPE SOURCE SUPEROPTS"
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const mountPoint = left.split(' ')[4];
    const [fstype, , superOpts = ''] = right.split(' ');
    if (mountPoint !== '/sys/fs/cgroup' && !mountPoint.startsWith('/sys/fs/cgroup/')) continue;
    const opts = superOpts.split(',').filter((o) => o !== 'rw');
    if (mountPoint === '/sys/fs/cgroup' && fstype === 'tmpfs') {
      await inNs('mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', mountPoint);
    } else if (fstype === 'cgroup' || fstype === 'cgroup2') {
      await inNs('mkdir', '-p', mountPoint);
      const named = opts.some((o) => o.startsWith('name=')) && !opts.some((o) => !o.startsWith('name=') && !o.includes('='));
      const mountOpts = fstype === 'cgroup' ? ['-o', (named ? ['none', ...opts] : opts).join(',')] : [];
      await inNs('mount', '-t', fstype, ...mountOpts, fstype, mountPoint);
    }
  }
}
