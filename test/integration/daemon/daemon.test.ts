// gantryd as a user meets it: started from dist/gantry.js, driven by the CLI.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { RuntimeClient, ServingStatus } from '../../../runtime/client';
import { GANTRY_JS, runGantry, startDaemon, TestDaemon } from '../../helpers/daemon';
import { startProcess } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

interface EventLine {
  sequence: number;
  topic: string;
  attributes: Record<string, string>;
}

const parseEventLines = (stdout: string): EventLine[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EventLine);

describe('gantryd', () => {
  const cleanup = suiteCleanup();

  it('answers version --json with its own and the client version, runc and conmon', async () => {
    const daemon = await startDaemon(cleanup);
    const result = await daemon.cli(['version', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const { client, server } = JSON.parse(result.stdout);
    const pkg = JSON.parse(fs.readFileSync(path.resolve(GANTRY_JS, '../../package.json'), 'utf8'));
    assert.equal(server.version, pkg.version);
    assert.equal(client.version, pkg.version);
    assert.equal(server.apiVersion, '1');
    assert.equal(server.root, daemon.root);
    assert.equal(server.state, daemon.state);
    assert.equal(server.socket, daemon.socket);
    assert.equal(server.pid, daemon.process.pid);
    assert.equal(server.rootful, process.getuid?.() === 0);
    const runc = server.components.find((c: { name: string }) => c.name === 'runc');
    assert.match(runc.version, /^1\.\d+/);
    assert.equal(runc.path, '/usr/sbin/runc');
  });

  it('serves the gRPC health service and info', async () => {
    const daemon = await startDaemon(cleanup);
    const client = daemon.client();
    try {
      assert.equal(await client.system.health(''), ServingStatus.SERVING);
      assert.equal(await client.system.health('gantry.v1.Events'), ServingStatus.SERVING);
      await assert.rejects(client.system.health('no.such.Service'), /unknown service/);
    } finally {
      client.close();
    }
    const info = await daemon.cli(['info', '--json']);
    assert.equal(info.code, 0, info.stderr);
    const parsed = JSON.parse(info.stdout) as { health: string; networkUnavailable: string; warnings: string[] };
    assert.equal(parsed.health, 'SERVING');
    assert.equal(parsed.networkUnavailable, '', 'this host has the CNI plugins and iptables');
    assert.deepEqual(parsed.warnings, []);
    const text = await daemon.cli(['info']);
    assert.match(text.stdout, /Networks:\s+bridge \(CNI\), user networks, none, host/);
  });

  it('creates its socket with mode 0660, never world-accessible', async () => {
    const daemon = await startDaemon(cleanup);
    const stat = fs.statSync(daemon.socket);
    assert.ok(stat.isSocket());
    assert.equal(stat.mode & 0o777, 0o660);
  });

  it('replays its events with events --since 0 and keeps sequences across restarts', async () => {
    const daemon = await startDaemon(cleanup);
    await daemon.stop();
    await daemon.start();
    const result = await daemon.cli(['events', '--since', '0', '--no-follow', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const events = parseEventLines(result.stdout);
    assert.deepEqual(
      events.map((e) => [e.sequence, e.topic]),
      [
        [1, '/daemon/start'],
        [2, '/daemon/stop'],
        [3, '/daemon/start'],
      ],
    );
    assert.equal(events[2].attributes.pid, String(daemon.process.pid));
    assert.equal(events[1].attributes.reason, 'SIGTERM');
  });

  it('streams live events to a follower and ends the stream cleanly on shutdown', async () => {
    const daemon = await startDaemon(cleanup);
    const follower = startProcess(process.execPath, [GANTRY_JS, '--socket', daemon.socket, 'events', '--since', '0', '--json']);
    cleanup.defer(() => follower.stop());
    // Replay and live registration happen in one step, so once the replayed
    // start event arrives the follower is certain to see what comes next.
    await follower.waitFor((p) => p.stdout.includes('/daemon/start'), { what: 'replayed /daemon/start' });
    await daemon.stop();
    const status = await follower.waitForExit();
    assert.equal(status.code, 0, follower.stderr);
    assert.deepEqual(
      parseEventLines(follower.stdout).map((e) => e.topic),
      ['/daemon/start', '/daemon/stop'],
    );
    assert.ok(!fs.existsSync(daemon.socket), 'a clean shutdown removes the socket');
  });

  it('leaves no mount under its state dir after a clean shutdown with no container running', async () => {
    const daemon = await startDaemon(cleanup);
    const state = fs.realpathSync(daemon.state);
    const mountsUnderState = () =>
      fs
        .readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((line) => line.split(' ')[4] ?? '')
        .filter((mountPoint) => mountPoint === state || mountPoint.startsWith(state + '/'));
    assert.deepEqual(mountsUnderState(), [path.join(state, 'netns')], 'while serving, the netns dir is a mount of its own');
    await daemon.stop();
    assert.deepEqual(mountsUnderState(), []);
  });

  it('refuses to start a second daemon on the same socket while the first keeps serving', async () => {
    const daemon = await startDaemon(cleanup);
    const dir = await makeTempDir('gd2', cleanup);
    const second = await runGantry(['daemon', '--root', path.join(dir, 'root'), '--state', daemon.state]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`another gantryd \\(pid ${daemon.process.pid}\\) is already serving`));
    const version = await daemon.cli(['version', '--json']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(JSON.parse(version.stdout).server.pid, daemon.process.pid);
  });

  it('refuses a second daemon on the same data root even with another socket', async () => {
    const daemon = await startDaemon(cleanup);
    const dir = await makeTempDir('gd7', cleanup);
    const second = await runGantry(['daemon', '--root', daemon.root, '--state', dir]);
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      new RegExp(`another gantryd \\(pid ${daemon.process.pid}\\) is already using the data root ${daemon.root}`),
    );
    assert.ok(!fs.existsSync(path.join(dir, 'gantry.sock')), 'the refused daemon leaves no socket');
  });

  it('starts even when another local user bound the lock names it used to compute from the paths alone', async () => {
    const dir = await makeTempDir('gd8', cleanup);
    const root = path.join(dir, 'root');
    const state = path.join(dir, 'state');
    // A squatter knows the paths; before the lock secret the names were sha256(path).
    const squatters = await Promise.all(
      [
        ['socket', path.join(state, 'gantry.sock')],
        ['root', root],
      ].map(([resource, guarded]) => {
        const name = `\0gantryd-${resource}-` + createHash('sha256').update(guarded).digest('hex').slice(0, 32);
        const server = net.createServer((c) => c.end('{"pid": 1}\n'));
        return new Promise<net.Server>((resolve, reject) => server.once('error', reject).listen(name, () => resolve(server)));
      }),
    );
    cleanup.defer(() => Promise.all(squatters.map((s) => new Promise((r) => s.close(r)))));
    const daemon = new TestDaemon(root, state);
    cleanup.defer(() => daemon.stop());
    await daemon.start();
    const version = await daemon.cli(['version', '--json']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(JSON.parse(version.stdout).server.pid, daemon.process.pid);
    const secret = fs.statSync(path.join(root, '.gantryd-lock-secret'));
    assert.equal(secret.mode & 0o777, 0o600);
  });

  it('refuses a lock secret that another user owns', async () => {
    const dir = await makeTempDir('gd9', cleanup);
    const root = path.join(dir, 'root');
    fs.mkdirSync(root, { recursive: true });
    const planted = path.join(root, '.gantryd-lock-secret');
    fs.writeFileSync(planted, 'x'.repeat(64), { mode: 0o600 });
    fs.chownSync(planted, 65534, 65534);
    const result = await runGantry(['daemon', '--root', root, '--state', path.join(dir, 'state')]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /\.gantryd-lock-secret must be a file owned by uid 0 and readable by nobody else \(it is owned by uid 65534/,
    );
  });

  it('replaces the socket file a SIGKILLed daemon left behind', async () => {
    const daemon = await startDaemon(cleanup);
    await daemon.kill();
    assert.ok(fs.lstatSync(daemon.socket).isSocket(), 'SIGKILL leaves the socket file');
    const dead = await daemon.cli(['version']);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /connection refused/);
    await daemon.start();
    assert.match(daemon.process.stderr, /replaced stale socket/);
    assert.equal((await daemon.cli(['version'])).code, 0);
  });

  it('refuses to delete a path that is not a socket', async () => {
    const dir = await makeTempDir('gd3', cleanup);
    const socket = path.join(dir, 'not-a-socket');
    fs.writeFileSync(socket, 'precious');
    const result = await runGantry(['daemon', '--root', path.join(dir, 'root'), '--state', dir, '--socket', socket]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not a socket; refusing to replace it/);
    assert.equal(fs.readFileSync(socket, 'utf8'), 'precious');
  });

  it('exits 1 with one clear line when no daemon is listening', async () => {
    const dir = await makeTempDir('gd4', cleanup);
    const socket = path.join(dir, 'missing.sock');
    const result = await runGantry(['--socket', socket, 'version']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      `gantry: cannot connect to gantryd at ${socket} (no such socket); is it running? Start it with: gantry daemon --socket ${socket}\n`,
    );
    const viaEnv = await runGantry(['version'], { env: { ...process.env, GANTRY_SOCKET: socket } });
    assert.equal(viaEnv.code, 1);
    assert.match(viaEnv.stderr, new RegExp(`cannot connect to gantryd at ${socket}`));
  });

  it('rejects bad usage with exit code 2', async () => {
    const unknown = await runGantry(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badSince = await runGantry(['events', '--since', 'yesterday']);
    assert.equal(badSince.code, 2);
    assert.match(badSince.stderr, /--since must be a sequence number/);
  });

  it('carries the gRPC API through dial-stdio byte for byte', async () => {
    const daemon = await startDaemon(cleanup);
    const dir = await makeTempDir('gd5', cleanup);
    const bridgeSocket = path.join(dir, 'bridge.sock');
    // What an SSH transport does: each connection becomes one `gantry dial-stdio` process.
    const children = new Set<ReturnType<typeof spawn>>();
    const bridge = net.createServer({ allowHalfOpen: true }, (conn) => {
      const child = spawn(process.execPath, [GANTRY_JS, '--socket', daemon.socket, 'dial-stdio'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      children.add(child);
      // Half-close in each direction as sshd does; a late frame from the daemon
      // after the client hung up (a GOAWAY, say) must not crash the bridge.
      conn.pipe(child.stdin);
      child.stdout.pipe(conn);
      child.on('exit', () => children.delete(child));
      conn.on('error', () => child.stdin.destroy());
      child.stdin.on('error', () => conn.destroy());
    });
    await new Promise<void>((resolve) => bridge.listen(bridgeSocket, resolve));
    cleanup.defer(() => new Promise<void>((resolve) => bridge.close(() => resolve())));
    const client = RuntimeClient.forSocket(bridgeSocket);
    try {
      const version = await client.system.version();
      assert.equal(version.pid, daemon.process.pid);
      const events: number[] = [];
      for await (const message of client.events.subscribe({ since: 0, noFollow: true })) {
        if (message.kind?.$case === 'event') events.push(message.kind.value.sequence);
      }
      assert.deepEqual(events, [1]);
    } finally {
      client.close();
    }
    // The dial-stdio process exits once its connection closes: nothing is left behind.
    await waitFor(() => children.size === 0, { what: 'the dial-stdio processes to exit', timeoutMs: 5000 }).catch(() => undefined);
    assert.equal(children.size, 0, 'dial-stdio processes must exit when the client disconnects');
  });

  it('dial-stdio fails with exit 1 and a clear message when the daemon is absent', async () => {
    const dir = await makeTempDir('gd6', cleanup);
    const result = await runGantry(['--socket', path.join(dir, 'none.sock'), 'dial-stdio'], { input: '' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot connect to gantryd at .*none\.sock \(no such socket\)/);
  });
});
