// SshEndpoint's ownership rules with a stand-in connector (the real one is
// exercised against sshd in test/vscode/suite/remote.test.ts): one
// RemoteRuntime at a time, reused across attempts, and closed whatever
// state a connect is in when the endpoint closes.
import { strict as assert } from 'node:assert';
import { GantryError } from '../../../../runtime/errdefs/errdefs';
import type { DeployResult, HostFacts, RemoteRuntime } from '../../../../runtime/client/ssh/remote';
import { SshEndpoint, type RemoteConnector } from '../../../../runtime/client/ssh/sshEndpoint';

const DEPLOY: DeployResult = {
  uploaded: [],
  started: false,
  daemon: { version: '0', pid: 1 },
  warnings: ['no addon for riscv64'],
  gantryJs: '/g.js',
  node: '/usr/bin/node',
};

class FakeRuntime implements RemoteRuntime {
  closed = 0;
  ensured = 0;
  readonly target = { host: 'box' };
  readonly label = 'ssh://box';
  readonly facts = { socket: '/run/gantry/gantry.sock' } as HostFacts;
  readonly deploy = DEPLOY;
  readonly sshPids = [];
  readonly socketPath: string;
  constructor(n: number) {
    this.socketPath = `/tmp/fake-${n}.sock`;
  }
  get grpcTarget() {
    return `unix:${this.socketPath}`;
  }
  async ensureDaemon(): Promise<DeployResult> {
    this.ensured++;
    return { ...DEPLOY, started: true, daemon: { version: '0', pid: 2 } };
  }
  lastError() {
    return undefined;
  }
  translate(e: unknown) {
    return e instanceof GantryError && e.transport
      ? new GantryError('Unavailable', `lost the connection to gantryd on ${this.label}`, { transport: true })
      : e;
  }
  async close() {
    this.closed++;
  }
}

/** A connector whose connects finish when the test says so. */
function gatedConnector() {
  const made: FakeRuntime[] = [];
  const pending: Array<() => void> = [];
  const connector: RemoteConnector = () =>
    new Promise((resolve) => {
      pending.push(() => {
        const r = new FakeRuntime(made.length);
        made.push(r);
        resolve(r);
      });
    });
  const release = async () => {
    while (!pending.length) await new Promise((r) => setImmediate(r));
    pending.shift()!();
  };
  return { connector, made, release, pending };
}

const ctx = () => ({ signal: new AbortController().signal });

describe('SshEndpoint', () => {
  it('connects once, reports deploy warnings as progress, and reuses the runtime', async () => {
    const g = gatedConnector();
    const e = new SshEndpoint({ host: 'box', user: 'u', port: 22 }, {}, g.connector);
    assert.equal(e.host, 'ssh://u@box:22');
    assert.equal(e.socket, '', "the host's socket is unknown before the first connect");
    const progress: string[] = [];
    const opened = e.open(ctx(), (m) => progress.push(m));
    await g.release();
    assert.equal(await opened, 'unix:/tmp/fake-0.sock');
    assert.deepEqual(progress, ['no addon for riscv64']);
    assert.equal(e.socket, '/run/gantry/gantry.sock');
    assert.equal(await e.open(ctx(), () => undefined), 'unix:/tmp/fake-0.sock');
    assert.equal(g.made.length, 1);
    await e.close();
    assert.equal(g.made[0].closed, 1);
    await assert.rejects(
      e.open(ctx(), () => undefined),
      /was closed/,
    );
  });

  it('a second open while a connect runs waits for it instead of connecting twice', async () => {
    const g = gatedConnector();
    const e = new SshEndpoint({ host: 'box' }, {}, g.connector);
    const first = e.open(ctx(), () => undefined);
    const second = e.open(ctx(), () => undefined);
    await g.release();
    assert.equal(await first, await second);
    assert.equal(g.made.length, 1);
    assert.equal(g.pending.length, 0);
    await e.close();
  });

  it('close() during a connect waits for it and closes what it made', async () => {
    const g = gatedConnector();
    const e = new SshEndpoint({ host: 'box' }, {}, g.connector);
    const opened = e.open(ctx(), () => undefined);
    let closed = false;
    const closing = e.close().then(() => (closed = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(closed, false, 'close() is still waiting for the connect');
    await g.release();
    await closing;
    assert.equal(g.made[0].closed, 1, 'the runtime made after close() was closed before close() resolved');
    await assert.rejects(opened, /was closed/);
  });

  it('recover() asks the runtime to bring its daemon back; explain() and retryable() judge errors', async () => {
    const g = gatedConnector();
    const e = new SshEndpoint({ host: 'box' }, {}, g.connector);
    assert.equal(await e.recover(ctx(), () => undefined), false, 'nothing to recover before a connect');
    const opened = e.open(ctx(), () => undefined);
    await g.release();
    await opened;
    const progress: string[] = [];
    assert.equal(await e.recover(ctx(), (m) => progress.push(m)), true);
    assert.equal(g.made[0].ensured, 1);
    assert.deepEqual(progress, ['started gantryd on ssh://box (pid 2)']);

    const transport = new GantryError('Unavailable', 'No connection established', { transport: true });
    assert.equal((e.explain(transport) as Error).message, 'lost the connection to gantryd on ssh://box');
    const fromDaemon = new GantryError('NotFound', 'no such container');
    assert.equal(e.explain(fromDaemon), fromDaemon);

    for (const kind of ['Unavailable', 'DeadlineExceeded', 'NotFound', 'Unknown'] as const)
      assert.equal(e.retryable(new GantryError(kind, 'x')), true, kind);
    for (const kind of ['PermissionDenied', 'Unauthenticated', 'FailedPrecondition', 'InvalidArgument'] as const)
      assert.equal(e.retryable(new GantryError(kind, 'x')), false, kind);
    await e.close();
    assert.equal(e.retryable(transport), false, 'a closed endpoint is not retried');
  });

  it('allows a call as long as ssh may take to connect, plus slack', () => {
    assert.equal(new SshEndpoint({ host: 'a' }, {}).callTimeoutMs, 25_000);
    assert.equal(new SshEndpoint({ host: 'a' }, { connectTimeoutSec: 3 }).callTimeoutMs, 13_000);
  });
});
