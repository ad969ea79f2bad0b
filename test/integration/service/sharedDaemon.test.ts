// The CLI as an unprivileged user (docs/security.md, "Finding the daemon",
// "Which daemon gets your credentials"): it reaches the rootful daemon
// through the socket's group or is refused naming that group, names every
// place it looked when there is no daemon, and sends no credentials to a
// socket another user planted where it looks.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { runCommand, type Proc } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { createTestUser, runGantryAs, startAs, userEnv, type TestUser } from '../../helpers/unixUser';
import { waitFor } from '../../helpers/waitFor';

/** A listener that writes one line per connection, chunk received and close to `log`. */
const RECORDER = `
const net = require('net'), fs = require('fs');
const [sock, log] = process.argv.slice(1);
fs.writeFileSync(log, '');
net.createServer((c) => {
  fs.appendFileSync(log, 'connect\\n');
  c.on('data', (d) => fs.appendFileSync(log, 'data ' + d.toString('base64') + '\\n'));
  c.on('error', () => undefined);
  c.on('close', () => fs.appendFileSync(log, 'close\\n'));
}).listen(sock, () => { fs.chmodSync(sock, 0o777); console.log('listening'); });
`;

describe('shared daemon and socket discovery (as unprivileged users)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  const group = `gt${randomBytes(3).toString('hex')}`;
  let base: string;
  let alice: TestUser; // in the socket's group
  let bob: TestUser; // not in it
  let mallory: TestUser; // plants sockets
  let daemon: TestDaemon;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    base = await makeTempDir('gsv', cleanup);
    fs.chmodSync(base, 0o755);
    await runCommand('groupadd', ['--system', group]);
    cleanup.defer(() => runCommand('groupdel', [group]));
    alice = await createTestUser(cleanup, base, { groups: [group] });
    bob = await createTestUser(cleanup, base);
    mallory = await createTestUser(cleanup, base);
    daemon = await startDaemon(cleanup, ['--group', group]);
    // The test daemon's temp dir is 0700; a system daemon's /run/gantry is traversable (0711).
    fs.chmodSync(path.dirname(daemon.state), 0o711);
  });

  it('gives the socket to --group with mode 0660, and a member of the group reaches the rootful daemon', async () => {
    const st = fs.lstatSync(daemon.socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal((await runCommand('getent', ['group', group])).stdout.split(':')[2], String(st.gid));
    const r = await runGantryAs(alice, ['--socket', daemon.socket, 'info']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Socket group: +${group}`));
    assert.match(r.stdout, /Rootless: +no/);
    assert.match(r.stdout, new RegExp(`members of group ${group} .*equivalent to root`));
    const json = await runGantryAs(alice, ['--socket', daemon.socket, 'info', '--json']);
    const info = JSON.parse(json.stdout) as { socketGroup: string; rootless: boolean; socketSource: string };
    assert.deepEqual([info.socketGroup, info.rootless, info.socketSource], [group, false, 'flag']);
  });

  it('refuses a user outside the group with an error naming the group and the fix', async () => {
    const r = await runGantryAs(bob, ['--socket', daemon.socket, 'ps']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /permission denied/);
    assert.match(r.stderr, new RegExp(`group ${group} \\(mode 0660\\) and you are not in it`));
    assert.match(r.stderr, new RegExp(`usermod -aG ${group} ${bob.name}`));
    assert.match(r.stderr, /equivalent to root/);
  });

  it('names every place it looked when no daemon answers', async () => {
    const runtimeDir = path.join(alice.home, 'run');
    const r = await runGantryAs(alice, ['ps'], { env: userEnv(alice, { XDG_RUNTIME_DIR: runtimeDir }) });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /cannot find gantryd: tried /);
    assert.ok(r.stderr.includes(`${runtimeDir}/gantry/gantry.sock (no such socket)`), r.stderr);
    assert.ok(r.stderr.includes('/run/gantry/gantry.sock ('), r.stderr);
  });

  describe('a socket another user planted', () => {
    let planted: string;
    let log: string;
    let recorder: Proc;
    let aliceEnv: NodeJS.ProcessEnv;

    before(async () => {
      // Mallory takes what would be alice's socket dir, $XDG_RUNTIME_DIR/gantry, and listens there.
      const runtimeDir = path.join(base, 'mallory-run');
      fs.mkdirSync(path.join(runtimeDir, 'gantry'), { recursive: true, mode: 0o755 });
      fs.chownSync(runtimeDir, mallory.uid, mallory.gid);
      fs.chownSync(path.join(runtimeDir, 'gantry'), mallory.uid, mallory.gid);
      planted = path.join(runtimeDir, 'gantry', 'gantry.sock');
      log = path.join(runtimeDir, 'received.log');
      recorder = startAs(mallory, process.execPath, ['-e', RECORDER, planted, log], userEnv(mallory));
      cleanup.defer(() => recorder.stop());
      await recorder.waitFor((p) => p.stdout.includes('listening'), { what: 'the planted listener', timeout: 10_000 });
      // Alice has credentials for a registry; the client would send them with the pull.
      const dockerConfig = path.join(alice.home, '.docker');
      fs.mkdirSync(dockerConfig, { recursive: true });
      fs.writeFileSync(
        path.join(dockerConfig, 'config.json'),
        JSON.stringify({ auths: { '127.0.0.1:5999': { auth: Buffer.from('alice:s3cret-token').toString('base64') } } }),
      );
      await runCommand('chown', ['-R', `${alice.uid}:${alice.gid}`, dockerConfig]);
      aliceEnv = userEnv(alice, { XDG_RUNTIME_DIR: runtimeDir, DOCKER_CONFIG: dockerConfig });
    });

    /** Every connection the recorder saw has closed; what it received. */
    async function received(): Promise<string[]> {
      const lines = await waitFor(
        () => {
          const l = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
          return l.filter((x) => x === 'connect').length === l.filter((x) => x === 'close').length && l;
        },
        { what: 'the recorder to see every connection close', timeoutMs: 10_000 },
      );
      return lines.filter((l) => l.startsWith('data'));
    }

    it('discovery passes the planted socket over, naming why, and sends it nothing', async () => {
      const r = await runGantryAs(alice, ['pull', '127.0.0.1:5999/private/app:1'], { env: aliceEnv });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /cannot find gantryd: tried /);
      assert.ok(r.stderr.includes(`${planted} (${planted} belongs to uid ${mallory.uid}, not root or uid ${alice.uid})`), r.stderr);
      assert.deepEqual(await received(), []);
    });

    it('login with --socket: refused before anything is sent', async () => {
      const r = await runGantryAs(alice, ['--socket', planted, 'login', '-u', 'alice', '--password-stdin', '127.0.0.1:5999'], {
        env: aliceEnv,
        input: 'hunter2\n',
      });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /refusing to send registry credentials/);
      assert.deepEqual(await received(), []);
    });
  });
});
