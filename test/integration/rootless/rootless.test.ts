// Rootless gantryd (docs/rootless.md), as a real unprivileged user this suite
// creates with a subordinate range of its own: `gantry daemon` started by that
// user goes rootless by itself (RootlessKit), pulls from the test registry and
// runs containers whose root is the user outside; cgroup limits are refused
// with the reason; a state dir another user made is refused.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../../runtime/client/daemonFlags';
import { GANTRY_JS, requireBuild } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { type Proc, runCommand, startProcess } from '../../helpers/proc';
import { freePort } from '../../helpers/ports';
import { startRegistry, type Registry } from '../../helpers/registry';
import { suiteCleanup, type Cleanup } from '../../helpers/tmp';
import { retryLocked } from '../../helpers/unixUser';
import { waitFor } from '../../helpers/waitFor';
import { createTestUser, missingTools, processesOf, removeTestUser, statusUid, SUB_IDS, type TestUser } from './testUser';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/gantry.js ARGS` as `user`, with its environment (so its default socket). */
async function gantryAs(user: TestUser, args: readonly string[], env: NodeJS.ProcessEnv = user.env): Promise<Result> {
  const proc = startProcess(process.execPath, [GANTRY_JS, ...args], {
    uid: user.uid,
    gid: user.gid,
    env,
    cwd: user.home,
    name: `gantry ${args.join(' ')}`,
  });
  const status = await proc.waitForExit();
  return { code: status.code, stdout: proc.stdout, stderr: proc.stderr };
}

async function ok(user: TestUser, args: readonly string[]): Promise<string> {
  const r = await gantryAs(user, args);
  assert.equal(r.code, 0, `gantry ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** As a user starts it: no flags (so its CRI socket too, beside the API socket). */
function startRootless(user: TestUser, env: NodeJS.ProcessEnv = user.env): Proc {
  return startProcess(process.execPath, [...DAEMON_NODE_FLAGS, GANTRY_JS, 'daemon'], {
    uid: user.uid,
    gid: user.gid,
    env,
    cwd: user.home,
    name: 'rootless gantryd',
  });
}

/** Files named `name` under `dir` (the snapshot trees), as the host sees them. */
function findFiles(dir: string, name: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.name === name) out.push(p);
    if (entry.isDirectory() && !entry.isSymbolicLink()) findFiles(p, name, out);
  }
  return out;
}

/** startRootless, stopped by `cleanup`; resolves once the daemon answers on the user's default socket. */
async function startAnswering(user: TestUser, cleanup: Cleanup): Promise<Proc> {
  const daemon = startRootless(user);
  cleanup.defer(async () => {
    if (daemon.exitStatus) return;
    daemon.kill('SIGTERM');
    await daemon.waitForExit();
  });
  await waitFor(async () => (await gantryAs(user, ['info', '--json'])).code === 0, {
    what: 'the rootless gantryd answering on its default socket',
    timeoutMs: 60_000,
    intervalMs: 200,
    describe: () => daemon.stderr,
  });
  return daemon;
}

describe('rootless gantryd (an unprivileged user of its own)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let user: TestUser;
  let registry: Registry;
  let daemon: Proc;
  let image: string;
  const state = () => path.join(user.runtimeDir, 'gantry');
  const dataRoot = () => path.join(user.home, '.local', 'share', 'gantry');

  before(async function () {
    const missing = missingTools();
    if (missing) {
      console.log(`skipping rootless tests: ${missing}`);
      this.skip();
    }
    requireBuild([GANTRY_JS]);
    user = await createTestUser();
    cleanup.defer(() => removeTestUser(user));
    // A host with a `gantry` group, as a shared system daemon's: no host group is mapped in the daemon's namespace, so its sockets must stay the user's.
    if ((await runCommand('getent', ['group', 'gantry']).catch(() => undefined)) === undefined) {
      await retryLocked(() => runCommand('groupadd', ['--system', 'gantry']));
      cleanup.defer(() => retryLocked(() => runCommand('groupdel', ['gantry'])));
    }
    registry = await startRegistry();
    cleanup.defer(() => registry.stop());
    image = (await pushBusybox(registry, 'rootless/busybox')).ref;
    daemon = await startAnswering(user, cleanup);
  });

  it('runs rootless by itself, with its files under the user XDG dirs, and says so in info', async () => {
    const info = JSON.parse(await ok(user, ['info', '--json'])) as Record<string, unknown>;
    assert.equal(info.rootless, true);
    assert.equal(info.rootful, false);
    assert.equal(info.socket, path.join(state(), 'gantry.sock'));
    assert.equal(info.root, dataRoot());
    assert.equal(info.snapshotter, 'overlayfs', 'kernel overlayfs works in the user namespace here (kernel >= 5.11)');
    // /dev/net/tun is 0600 on this machine: the namespace shares the user's network and bridge networking is off, saying why.
    if (!tunUsableBy(user)) {
      assert.equal(info.rootlessNetwork, 'host');
      assert.match(String(info.networkUnavailable), /\/dev\/net\/tun/);
    }
    const st = fs.lstatSync(state());
    assert.equal(st.uid, user.uid);
    assert.equal(st.mode & 0o777, 0o700);
    const sock = fs.lstatSync(path.join(state(), 'gantry.sock'));
    assert.ok(sock.isSocket());
    assert.equal(sock.uid, user.uid, 'the socket, seen from outside the namespace, is the user own');
    assert.equal(sock.mode & 0o007, 0, 'never reachable by others');
    for (const other of ['cri.sock', 'gantry.sock.raw']) {
      const st = fs.lstatSync(path.join(state(), other));
      assert.deepEqual([st.uid, st.gid], [user.uid, user.gid], `${other}: the user's, not shared with the host's gantry group`);
    }
    // The daemon runs as the user outside (uid 0 of its namespace).
    assert.equal(statusUid(daemon.pid), user.uid);
  });

  it('pulls and runs: root inside is the user outside, other IDs are its subordinate range, on disk too', async () => {
    await ok(user, ['pull', image]);
    const id = await ok(user, [
      'run',
      '-d',
      '--network',
      'none',
      image,
      'sh',
      '-c',
      'echo started; touch /made-by-root; touch /made-by-1234; chown 1234:1234 /made-by-1234; exec sleep 1000',
    ]);
    cleanup.defer(() => gantryAs(user, ['rm', '-f', id]).then(() => undefined));
    assert.equal(await ok(user, ['exec', id, 'id', '-u']), '0');
    const pid = Number(await ok(user, ['inspect', id, '--format', '{{.State.Pid}}']));
    assert.ok(pid > 0);
    assert.equal(statusUid(pid), user.uid, `/proc/${pid}/status: container root is the user outside`);
    // A process of uid 1234 inside runs as the subordinate uid subStart+1233 outside.
    const sub = await ok(user, ['run', '-d', '--network', 'none', '-u', '1234', image, 'sleep', '1000']);
    cleanup.defer(() => gantryAs(user, ['rm', '-f', sub]).then(() => undefined));
    const subPid = Number(await ok(user, ['inspect', sub, '--format', '{{.State.Pid}}']));
    assert.equal(statusUid(subPid), user.subStart + 1233, `/proc/${subPid}/status: uid 1234 inside is a subordinate uid outside`);

    await waitFor(async () => (await ok(user, ['logs', id])).includes('started'), { what: 'the container log', intervalMs: 100 });
    // Image files owned by root inside: owned by the user on disk (its layers, unpacked in the namespace).
    const busybox = findFiles(path.join(dataRoot(), 'snapshots'), 'busybox').filter((f) => fs.lstatSync(f).isFile());
    assert.ok(busybox.length > 0, 'the unpacked busybox binary is under the data root');
    for (const f of busybox) assert.equal(fs.lstatSync(f).uid, user.uid, `${f} (root inside) is the user on disk`);
    // Files the container made: root's is the user's, uid 1234's is subStart+1233, in the upper dir.
    const [byRoot] = findFiles(path.join(dataRoot(), 'snapshots'), 'made-by-root');
    const [by1234] = findFiles(path.join(dataRoot(), 'snapshots'), 'made-by-1234');
    assert.ok(byRoot && by1234, 'the files the container wrote are in its upper dir');
    assert.equal(fs.lstatSync(byRoot).uid, user.uid);
    assert.equal(fs.lstatSync(by1234).uid, user.subStart + 1233);
    assert.equal(fs.lstatSync(by1234).gid, user.subStart + 1233);
  });

  it('local access: the user\'s own client reads and lists a container\'s files itself (docs/files.md, "Local access")', async () => {
    const id = await ok(user, ['run', '-d', '--network', 'none', image, 'sh', '-c', 'mkdir /d && seq 1 3000 > /d/n && exec sleep 1000']);
    cleanup.defer(() => gantryAs(user, ['rm', '-f', id]).then(() => undefined));
    await waitFor(async () => (await gantryAs(user, ['exec', id, 'test', '-s', '/d/n'])).code === 0, {
      what: '/d/n written',
      intervalMs: 100,
    });
    // ReadFile and ReadDirectory fail in this client: what it reads and lists comes through local access.
    const client = path.resolve(__dirname, '../../../runtime/client/client.js');
    const script = `
      const { RuntimeClient } = require(${JSON.stringify(client)});
      const c = RuntimeClient.forSocket(process.argv[1]);
      const grpc = c.files.files;
      grpc.readFile = grpc.readDirectory = () => { throw new Error('the daemon was asked for the bytes'); };
      (async () => {
        const { data } = await c.files.readFile({ container: process.argv[2] }, '/d/n');
        const names = (await c.files.readDirectoryTypes({ container: process.argv[2] }, '/d')).map((e) => e.name);
        console.log(JSON.stringify({ lines: data.toString().trim().split('\\n').length, names }));
        c.close();
      })().catch((e) => { console.error(e.message); process.exit(1); });`;
    const proc = startProcess(process.execPath, ['-e', script, path.join(state(), 'gantry.sock'), id], {
      uid: user.uid,
      gid: user.gid,
      env: user.env,
      cwd: user.home,
      name: 'local access as the user',
    });
    const status = await proc.waitForExit();
    assert.equal(status.code, 0, proc.stderr);
    assert.deepEqual(JSON.parse(proc.stdout), { lines: 3000, names: ['n'] });
  });

  it('overlayfs in the namespace (userxattr): a directory of a lower layer can be removed and made again, and diff sees it', async () => {
    const base = await ok(user, ['run', '-d', '--network', 'none', image, 'sh', '-c', 'mkdir -p /d/sub && touch /d/a']);
    await waitFor(async () => (await ok(user, ['inspect', base, '--format', '{{.State.Status}}'])) === 'exited', {
      what: 'the first container exited',
      intervalMs: 100,
    });
    await ok(user, ['commit', base, 'rootless/layered']);
    // Without userxattr the kernel cannot mark /d opaque in a user namespace: rm fails with EIO.
    const r = await gantryAs(user, [
      'run',
      '--name',
      'opaque',
      '--network',
      'none',
      'rootless/layered',
      'sh',
      '-c',
      'rm -rf /d && mkdir /d && touch /d/new && ls /d',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'new');
    const diff = (await ok(user, ['diff', 'opaque'])).split('\n');
    for (const line of ['C /d', 'D /d/a', 'D /d/sub', 'A /d/new']) assert.ok(diff.includes(line), `diff has ${line}: ${diff.join(', ')}`);
    await ok(user, ['rm', '-f', base, 'opaque']);
  });

  it('refuses cgroup limits with the reason instead of ignoring them', async () => {
    for (const flags of [
      ['-m', '64m'],
      ['--cpus', '0.5'],
      ['--pids-limit', '50'],
    ]) {
      const r = await gantryAs(user, ['run', '--rm', '--network', 'none', ...flags, image, 'true']);
      assert.notEqual(r.code, 0, `${flags[0]} must be refused`);
      assert.match(r.stderr, /cgroup/, `${flags[0]}: the error says why (${r.stderr})`);
    }
  });

  it('refuses a bridge run with the fix when the namespace has no network of its own', async function () {
    if (tunUsableBy(user)) this.skip();
    const r = await gantryAs(user, ['run', '--rm', image, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\/dev\/net\/tun/);
  });

  it('rm -f leaves no process and no mount behind', async () => {
    const id = await ok(user, ['run', '-d', '--network', 'host', image, 'sleep', '1000']);
    const pid = Number(await ok(user, ['inspect', id, '--format', '{{.State.Pid}}']));
    assert.ok(statusUid(pid) !== undefined);
    const nsPid = Number(fs.readFileSync(path.join(state(), 'rootlesskit', 'child_pid'), 'utf8'));
    const mounts = () => fs.readFileSync(`/proc/${nsPid}/mountinfo`, 'utf8');
    assert.ok(mounts().includes(id), 'the rootfs is mounted in the daemon namespace while it runs');
    await ok(user, ['rm', '-f', id]);
    await waitFor(() => statusUid(pid) === undefined, { what: `container process ${pid} gone` });
    assert.ok(!mounts().includes(id), 'no mount of the container is left in the daemon namespace');
    assert.ok(!fs.existsSync(path.join(state(), 'tasks', id)), 'its bundle is gone');
  });

  it('stops on SIGTERM: the daemon, RootlessKit and the socket are gone', async () => {
    // Containers started by the earlier tests go first (deferred rm -f would need the daemon).
    for (const line of (await ok(user, ['ps', '-aq'])).split('\n').filter(Boolean)) await ok(user, ['rm', '-f', line]);
    daemon.kill('SIGTERM');
    const status = await daemon.waitForExit();
    assert.equal(status.code, 0, daemon.stderr);
    assert.ok(!fs.existsSync(path.join(state(), 'gantry.sock')));
    await noProcessLeft(user, daemon);
  });

  it('refuses a state dir another user created, and one that is not 0700', async () => {
    const otherRun = path.join(user.base, 'run-taken');
    fs.mkdirSync(otherRun, { mode: 0o777 });
    fs.chmodSync(otherRun, 0o1777);
    // Another user (root here) took <XDG_RUNTIME_DIR>/gantry first.
    fs.mkdirSync(path.join(otherRun, 'gantry'), { mode: 0o700 });
    const env = { ...user.env, XDG_RUNTIME_DIR: otherRun };
    const taken = startRootless(user, env);
    const r = await taken.waitForExit();
    assert.equal(r.code, 1);
    assert.match(taken.stderr, /owned by uid 0, not by uid \d+.*refusing/);
    // Its own, but opened to others: refused too, never chmod-ed back.
    fs.rmSync(path.join(otherRun, 'gantry'), { recursive: true });
    fs.mkdirSync(path.join(otherRun, 'gantry'));
    fs.chownSync(path.join(otherRun, 'gantry'), user.uid, user.gid);
    fs.chmodSync(path.join(otherRun, 'gantry'), 0o755);
    const open = startRootless(user, env);
    assert.equal((await open.waitForExit()).code, 1);
    assert.match(open.stderr, /mode 0755, not 0700/);
    // A symlink to a directory the user owns is refused as well.
    fs.rmSync(path.join(otherRun, 'gantry'), { recursive: true });
    fs.symlinkSync(user.home, path.join(otherRun, 'gantry'));
    const link = startRootless(user, env);
    assert.equal((await link.waitForExit()).code, 1);
    assert.match(link.stderr, /symbolic link/);
  });
});

/** Whether `user` can open /dev/net/tun (its mode; we run as root, so access() would not tell). */
function tunUsableBy(_user: TestUser): boolean {
  try {
    return (fs.statSync('/dev/net/tun').mode & 0o006) === 0o006;
  } catch {
    return false;
  }
}

describe('rootless gantryd with slirp4netns: bridge and -p through RootlessKit', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let user: TestUser;
  let daemon: Proc;
  const tag = 'rootless/slirp:latest';

  before(async function () {
    const missing = missingTools() ?? (fs.existsSync('/usr/bin/slirp4netns') ? undefined : 'slirp4netns is not installed');
    if (missing || !fs.existsSync('/dev/net/tun')) {
      console.log(`skipping rootless slirp4netns tests: ${missing ?? 'no /dev/net/tun'}`);
      this.skip();
    }
    requireBuild([GANTRY_JS]);
    // slirp4netns needs /dev/net/tun usable by the user; this machine's is 0600: open it for the suite, then restore it.
    const mode = fs.statSync('/dev/net/tun').mode & 0o777;
    fs.chmodSync('/dev/net/tun', 0o666);
    cleanup.defer(() => fs.chmodSync('/dev/net/tun', mode));
    user = await createTestUser();
    cleanup.defer(() => removeTestUser(user));
    // The namespace does not reach the host's loopback (--disable-host-loopback), where the test registry is: load an archive.
    const registry = await startRegistry();
    cleanup.defer(() => registry.stop());
    const image = await pushBusybox(registry, 'rootless/busybox');
    const archive = path.join(user.base, 'busybox.tar');
    await runCommand('skopeo', ['copy', '--src-tls-verify=false', `docker://${image.ref}`, `docker-archive:${archive}:${tag}`]);
    fs.chmodSync(archive, 0o644);
    daemon = await startAnswering(user, cleanup);
    await ok(user, ['load', '-i', archive]);
  });

  it('runs with RootlessKit --net=slirp4netns, and containers get the default bridge inside its namespace', async () => {
    const info = JSON.parse(await ok(user, ['info', '--json'])) as Record<string, unknown>;
    assert.equal(info.rootless, true);
    assert.equal(info.rootlessNetwork, 'slirp4netns');
    assert.equal(info.networkUnavailable, '');
    const addr = await ok(user, ['run', '--rm', tag, 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(addr, /eth0\s+inet \d+\.\d+\.\d+\.\d+\//, 'a bridge address on eth0');
  });

  it('-p PORT:80 answers on the user 127.0.0.1:PORT, and rm -f withdraws it', async () => {
    const port = await freePort();
    const id = await ok(user, ['run', '-d', '-p', `${port}:80`, tag, 'httpd', '-f', '-p', '80', '-h', '/etc']);
    const url = `http://127.0.0.1:${port}/hostname`;
    const body = await waitFor(
      async () => {
        const r = await httpGet(url).catch(() => undefined);
        return r?.status === 200 ? r.body : undefined;
      },
      { what: `${url} answering`, intervalMs: 100 },
    );
    assert.equal(body.trim(), id.slice(0, 12), 'the container answers (its hostname is its short ID)');
    await ok(user, ['rm', '-f', id]);
    await assert.rejects(httpGet(url), 'the port is withdrawn with the container');
  });

  it('a SIGKILLed gantryd restarts into the same namespaces: the -p container runs on, its log continues, its port answers', async () => {
    const rkState = path.join(user.runtimeDir, 'gantry', 'rootlesskit');
    const nsPid = Number(fs.readFileSync(path.join(rkState, 'child_pid'), 'utf8'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hostname`;
    // httpd in the background; the container's main process prints what an exec leaves in /tmp/say (after the restart).
    const script = 'httpd -p 80 -h /etc; echo serving; while :; do if [ -e /tmp/say ]; then cat /tmp/say; rm /tmp/say; fi; sleep 0.1; done';
    const id = await ok(user, ['run', '-d', '-p', `${port}:80`, tag, 'sh', '-c', script]);
    // A second one dies while gantryd is down: its port must be withdrawn at the restart.
    const port2 = await freePort();
    const doomed = await ok(user, ['run', '-d', '-p', `${port2}:80`, tag, 'httpd', '-f', '-p', '80', '-h', '/etc']);
    const answers = async () => (await httpGet(url).catch(() => undefined))?.status === 200;
    await waitFor(answers, { what: `${url} answering`, intervalMs: 100 });
    const pidOf = async (c: string) => Number(await ok(user, ['inspect', c, '--format', '{{.State.Pid}}']));
    const pid = await pidOf(id);
    const doomedPid = await pidOf(doomed);
    assert.deepEqual((await exposedPorts(rkState)).sort(), [port, port2].sort(), 'RootlessKit exposes both ports');

    // A crash: the daemon inside the namespaces and the parent outside, both SIGKILLed.
    const inner = childrenOf(daemon.pid).filter((p) => (procCmdline(p) ?? []).includes('--state'));
    assert.equal(inner.length, 1, `one gantryd in the namespaces under ${daemon.pid}`);
    const innerPid = Number(inner[0]);
    process.kill(innerPid, 'SIGKILL');
    daemon.kill('SIGKILL');
    await daemon.waitForExit();
    await waitFor(() => statusUid(innerPid) === undefined, { what: 'the inner gantryd gone' });
    assert.ok(await answers(), 'the port answers while gantryd is down: RootlessKit lives with the namespace holder');
    process.kill(doomedPid, 'SIGKILL');
    await waitFor(() => statusUid(doomedPid) === undefined, { what: 'the second container gone' });

    daemon = await startAnswering(user, cleanup);
    assert.equal(Number(fs.readFileSync(path.join(rkState, 'child_pid'), 'utf8')), nsPid, 'the same namespace holder was joined');
    assert.match(daemon.stderr, /joining the running namespace holder/);
    assert.ok((await ok(user, ['ps', '-q', '--no-trunc'])).split('\n').includes(id), 'ps lists the container');
    assert.equal(await ok(user, ['inspect', id, '--format', '{{.State.Status}} {{.State.Pid}}']), `running ${pid}`);
    assert.equal(await ok(user, ['inspect', doomed, '--format', '{{.State.Status}}']), 'exited');
    await ok(user, ['exec', id, 'sh', '-c', 'echo said-after-restart > /tmp/say']);
    await waitFor(async () => (await ok(user, ['logs', id])).includes('said-after-restart'), {
      what: 'a line printed after the restart in the log',
      intervalMs: 100,
    });
    assert.match(await ok(user, ['logs', id]), /serving[\s\S]*said-after-restart/, 'one log, before and after the restart');
    const body = (await httpGet(url)).body;
    assert.equal(body.trim(), id.slice(0, 12), 'the port still leads to the container');
    assert.deepEqual(await exposedPorts(rkState), [port], "the dead container's port is withdrawn, the live one exposed once");

    await ok(user, ['rm', '-f', id, doomed]);
    await waitFor(() => statusUid(pid) === undefined, { what: `container process ${pid} gone` });
    assert.deepEqual(await exposedPorts(rkState), [], 'rm -f withdraws the port exposed by the gantryd before the crash');
    const mounts = fs.readFileSync(`/proc/${nsPid}/mountinfo`, 'utf8');
    assert.ok(!mounts.includes(id) && !mounts.includes(doomed), 'no mount of the containers is left in the namespaces');
    // Nothing runs in the namespaces any more: a clean stop ends the holder, RootlessKit and slirp4netns too.
    daemon.kill('SIGTERM');
    assert.equal((await daemon.waitForExit()).code, 0, daemon.stderr);
    await noProcessLeft(user, daemon);
  });

  it('a clean stop keeps the holder while a container runs, and ends it once none does', async () => {
    const rkState = path.join(user.runtimeDir, 'gantry', 'rootlesskit');
    daemon = await startAnswering(user, cleanup);
    const nsPid = Number(fs.readFileSync(path.join(rkState, 'child_pid'), 'utf8'));
    const id = await ok(user, ['run', '-d', '--network', 'none', tag, 'sleep', '1000']);
    const pid = Number(await ok(user, ['inspect', id, '--format', '{{.State.Pid}}']));
    daemon.kill('SIGTERM');
    assert.equal((await daemon.waitForExit()).code, 0, daemon.stderr);
    assert.match(daemon.stderr, /containers still run, the namespace holder stays/);
    assert.notEqual(statusUid(nsPid), undefined, 'the holder stays for the running container');
    assert.notEqual(statusUid(pid), undefined, 'the container runs on');
    daemon = await startAnswering(user, cleanup);
    assert.equal(Number(fs.readFileSync(path.join(rkState, 'child_pid'), 'utf8')), nsPid, 'the same holder was joined');
    assert.equal(await ok(user, ['inspect', id, '--format', '{{.State.Status}} {{.State.Pid}}']), `running ${pid}`);
    await ok(user, ['rm', '-f', id]);
    daemon.kill('SIGTERM');
    assert.equal((await daemon.waitForExit()).code, 0, daemon.stderr);
    await noProcessLeft(user, daemon);
  });

  it('trusts no stale pid file: a dead pid, or a live process of the user that is not the holder, makes a new holder', async () => {
    const rkState = path.join(user.runtimeDir, 'gantry', 'rootlesskit');
    // RootlessKit removes its state dir when it exits: made again, as the user's, for each stale file.
    const writePidFile = (pid: number) => {
      fs.mkdirSync(rkState, { recursive: true });
      fs.chownSync(rkState, user.uid, user.gid);
      fs.writeFileSync(path.join(rkState, 'child_pid'), String(pid));
      fs.chownSync(path.join(rkState, 'child_pid'), user.uid, user.gid);
    };
    // A pid that was the user's and is gone.
    const gone = startProcess('/bin/true', [], { uid: user.uid, gid: user.gid, name: 'true' });
    await gone.waitForExit();
    // A live process of the same user, even one named like the holder, in no namespace of RootlessKit's.
    const impostor = startProcess('/usr/bin/catatonit', ['-P'], { uid: user.uid, gid: user.gid, name: 'impostor catatonit -P' });
    cleanup.defer(async () => {
      impostor.kill('SIGKILL');
      await impostor.waitForExit();
    });
    for (const stale of [gone.pid, impostor.pid]) {
      writePidFile(stale);
      daemon = await startAnswering(user, cleanup);
      assert.match(daemon.stderr, /no namespace holder there, starting a new one/);
      const nsPid = Number(fs.readFileSync(path.join(rkState, 'child_pid'), 'utf8'));
      assert.notEqual(nsPid, stale);
      assert.ok((await ok(user, ['run', '--rm', tag, 'true'])) === '', 'containers run in the new namespaces');
      daemon.kill('SIGTERM');
      assert.equal((await daemon.waitForExit()).code, 0, daemon.stderr);
      await waitFor(() => statusUid(nsPid) === undefined, { what: 'the new holder gone after the clean stop' });
    }
    assert.equal(impostor.exitStatus, undefined, 'the unrelated process was left alone');
  });
});

/** The parent ports RootlessKit exposes (`GET /v1/ports` on its API socket). */
function exposedPorts(rkState: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: path.join(rkState, 'api.sock'), path: '/v1/ports' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          // RootlessKit answers null when it exposes nothing.
          resolve(((JSON.parse(body) as { spec: { parentPort: number } }[] | null) ?? []).map((p) => p.spec.parentPort));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
  });
}

/** Waits until no process of the user or its subordinate range runs; if some do, says which, after the daemon's stderr. */
function noProcessLeft(user: TestUser, daemon: Proc): Promise<unknown> {
  const left = () => processesOf(user.uid, { from: user.subStart, count: SUB_IDS });
  return waitFor(() => left().length === 0, {
    what: 'no process of the user or its range left',
    describe: () => [daemon.stderr, ...left().map((p) => procCmdline(p)?.join(' '))],
  });
}

function procCmdline(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
