// The rootful daemon as a system service (docs/service.md): the units
// install-service writes pass systemd-analyze verify, its group is created and
// removed, and gantryd serves on a socket systemd passes (LISTEN_FDS), run for
// real under systemd-socket-activate.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DAEMON_NODE_FLAGS, daemonEnvWords } from '../../../runtime/client/daemonFlags';
import { DAEMON_BUNDLE, RUNTIME_FILES } from '../../../runtime/loader/bundles';
import { GANTRY_JS, removeLeftovers, requireBuild, runGantry, testNetwork } from '../../helpers/daemon';
import { runCommand, startProcess } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const which = (tool: string) =>
  (process.env.PATH ?? '')
    .split(':')
    .map((d) => path.join(d, tool))
    .find((f) => fs.existsSync(f));

describe('system service (install-service, socket activation)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
    requireBuild([GANTRY_JS]);
  });

  it('install-service writes units that systemd-analyze verifies, creates the group; uninstall-service reverses both', async function () {
    const root = await makeTempDir('gsu', cleanup);
    const group = `gt${randomBytes(3).toString('hex')}`;
    cleanup.defer(() => runCommand('groupdel', [group]).catch(() => undefined));
    const r = await runGantry(['install-service', '--root', root, '--group', group, '--gantry', GANTRY_JS, '--', '--log-level', 'debug']);
    assert.equal(r.code, 0, r.stderr);
    const dir = path.join(root, 'etc/systemd/system');
    const service = fs.readFileSync(path.join(dir, 'gantryd.service'), 'utf8');
    const socket = fs.readFileSync(path.join(dir, 'gantryd.socket'), 'utf8');
    assert.ok(
      service.includes(
        `ExecStart=${process.execPath} ${DAEMON_NODE_FLAGS.join(' ')} ${GANTRY_JS} daemon --socket /run/gantry/gantry.sock --group ${group} --log-level debug\n`,
      ),
      service,
    );
    assert.ok(service.includes(`Environment=${daemonEnvWords().join(' ')}\n`), service);
    assert.match(service, /^KillMode=process$/m);
    assert.match(socket, /^ListenStream=\/run\/gantry\/gantry\.sock$/m);
    assert.match(socket, /^SocketMode=0660$/m);
    assert.match(socket, new RegExp(`^SocketGroup=${group}$`, 'm'));
    assert.match((await runCommand('getent', ['group', group])).stdout, new RegExp(`^${group}:`));
    assert.match(r.stdout, new RegExp(`usermod -aG ${group} USER`));
    assert.match(r.stdout, /act as root/);
    if (which('systemd-analyze')) {
      // Errors and warnings go to stderr; a clean unit prints nothing.
      const verify = await runCommand('systemd-analyze', ['verify', path.join(dir, 'gantryd.socket'), path.join(dir, 'gantryd.service')]);
      assert.equal(verify.stderr.trim(), '');
    } else {
      this.test!.title += ' (systemd-analyze not installed: not verified)';
    }
    const u = await runGantry(['uninstall-service', '--root', root, '--group', group]);
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual(fs.readdirSync(dir), []);
    await assert.rejects(runCommand('getent', ['group', group]));
  });

  it('refuses to install a gantry.js that another user could rewrite', async () => {
    const root = await makeTempDir('gsu', cleanup);
    const copy = path.join(root, 'gantry.js');
    fs.copyFileSync(GANTRY_JS, copy);
    fs.chmodSync(copy, 0o666);
    const r = await runGantry(['install-service', '--root', root, '--gantry', copy]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /writable by others/);
    assert.equal(fs.existsSync(path.join(root, 'etc/systemd/system/gantryd.service')), false);
  });

  it("refuses when the daemon's bundle beside gantry.js is writable by others", async () => {
    const root = await makeTempDir('gsu', cleanup);
    for (const name of RUNTIME_FILES) fs.copyFileSync(path.join(path.dirname(GANTRY_JS), name), path.join(root, name));
    fs.chmodSync(path.join(root, DAEMON_BUNDLE), 0o666);
    const r = await runGantry(['install-service', '--root', root, '--gantry', path.join(root, 'gantry.js')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /gantryd\.js is writable by others/);
    assert.equal(fs.existsSync(path.join(root, 'etc/systemd/system/gantryd.service')), false);
  });

  it('serves on the socket systemd-socket-activate passes, and leaves it in place when it stops', async function () {
    if (!which('systemd-socket-activate')) this.skip();
    const dir = await makeTempDir('gsa', cleanup);
    const sock = path.join(dir, 'gantry.sock');
    const rootDir = path.join(dir, 'root');
    const net = testNetwork(rootDir);
    const proc = startProcess(
      'systemd-socket-activate',
      [
        '-l',
        sock,
        process.execPath,
        ...DAEMON_NODE_FLAGS,
        GANTRY_JS,
        'daemon',
        '--root',
        rootDir,
        '--state',
        path.join(dir, 'state'),
        '--socket',
        sock,
        '--cri=false',
        '--bridge',
        net.bridge,
        '--bridge-subnet',
        net.subnet,
      ],
      { name: 'gantryd (socket-activated)' },
    );
    cleanup.defer(() => removeLeftovers(dir, rootDir));
    cleanup.defer(() => proc.stop(10_000));
    await proc.waitFor(() => fs.existsSync(sock), { what: 'systemd-socket-activate listening', timeout: 10_000 });
    // The first connection starts gantryd (systemd-socket-activate execs it with LISTEN_FDS=1).
    const r = await runGantry(['--socket', sock, 'info', '--json'], { timeout: 60_000 });
    assert.equal(r.code, 0, r.stderr + proc.stderr);
    const info = JSON.parse(r.stdout) as { socketActivated: boolean; pid: number; socket: string };
    assert.equal(info.socketActivated, true);
    assert.equal(info.socket, sock);
    assert.equal(info.pid, proc.pid);
    const ps = await runGantry(['--socket', sock, 'ps']);
    assert.equal(ps.code, 0, ps.stderr);
    await proc.stop(10_000);
    assert.equal(fs.lstatSync(sock).isSocket(), true, 'the socket is systemd’s: gantryd does not remove it');
  });
});
