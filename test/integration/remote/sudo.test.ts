// A non-root SSH user with `sudo -n` rights: root's daemon must run only
// root's files. The test host (a netns with its own sshd) gets, in sshd's own
// mount namespace only (nothing changes on this machine): a user of its own
// (/etc/passwd, group, shadow bind-mounted), a sudoers that lets it run
// anything without a password, and fresh temp dirs over /usr/local/lib/gantry,
// /var/lib/gantry and /run/gantry, so root's paths are the real ones and still
// isolated. GANTRY_HOME (sshd SetEnv) is a dir the user owns.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeClient } from '../../../runtime/client/client';
import { background } from '../../../runtime/context';
import { connectRemote } from '../../../runtime/client/ssh/connect';
import type { RemoteRuntime } from '../../../runtime/client/ssh/remote';
import { GANTRY_VERSION } from '../../../runtime/version';
import { requireBuild } from '../../helpers/daemon';
import { pidAlive, runCommand } from '../../helpers/proc';
import { createTestHost, startSshd, type Sshd } from '../../helpers/sshd';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { DIST } from './harness';
import { waitFor } from '../../helpers/waitFor';

const USER = 'gantrysudo';
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
/** Mount points for the namespace-only bind mounts; created here (empty) only when missing, removed after. */
const SYSTEM_DIRS = ['/usr/local/lib/gantry', '/var/lib/gantry', '/run/gantry'];

function freeUid(): number {
  const used = new Set(
    fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => Number(l.split(':')[2])),
  );
  let uid = 64_000;
  while (used.has(uid)) uid++;
  return uid;
}

describe('remote: a non-root user with sudo runs root-owned gantryd files', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let sshd: Sshd;
  let uid: number;
  let gantryHome: string;
  /** The temp dir behind each of SYSTEM_DIRS in sshd's mount namespace. */
  const behind = new Map<string, string>();
  const open = new Set<RemoteRuntime>();

  before(async function () {
    requireBuild();
    if (!fs.existsSync('/usr/bin/sudo')) throw new Error('sudo is not installed: bash scripts/install-system-deps.sh');
    uid = freeUid();
    gantryHome = await makeTempDir('grs', cleanup);
    const home = await makeTempDir('grsh', cleanup);
    fs.chownSync(gantryHome, uid, uid);
    fs.chownSync(home, uid, uid);

    const host = await createTestHost({ cleanup });
    sshd = await startSshd({
      netns: host.netns,
      listenAddress: host.address,
      user: USER,
      extraConfig: [`SetEnv GANTRY_HOME=${gantryHome}`],
      cleanup,
    });
    // sshd reads the user's authorized_keys as that user.
    fs.chmodSync(sshd.dir, 0o711);
    fs.chmodSync(path.join(sshd.dir, 'authorized_keys'), 0o644);

    const inNs = (...argv: string[]) => runCommand('nsenter', ['-t', String(sshd.proc.pid), '-m', '--', ...argv]);
    const etc = await makeTempDir('grse', cleanup);
    const files: Record<string, [string, number]> = {
      passwd: [`${USER}:x:${uid}:${uid}::${home}:/bin/sh\n`, 0o644],
      group: [`${USER}:x:${uid}:\n`, 0o644],
      shadow: [`${USER}:*:19000:0:99999:7:::\n`, 0o640],
      sudoers: [`${USER} ALL=(root) NOPASSWD: ALL\n`, 0o440],
    };
    for (const [name, [line, mode]] of Object.entries(files)) {
      const file = path.join(etc, name);
      fs.writeFileSync(file, fs.readFileSync(`/etc/${name}`, 'utf8') + line, { mode });
      fs.chmodSync(file, mode);
      await inNs('mount', '--bind', file, `/etc/${name}`);
    }
    for (const dir of SYSTEM_DIRS) {
      if (!fs.existsSync(dir)) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
        cleanup.defer(() => fs.rmdirSync(dir));
      }
      const tmp = await makeTempDir('grsd', cleanup);
      fs.chmodSync(tmp, 0o755);
      behind.set(dir, tmp);
      await inNs('mount', '--bind', tmp, dir);
    }
    // Runs before the test host goes: root's daemon is stopped.
    cleanup.defer(async () => {
      for (const r of open) await r.close();
      for (const pid of daemonPids()) {
        process.kill(pid, 'SIGTERM');
        await waitFor(() => !pidAlive(pid), { what: `gantryd ${pid} to stop`, timeoutMs: 10_000 }).catch(() => undefined);
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      }
    });
  });

  /** gantryd processes in the test host's mount namespace. */
  function daemonPids(): number[] {
    const ns = fs.readlinkSync(`/proc/${sshd.proc.pid}/ns/mnt`);
    return fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map(Number)
      .filter((pid) => {
        try {
          const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          // (not the `sudo -n` that started it, which waits for it)
          return (
            path.basename(argv[0]) !== 'sudo' &&
            argv.includes('daemon') &&
            argv.some((a) => a.endsWith('gantry.js')) &&
            fs.readlinkSync(`/proc/${pid}/ns/mnt`) === ns
          );
        } catch {
          return false;
        }
      });
  }

  /** A path as the test host sees it (through its bind mounts), on this machine. */
  function onHost(file: string): string {
    for (const [dir, tmp] of behind) if (file === dir || file.startsWith(`${dir}/`)) return path.join(tmp, path.relative(dir, file));
    return file;
  }

  async function connect(): Promise<RemoteRuntime> {
    const r = await connectRemote(background(), `ssh://${sshd.alias}`, {
      configFile: sshd.sshConfigPath,
      bundleDir: DIST,
      aliveIntervalSec: 1,
      aliveCountMax: 3,
    });
    open.add(r);
    return r;
  }

  it('installs a root-owned copy, runs it with root-owned node, and keeps root’s data out of the user’s dirs', async () => {
    const r = await connect();
    assert.equal(r.facts.uid, uid, 'logged in as the non-root user');
    const pid = r.deploy.daemon.pid;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+0\s/m, 'the daemon runs as root');

    // argv: NODE [V8 flags] GANTRY_JS daemon …
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const js = argv.find((a) => a.endsWith('gantry.js'));
    assert.equal(js, `/usr/local/lib/gantry/${GANTRY_VERSION}/gantry.js`, argv.join(' '));
    const copy = fs.statSync(onHost(js));
    assert.equal(copy.uid, 0);
    assert.equal(copy.mode & 0o777, 0o644);
    assert.equal(fs.statSync(path.dirname(onHost(js))).uid, 0);
    assert.equal(sha256(onHost(js)), sha256(path.join(DIST, 'gantry.js')));
    const node = fs.statSync(`/proc/${pid}/exe`);
    assert.equal(node.uid, 0, 'node is root-owned');
    assert.equal(node.mode & 0o022, 0, 'node is not group/world-writable');
    assert.ok(path.isAbsolute(argv[0]) && fs.statSync(argv[0]).uid === 0, `node by absolute root-owned path: ${argv[0]}`);
    for (const flag of ['--runtime', '--conmon']) {
      const tool = argv[argv.indexOf(flag) + 1];
      assert.ok(tool && path.isAbsolute(tool) && fs.statSync(tool).uid === 0, `${flag} ${tool}`);
    }

    // Root's data and state: /var/lib/gantry and /run/gantry (here: the temp dirs behind them), never GANTRY_HOME.
    const client = new RuntimeClient(r.grpcTarget);
    try {
      const v = await client.system.version({ timeoutMs: 20_000 });
      assert.equal(v.pid, pid);
      assert.equal(v.root, '/var/lib/gantry');
      assert.equal(v.socket, '/run/gantry/gantry.sock');
    } finally {
      client.close();
    }
    assert.ok(fs.readdirSync(behind.get('/var/lib/gantry')!).length > 0, 'root’s data root is used');
    assert.ok(fs.existsSync(path.join(behind.get('/run/gantry')!, 'gantry.sock')));
    assert.deepEqual(
      fs.readdirSync(gantryHome).filter((f) => f === 'root' || f === 'state'),
      [],
      'no root data in GANTRY_HOME',
    );
    for (const f of walk(gantryHome)) assert.equal(fs.lstatSync(f).uid, uid, `${f} in GANTRY_HOME belongs to the user`);
  });

  it('a gantry.js or gantryd.js the user tampers with after deploy is not what root runs', async () => {
    const r = [...open][0];
    const staged = path.join(gantryHome, 'bin', GANTRY_VERSION, 'gantry.js');
    assert.ok(fs.existsSync(staged), 'the user’s staging copy');
    const canary = path.join(await makeTempDir('grsc', cleanup), 'ran-as-root');
    fs.writeFileSync(
      staged,
      `require('fs').writeFileSync(${JSON.stringify(canary)}, String(process.getuid()));\n${fs.readFileSync(staged, 'utf8')}`,
    );
    // Each new connection runs dial-stdio through sudo, and a restarted daemon starts again.
    const client = new RuntimeClient(r.grpcTarget);
    try {
      await client.system.version({ timeoutMs: 20_000 });
    } finally {
      client.close();
    }
    const old = r.deploy.daemon.pid;
    assert.deepEqual(daemonPids(), [old]);
    process.kill(old, 'SIGKILL');
    await waitFor(() => !pidAlive(old), { what: `pid ${old} gone` });
    // The loader and the daemon's bundle it runs (runtime/loader/bundles.ts).
    for (const name of ['gantry.js', 'gantryd.js']) {
      fs.writeFileSync(
        path.join(path.dirname(staged), name),
        `require('fs').writeFileSync(${JSON.stringify(canary)}, String(process.getuid()));\n${fs.readFileSync(path.join(DIST, name), 'utf8')}`,
      );
    }
    const again = await r.ensureDaemon(background());
    assert.equal(again.started, true);
    assert.equal(
      fs.existsSync(canary),
      false,
      `root ran the user's gantry.js (uid ${fs.existsSync(canary) ? fs.readFileSync(canary, 'utf8') : ''})`,
    );
    const argv = fs.readFileSync(`/proc/${again.daemon.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes(`/usr/local/lib/gantry/${GANTRY_VERSION}/gantry.js`), argv.join(' '));
    assert.equal(sha256(onHost(`/usr/local/lib/gantry/${GANTRY_VERSION}/gantry.js`)), sha256(path.join(DIST, 'gantry.js')));
  });
});

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    out.push(full);
    if (e.isDirectory()) out.push(...walk(full));
  }
  return out;
}
