// Port forwarding without publishing (docs/networking.md, "Port
// forwarding"), through the client flow (runtime/client/flows/portForward.ts)
// against a real gantryd: its relay runs under nsenter in the container's
// namespace, so servers on the container's 127.0.0.1 answer too. Busybox
// httpd and nc are the servers; nothing here is published with -p.
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { forwardPorts, kindOf, type GantryError, type PortForwarding } from '../../../runtime/client';
import { freePort } from '../../helpers/ports';
import { suiteCleanup } from '../../helpers/tmp';
import { httpGet } from '../network/harness';
import { containerWorld, eventually, type ContainerWorld } from './harness';
import { relayPids, webScript } from './portForwardHelpers';

describe('port-forward (real daemon, nsenter relay, CNI, runc)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let w: ContainerWorld;
  const forwardings: PortForwarding[] = [];

  before(async () => {
    w = await containerWorld(cleanup);
  });

  afterEach(async () => {
    for (const f of forwardings.splice(0)) await f.close();
    for (const c of await w.client.containers.list(true)) await w.client.containers.remove(c.id, true);
  });

  async function runDetached(name: string, script: string, network = ''): Promise<string> {
    const c = await w.client.containers.create(name, { image: w.image, cmd: ['sh', '-c', script], network });
    await w.client.containers.start(c.id);
    return c.id;
  }

  async function forward(container: string, ports: { local?: number; remote: number }[], onError?: (e: GantryError) => void) {
    const f = await forwardPorts({ client: w.client, container, ports, onError });
    forwardings.push(f);
    return f;
  }

  /** GETs until the server in the container is up (it starts after the container does). */
  function getEventually(url: string): Promise<string> {
    return eventually(`GET ${url}`, () => httpGet(url).catch(() => undefined));
  }

  it('forwards a free local port to busybox httpd on the default network, not published; the relay is gone after', async () => {
    const id = await runDetached('web', webScript('hello through port-forward', '80'));
    const f = await forward('web', [{ local: 0, remote: 80 }]);
    assert.equal(f.containerId, id);
    assert.equal(f.listening.length, 1);
    const { address, local, remote } = f.listening[0];
    assert.equal(address, '127.0.0.1');
    assert.equal(remote, 80);
    assert.ok(local > 0);
    assert.equal(await getEventually(`http://127.0.0.1:${local}/`), 'hello through port-forward\n');
    const inspect = await w.client.containers.inspect('web');
    assert.deepEqual(inspect.container?.ports ?? [], [], 'nothing is published');
    await eventually('no relay left once the connections closed', async () =>
      f.connections() === 0 && relayPids(w.daemon.process.pid).length === 0 ? true : undefined,
    );
  });

  it('reaches a server bound to 127.0.0.1 inside the container, also with --network none', async () => {
    await runDetached('local', webScript('loopback only', '127.0.0.1:8081'));
    await runDetached('isolated', webScript('none network', '127.0.0.1:8082'), 'none');
    const a = await forward('local', [{ local: 0, remote: 8081 }]);
    const b = await forward('isolated', [{ local: 0, remote: 8082 }]);
    assert.equal(await getEventually(`http://127.0.0.1:${a.listening[0].local}/`), 'loopback only\n');
    assert.equal(await getEventually(`http://127.0.0.1:${b.listening[0].local}/`), 'none network\n');
  });

  it("--network host: the host's own 127.0.0.1, dialled without a relay", async () => {
    const port = await freePort();
    await runDetached('onhost', webScript('host network', `127.0.0.1:${port}`), 'host');
    const f = await forward('onhost', [{ local: 0, remote: port }]);
    assert.equal(await getEventually(`http://127.0.0.1:${f.listening[0].local}/`), 'host network\n');
    assert.deepEqual(relayPids(w.daemon.process.pid, '/proc/self/ns/net'), [], 'no relay in the host namespace');
  });

  it('half-close from the container side first: its reply ends, and what the client sends afterwards still arrives', async () => {
    // A server of the test's own on the host's 127.0.0.1, reached through a --network host container.
    const received: Buffer[] = [];
    let serverGotEnd!: () => void;
    const gotEnd = new Promise<void>((resolve) => (serverGotEnd = resolve));
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.end('hello\n');
      s.on('data', (d: Buffer) => received.push(d));
      s.once('end', () => serverGotEnd());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await runDetached('halfclose', 'exec sleep 1000', 'host');
      const f = await forward('halfclose', [{ local: 0, remote: (server.address() as net.AddressInfo).port }]);
      const upload = randomBytes(1 << 20);
      const reply = await new Promise<string>((resolve, reject) => {
        let text = '';
        const c = net.connect({ port: f.listening[0].local, host: '127.0.0.1', allowHalfOpen: true });
        c.on('data', (d: Buffer) => (text += d.toString()));
        // Only once the server's side ended does the client send.
        c.once('end', () => c.end(upload, () => resolve(text)));
        c.once('error', reject);
      });
      assert.equal(reply, 'hello\n');
      await gotEnd;
      assert.equal(sha256(Buffer.concat(received)), sha256(upload), "the upload after the server's FIN arrived whole");
    } finally {
      server.close();
    }
  });

  it('a restarted container gets a relay in its new namespace; connections share one relay per namespace', async () => {
    // A fresh UUID per start: the page tells the runs apart.
    const script = 'mkdir -p /www && cat /proc/sys/kernel/random/uuid > /www/index.html && exec httpd -f -p 80 -h /www';
    await runDetached('again', script);
    const f = await forward('again', [{ local: 0, remote: 80 }]);
    const url = `http://127.0.0.1:${f.listening[0].local}/`;
    const before = await getEventually(url);
    const both = await Promise.all([httpGet(url), httpGet(url)]);
    assert.deepEqual(both, [before, before]);
    const { sandboxKey } = await w.client.containers.inspect('again');
    assert.equal(relayPids(w.daemon.process.pid, sandboxKey).length, 1, 'one relay for the namespace');
    await w.client.containers.restart('again', 1);
    const after = await eventually('the restarted server answering', async () => {
      const body = await httpGet(url).catch(() => undefined);
      return body !== undefined && body !== before ? body : undefined;
    });
    assert.notEqual(after, before);
  });

  it('carries 20 MB both ways intact (sha256) through an echo server, and two connections at once', async () => {
    // -ll: nc keeps listening, one `cat` per connection: what comes in goes back out.
    await runDetached('echo', 'exec nc -ll -p 9000 -e cat');
    const f = await forward('echo', [{ local: 0, remote: 9000 }]);
    const port = f.listening[0].local;
    const payloads = [randomBytes(20 << 20), randomBytes(5 << 20)];
    const echoed = await eventually('the echo server answering', async () => {
      try {
        return await Promise.all(payloads.map((p) => echo(port, p)));
      } catch {
        return undefined;
      }
    });
    for (const [i, p] of payloads.entries()) {
      assert.equal(echoed[i].length, p.length, `connection ${i}: length`);
      assert.equal(sha256(echoed[i]), sha256(p), `connection ${i}: sha256`);
    }
    await eventually('no relay left', async () => (relayPids(w.daemon.process.pid).length === 0 ? true : undefined));
  });

  it('nothing listening: the local connection is closed and onError says connection refused; forwarding goes on', async () => {
    await runDetached('quiet', webScript('still here', '80'));
    const errors: GantryError[] = [];
    const f = await forward(
      'quiet',
      [
        { local: 0, remote: 80 },
        { local: 0, remote: 81 },
      ],
      (e) => errors.push(e),
    );
    const [web, dead] = f.listening;
    assert.equal(await getEventually(`http://127.0.0.1:${web.local}/`), 'still here\n');
    const received = await connectAndRead(dead.local, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    assert.equal(received.length, 0, 'the local connection closed without data');
    await eventually('the refusal reported', async () => (errors.length ? true : undefined));
    assert.equal(kindOf(errors[0]), 'Unavailable');
    assert.match(errors[0].message, /connection refused: nothing listens on port 81 in container quiet/);
    assert.equal(await httpGet(`http://127.0.0.1:${web.local}/`), 'still here\n', 'the other port still forwards');
    await eventually('no relay left', async () => (relayPids(w.daemon.process.pid).length === 0 ? true : undefined));
  });

  it('a stopped container, an unknown one and a taken local port are clear errors, with nothing listening after', async () => {
    const c = await w.client.containers.create('stopped', { image: w.image, cmd: ['true'] });
    await assert.rejects(forwardPorts({ client: w.client, container: c.id, ports: [{ local: 0, remote: 80 }] }), (e: Error) => {
      assert.equal(kindOf(e), 'FailedPrecondition');
      assert.match(e.message, /container stopped is not running/);
      return true;
    });
    await assert.rejects(forwardPorts({ client: w.client, container: 'no-such', ports: [{ remote: 80 }] }), (e: Error) => {
      assert.equal(kindOf(e), 'NotFound');
      return true;
    });
    await runDetached('busy', webScript('x', '80'));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        forwardPorts({
          client: w.client,
          container: 'busy',
          ports: [
            { local: 0, remote: 80 },
            { local: takenPort, remote: 80 },
          ],
        }),
        (e: Error) => {
          assert.match(e.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${takenPort}: the port is in use`));
          return true;
        },
      );
    } finally {
      taken.close();
    }
  });

  it('the daemon refuses a stream to a stopped container by itself (the race after the flow checked)', async () => {
    const c = await w.client.containers.create('gone', { image: w.image, cmd: ['true'] });
    const stream = w.client.containers.portForward(c.id, 80);
    const error = await new Promise<Error>((resolve) => stream.once('error', resolve));
    assert.equal(kindOf(error), 'FailedPrecondition');
    assert.match(error.message, /container gone is not running/);
  });

  it('a container stopped under an open connection: the local connection closes, a new one is refused as not running', async () => {
    await runDetached('stopme', 'exec nc -ll -p 9003 -e cat');
    const errors: GantryError[] = [];
    const f = await forward('stopme', [{ local: 0, remote: 9003 }], (e) => errors.push(e));
    const port = f.listening[0].local;
    const socket = await eventually('an echo over the forward', async () => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.write('ping');
      const got = await new Promise<string | undefined>((resolve) => {
        s.once('data', (d) => resolve(d.toString()));
        s.once('close', () => resolve(undefined));
      });
      if (got === 'ping') return s;
      s.destroy();
      return undefined;
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await w.client.containers.stop('stopme', { timeoutSeconds: 1 });
    await closed;
    errors.length = 0;
    const again = await connectAndRead(port, Buffer.from('x'));
    assert.equal(again.length, 0);
    await eventually('the refusal reported', async () => (errors.length ? true : undefined));
    assert.equal(kindOf(errors[0]), 'FailedPrecondition');
    assert.match(errors[0].message, /container stopme is not running/);
  });

  it('closing the forwarding ends open connections and their relays', async () => {
    await runDetached('hold', 'exec nc -ll -p 9001 -e cat');
    const f = await forward('hold', [{ local: 0, remote: 9001 }]);
    const port = f.listening[0].local;
    const socket = await eventually('an echo over the forward', async () => {
      const s = net.connect(port, '127.0.0.1');
      try {
        s.write('ping');
        const got = await new Promise<string>((resolve, reject) => {
          s.once('data', (d) => resolve(d.toString()));
          s.once('error', reject);
          s.once('close', () => reject(new Error('closed')));
        });
        return got === 'ping' ? s : undefined;
      } catch {
        s.destroy();
        return undefined;
      }
    });
    const { sandboxKey } = await w.client.containers.inspect('hold');
    assert.equal(relayPids(w.daemon.process.pid, sandboxKey).length, 1, 'one relay for the open connection');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await f.close();
    await closed;
    await eventually('no relay left', async () => (relayPids(w.daemon.process.pid).length === 0 ? true : undefined));
    await assert.rejects(new Promise((resolve, reject) => net.connect(port, '127.0.0.1', resolve as () => void).once('error', reject)));
  });
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Sends `data`, half-closes, and collects what comes back until the far end closes. */
function echo(port: number, data: Buffer): Promise<Buffer> {
  return connectAndRead(port, data, true);
}

function connectAndRead(port: number, data: Buffer, failOnEmpty = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(data));
    s.on('data', (d: Buffer) => chunks.push(d));
    // A closed local connection may also come as a reset (the forward destroys it with the client's bytes unread).
    s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' && !failOnEmpty ? undefined : reject(e)));
    s.once('close', () => {
      const all = Buffer.concat(chunks);
      if (failOnEmpty && all.length === 0) reject(new Error('closed without data'));
      else resolve(all);
    });
  });
}
