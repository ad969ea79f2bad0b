// A real OpenSSH server for the remote-host path, and separate "test hosts"
// (network namespaces with a veth link) to run it on.
//
// startSshd() runs /usr/sbin/sshd -D -e with its own config, host key and a
// generated client key, and writes a matching client config, so
//   ssh -F <sshConfigPath> <alias> true
// works with BatchMode and StrictHostKeyChecking, never touching ~/.ssh.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cleanup, makeTempDir, removeTempDir } from './tmp';
import { freePort } from './ports';
import { Proc, runCommand, startProcess } from './proc';

export interface SshdOptions {
  /** Run inside this network namespace (see createTestHost). */
  netns?: string;
  /** Default 127.0.0.1, or the test host's address. */
  listenAddress?: string;
  /** Default: a free loopback port, or 22 inside a netns. */
  port?: number;
  /** Host alias in the client config; default "gantry-test-<port>". */
  alias?: string;
  /** Login user; default the current user (root here). */
  user?: string;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
  cleanup?: Cleanup;
}

export interface Sshd {
  address: string;
  port: number;
  alias: string;
  user: string;
  /** "ssh-ed25519 AAAA… comment": the server's public host key. */
  hostKeyPub: string;
  clientKeyPath: string;
  knownHostsPath: string;
  /** Client config for `ssh -F` with a Host block for `alias`. */
  sshConfigPath: string;
  dir: string;
  proc: Proc;
  stop(): Promise<void>;
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const address = opts.listenAddress ?? (opts.netns ? undefined : '127.0.0.1');
  if (!address) throw new Error('startSshd: listenAddress is required with netns');
  const port = opts.port ?? (opts.netns ? 22 : await freePort());
  const alias = opts.alias ?? `gantry-test-${port}`;
  const user = opts.user ?? os.userInfo().username;
  const dir = await makeTempDir('gssh');
  const p = (name: string) => path.join(dir, name);
  let hostKeyPub: string;

  try {
    // sshd's privilege-separation dir; Debian creates it only at service start.
    await fs.promises.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    await keygen(p('host_ed25519'), 'gantry-test-host');
    await keygen(p('id_ed25519'), 'gantry-test-client');
    hostKeyPub = (await fs.promises.readFile(p('host_ed25519.pub'), 'utf8')).trim();
    await fs.promises.copyFile(p('id_ed25519.pub'), p('authorized_keys'));

    await fs.promises.writeFile(
      p('sshd_config'),
      [
        `Port ${port}`,
        `ListenAddress ${address}`,
        `HostKey ${p('host_ed25519')}`,
        `PidFile ${p('sshd.pid')}`,
        `AuthorizedKeysFile ${p('authorized_keys')}`,
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UseDNS no',
        'PrintMotd no',
        // The extension forwards gantryd's unix socket over the connection.
        'AllowTcpForwarding yes',
        'AllowStreamLocalForwarding yes',
        'StreamLocalBindUnlink yes',
        'Subsystem sftp internal-sftp',
        'MaxStartups 100',
        'MaxSessions 100',
        'LogLevel INFO',
        ...(opts.extraConfig ?? []),
        '',
      ].join('\n'),
    );

    // ssh keys known_hosts entries for non-22 ports by "[host]:port".
    const knownHost = port === 22 ? address : `[${address}]:${port}`;
    await fs.promises.writeFile(p('known_hosts'), `${knownHost} ${hostKeyPub}\n`);
    await fs.promises.writeFile(
      p('ssh_config'),
      [
        `Host ${alias}`,
        `  HostName ${address}`,
        `  Port ${port}`,
        `  User ${user}`,
        `  IdentityFile ${p('id_ed25519')}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${p('known_hosts')}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        '  BatchMode yes',
        '  ConnectTimeout 10',
        '',
      ].join('\n'),
    );
  } catch (e) {
    await removeTempDir(dir);
    throw e;
  }

  const sshdArgs = ['-D', '-e', '-f', p('sshd_config')];
  // `ip netns exec` execs sshd in place, so the pid we hold is sshd's.
  const proc = opts.netns
    ? startProcess('ip', ['netns', 'exec', opts.netns, '/usr/sbin/sshd', ...sshdArgs], { name: `sshd ${opts.netns}` })
    : startProcess('/usr/sbin/sshd', sshdArgs, { name: `sshd :${port}` });
  try {
    await proc.waitFor((pr) => pr.stderr.includes(`Server listening on ${address} port ${port}`), {
      what: `sshd listening on ${address}:${port}`,
      timeout: 20_000,
    });
  } catch (e) {
    await proc.stop();
    await removeTempDir(dir);
    throw e;
  }

  let stopped = false;
  const sshd: Sshd = {
    address,
    port,
    alias,
    user,
    hostKeyPub,
    clientKeyPath: p('id_ed25519'),
    knownHostsPath: p('known_hosts'),
    sshConfigPath: p('ssh_config'),
    dir,
    proc,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await proc.stop();
      await removeTempDir(dir);
    },
  };
  opts.cleanup?.defer(sshd.stop);
  return sshd;
}

async function keygen(file: string, comment: string): Promise<void> {
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

// ---- test hosts: a network namespace joined to this host by a veth pair ----

export interface TestHost {
  /** Network namespace name (for startSshd({ netns })). */
  netns: string;
  /** The test host's address, inside the namespace. */
  address: string;
  /** This machine's end of the link. */
  localAddress: string;
  /** Take the link down inside the namespace: the host vanishes from the network. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Kill what still runs in the namespace, delete the link and the namespace. */
  destroy(): Promise<void>;
}

const liveHosts = new Set<{ netns: string; vethLocal: string }>();
// If the run dies, do not leave namespaces and links behind.
process.on('exit', () => {
  for (const h of liveHosts) removeHostSync(h.netns, h.vethLocal);
});

/**
 * Creates netns "gt-XXXXXX" and a veth pair with a private /24 from
 * 10.250.0.0/16 (local end .1, test host .2). Only this namespace pair ever
 * uses the address, and the link stays up on our side even when down() is
 * called, so traffic to it never leaves the machine.
 */
export async function createTestHost(opts: { cleanup?: Cleanup } = {}): Promise<TestHost> {
  const id = crypto.randomBytes(3).toString('hex');
  const netns = `gt-${id}`;
  const vethLocal = `gt${id}h`; // interface names: at most 15 bytes
  const vethNs = `gt${id}n`;
  const subnet = await unusedSubnet();
  const localAddress = `${subnet}.1`;
  const address = `${subnet}.2`;
  const ip = (...args: string[]) => runCommand('ip', args);
  const record = { netns, vethLocal };

  await ip('netns', 'add', netns);
  liveHosts.add(record);
  try {
    await ip('link', 'add', vethLocal, 'type', 'veth', 'peer', 'name', vethNs);
    await ip('link', 'set', vethNs, 'netns', netns);
    await ip('addr', 'add', `${localAddress}/24`, 'dev', vethLocal);
    await ip('link', 'set', vethLocal, 'up');
    await ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', vethNs);
    await ip('-n', netns, 'link', 'set', vethNs, 'up');
    await ip('-n', netns, 'link', 'set', 'lo', 'up');
  } catch (e) {
    removeHostSync(netns, vethLocal);
    liveHosts.delete(record);
    throw e;
  }

  let destroyed = false;
  const host: TestHost = {
    netns,
    address,
    localAddress,
    down: async () => void (await ip('-n', netns, 'link', 'set', vethNs, 'down')),
    up: async () => void (await ip('-n', netns, 'link', 'set', vethNs, 'up')),
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      // Only processes started in our own namespace can be in it.
      const pids = (await ip('netns', 'pids', netns)).stdout.split('\n').filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      removeHostSync(netns, vethLocal);
      liveHosts.delete(record);
    },
  };
  opts.cleanup?.defer(host.destroy);
  return host;
}

/** "10.250.N" for a 10.250.N.0/24 not already used by any address or route here. */
async function unusedSubnet(): Promise<string> {
  const inUse = (await runCommand('ip', ['-4', '-o', 'addr', 'show'])).stdout + (await runCommand('ip', ['-4', 'route'])).stdout;
  for (let i = 0; i < 100; i++) {
    const prefix = `10.250.${crypto.randomInt(0, 256)}`;
    if (!inUse.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('createTestHost: no free 10.250.N.0/24');
}

function removeHostSync(netns: string, vethLocal: string): void {
  // Deleting one end of a veth pair deletes both.
  spawnSync('ip', ['link', 'del', vethLocal], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
}
