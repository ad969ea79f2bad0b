// Connect to Host… as a user with no root and no `sudo -n` (issue 15, "SSH
// hosts"): a real sshd on this machine's loopback, logged in as a real
// unprivileged user this suite creates with a subordinate range of its own
// (test/integration/rootless/testUser.ts) and no sudoers entry. The same
// client code as the extension and `gantry --host ssh://…` deploys into the
// user's own dirs, starts the user's rootless gantryd (RootlessKit) detached,
// and reaches it through dial-stdio with the host's discovery order; a second
// connect reuses it; a user without a subuid range gets the doctor's row and
// fix as the connect error. One daemon serves every case.
//
// The daemon shares the host's network here (/dev/net/tun is 0600 on this
// machine, so RootlessKit runs --net=host), which is how it reaches the test
// registry on 127.0.0.1; containers run with --network none.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeClient } from '../../../runtime/client/client';
import { connectRemote } from '../../../runtime/client/ssh/connect';
import type { RemoteRuntime } from '../../../runtime/client/ssh/remote';
import { background } from '../../../runtime/context';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { GANTRY_VERSION } from '../../../runtime/version';
import { requireBuild, runGantry } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { pidAlive, runCommand } from '../../helpers/proc';
import { startRegistry } from '../../helpers/registry';
import { startSshd, type Sshd } from '../../helpers/sshd';
import { suiteCleanup } from '../../helpers/tmp';
import { retryLocked } from '../../helpers/unixUser';
import { waitFor } from '../../helpers/waitFor';
import { createTestUser, missingTools, processesOf, removeTestUser, statusUid, SUB_IDS, type TestUser } from '../rootless/testUser';
import { DIST } from './harness';

/** Live processes of `uid` whose argv is `node … gantry.js daemon …`, outside the daemon's namespace (the parent of the RootlessKit re-exec). */
function daemonParents(uid: number): number[] {
  const initialUserns = fs.readlinkSync('/proc/self/ns/user');
  return processesOf(uid).filter((pid) => {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const js = argv.findIndex((a) => a.endsWith('gantry.js'));
      return (
        js > 0 &&
        argv[js + 1] === 'daemon' &&
        // (not RootlessKit, whose argv ends with the child's)
        !path.basename(argv[0]).includes('rootlesskit') &&
        fs.readlinkSync(`/proc/${pid}/ns/user`) === initialUserns
      );
    } catch {
      return false;
    }
  });
}

/** useradd leaves the account locked ("!"), which sshd refuses without PAM; "*" allows key logins only. */
async function unlock(user: TestUser): Promise<void> {
  await retryLocked(() => runCommand('usermod', ['-p', '*', user.name]));
}

/** argv of the user's live `dial-stdio` processes. */
function dialStdios(uid: number): string[][] {
  const out: string[][] = [];
  for (const pid of processesOf(uid)) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.includes('dial-stdio')) out.push(argv);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('remote: a user without root or sudo gets a rootless gantryd over SSH', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  let user: TestUser;
  let sshd: Sshd;
  let image: string;
  let target: string;
  let env: NodeJS.ProcessEnv;
  const open = new Set<RemoteRuntime>();
  const options = () => ({ configFile: sshd.sshConfigPath, bundleDir: DIST, aliveIntervalSec: 1, aliveCountMax: 3 });

  async function connect(to = target): Promise<RemoteRuntime> {
    const r = await connectRemote(background(), to, options());
    open.add(r);
    return r;
  }

  before(async function () {
    const missing = missingTools();
    if (missing) {
      console.log(`skipping rootless SSH tests: ${missing}`);
      this.skip();
    }
    requireBuild();
    user = await createTestUser();
    cleanup.defer(() => removeTestUser(user));
    await unlock(user);
    const registry = await startRegistry();
    cleanup.defer(() => registry.stop());
    image = (await pushBusybox(registry, 'sshrootless/busybox')).ref;
    sshd = await startSshd({ user: user.name, cleanup });
    // sshd reads authorized_keys as the user logging in.
    fs.chmodSync(sshd.dir, 0o711);
    fs.chmodSync(path.join(sshd.dir, 'authorized_keys'), 0o644);
    target = `ssh://${sshd.alias}`;
    env = { ...process.env, GANTRY_SSH_CONFIG: sshd.sshConfigPath, GANTRY_SSH_ALIVE_INTERVAL: '1', GANTRY_SSH_ALIVE_COUNT: '3' };
    delete env.GANTRY_HOST;
    delete env.GANTRY_SOCKET;
    // Runs before the user goes: close our connections, then stop its daemon the way a user would (SIGTERM to `gantry daemon`).
    cleanup.defer(async () => {
      for (const r of open) await r.close();
      for (const pid of daemonParents(user.uid)) process.kill(pid, 'SIGTERM');
      await waitFor(() => daemonParents(user.uid).length === 0, { what: 'the rootless gantryd to stop', timeoutMs: 30_000 }).catch(
        () => undefined,
      );
    });
  });

  it('the login has neither root nor sudo -n', async () => {
    const out = (
      await runCommand('ssh', ['-F', sshd.sshConfigPath, sshd.alias, 'id -u; sudo -n true </dev/null >/dev/null 2>&1; echo "sudo=$?"'])
    ).stdout;
    assert.match(out, new RegExp(`^${user.uid}\\n`));
    assert.doesNotMatch(out, /sudo=0/);
  });

  it('deploys into the user’s own dirs and starts its rootless gantryd, detached, logging to its state dir', async () => {
    const r = await connect();
    assert.equal(r.facts.rootless, true);
    assert.equal(r.facts.uid, user.uid);
    assert.equal(r.deploy.started, true);
    assert.equal(r.deploy.gantryJs, path.join(user.home, '.gantry', 'bin', GANTRY_VERSION, 'gantry.js'));
    for (const f of [r.deploy.gantryJs, path.dirname(r.deploy.gantryJs)]) assert.equal(fs.statSync(f).uid, user.uid, f);

    const client = new RuntimeClient(r.grpcTarget);
    try {
      const v = await client.system.version({ timeoutMs: 20_000 });
      assert.equal(v.rootless, true);
      assert.equal(v.rootful, false);
      assert.equal(v.pid, r.deploy.daemon.pid);
      // No XDG_RUNTIME_DIR in this login (no PAM): the daemon's own default under ~/.local/state, found by discovery.
      assert.equal(v.socket, path.join(user.home, '.local', 'state', 'gantry', 'run', 'gantry.sock'));
      assert.equal(r.facts.socket, v.socket);
      assert.equal(v.root, path.join(user.home, '.local', 'share', 'gantry'));
      // The daemon runs as the user outside its namespace (uid 0 inside).
      assert.equal(statusUid(v.pid), user.uid);
      // dial-stdio on the host passes no --socket: it follows the CLI's discovery order.
      const dials = dialStdios(user.uid);
      assert.ok(dials.length > 0, 'a dial-stdio carries this connection');
      for (const argv of dials) assert.ok(!argv.includes('--socket'), argv.join(' '));
    } finally {
      client.close();
    }
    const log = path.join(user.home, '.local', 'state', 'gantry', 'gantryd.log');
    const st = fs.statSync(log);
    assert.deepEqual([st.uid, st.mode & 0o777], [user.uid, 0o600]);
    assert.match(fs.readFileSync(log, 'utf8'), /starting gantryd/);
    // Detached: the ssh session that started it is over, and its parent is not an sshd session.
    const [parent] = daemonParents(user.uid);
    assert.ok(parent, 'the rootless parent runs');
    const sid = fs.readFileSync(`/proc/${parent}/stat`, 'utf8').split(') ')[1].split(' ')[3];
    assert.equal(Number(sid), parent, 'a session of its own (setsid)');
  });

  it('pulls from the registry and runs a container whose output and exit code come back through the CLI', async () => {
    const pull = await runGantry(['--host', target, 'pull', image], { env });
    assert.equal(pull.code, 0, pull.stderr);
    const run = await runGantry(
      ['--host', target, 'run', '--rm', '--network', 'none', image, 'sh', '-c', 'echo "uid=$(id -u) hello"; exit 7'],
      {
        env,
      },
    );
    assert.equal(run.stdout, 'uid=0 hello\n', run.stderr);
    assert.equal(run.code, 7, run.stderr);
    const info = await runGantry(['--host', target, 'info'], { env });
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /Rootless:?\s+yes \(RootlessKit/);
  });

  it('a second connect reuses the running daemon and uploads nothing', async () => {
    const first = [...open][0];
    const r = await connect();
    assert.equal(r.deploy.started, false);
    assert.deepEqual(r.deploy.uploaded, []);
    assert.equal(r.deploy.daemon.pid, first.deploy.daemon.pid);
    assert.equal(daemonParents(user.uid).length, 1, 'still one daemon');
    assert.ok(pidAlive(first.deploy.daemon.pid));
  });

  it('a user without a subordinate range is told so by name, with the fix, and nothing is started', async () => {
    const other = await createTestUser();
    cleanup.defer(() => removeTestUser(other));
    await unlock(other);
    const range = `${other.subStart}-${other.subStart + SUB_IDS - 1}`;
    await retryLocked(() => runCommand('usermod', ['--del-subuids', range, '--del-subgids', range, other.name]));
    const to = `ssh://${other.name}@${sshd.alias}`;

    await assert.rejects(connect(to), (e: unknown) => {
      assert.ok(isGantryError(e), String(e));
      assert.equal(e.kind, 'FailedPrecondition');
      assert.match(e.message, /cannot run a rootless gantryd/);
      assert.match(
        e.message,
        new RegExp(
          `subuid range \\(/etc/subuid\\): no range for ${other.name}; fix: as root: usermod --add-subuids \\d+-\\d+ ${other.name}`,
        ),
      );
      assert.match(e.message, /subgid range \(\/etc\/subgid\)/);
      return true;
    });
    assert.deepEqual(daemonParents(other.uid), [], 'no daemon started');
    // The CLI shows the same error.
    const cli = await runGantry(['--host', to, 'info'], { env });
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /subuid range \(\/etc\/subuid\): no range for/);
  });
});
