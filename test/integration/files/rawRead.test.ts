// Large reads over gantryd's raw socket (docs/files.md, "Large reads"): the
// ReadFile call answers with a single-use token, the bytes come over a second
// unix socket beside the API one. Proven here against a real daemon and
// containers: the bytes are intact (whole and ranges), the socket is as
// private as the API socket, a token works once and a made-up one never, a
// client that cannot reach the raw socket (a forwarded socket, as over SSH)
// reads the same bytes over gRPC, and a container swapping a directory for a
// link to a host directory never gets a host file read through the new path.
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { FilesClient, type ArchiveChunk, type RawArchiveChunk, type ReadFileChunk } from '../../../runtime/api/gen/gantry/v1/files';
import { RuntimeClient } from '../../../runtime/client/client';
import { stream } from '../../../runtime/client/rpc';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { openRaw, rawSocketPath } from '../../../runtime/rawbytes/index';
import { suiteCleanup } from '../../helpers/tmp';
import { containerWorld, eventually, type ContainerWorld } from '../containers/harness';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Everything a connection to the raw socket receives until it ends (a refused one: nothing). */
async function collect(conn: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const c of conn) parts.push(c as Buffer);
  } catch {
    // reset by the daemon: what came before is the answer
  }
  return Buffer.concat(parts);
}

describe('files: large reads over the raw socket', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  // Local access off: these are the reads of a client that cannot open
  // gantryd's descriptors (localAccess.test.ts has the others).
  let socketClient: RuntimeClient;

  before(async () => {
    world = await containerWorld(cleanup);
    socketClient = RuntimeClient.forSocket(world.daemon.socket, { localFiles: false });
    cleanup.defer(() => socketClient.close());
  });

  const running = async (cmd = ['sleep', '300']) => {
    const c = await world.client.containers.create('', { image: world.image, cmd, network: 'none' });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    await world.client.containers.start(c.id);
    return c;
  };

  it('answers with a token for the raw socket (0660, beside the API socket); the bytes are intact, whole and ranges; a token works once', async () => {
    const raw = rawSocketPath(world.daemon.socket);
    const st = fs.lstatSync(raw);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);

    const c = await running();
    const target = { container: c.id };
    const data = randomBytes(8 * 1024 * 1024 + 17);
    await world.client.files.writeFile(target, '/tmp/big.bin', data);

    // The wire: one message with the info and a ticket, no data.
    const files = new FilesClient(`unix:${world.daemon.socket}`, credentials.createInsecure());
    cleanup.defer(() => files.close());
    const request = { target: { container: c.id, volume: '', layer: undefined }, path: '/tmp/big.bin', offset: 0, length: 0 };
    const messages = stream<ReadFileChunk>(files.readFile({ ...request, acceptRaw: true }));
    const first = await messages.next();
    assert.ok(!first.done);
    const ticket = first.value.raw;
    assert.ok(ticket, 'a ticket for an 8 MiB read');
    assert.equal(ticket.length, data.length);
    assert.equal(first.value.data.length, 0);
    assert.equal(first.value.info?.size, data.length);
    // A made-up token gets nothing and does not spend the real one.
    assert.equal((await collect(await openRaw(raw, randomBytes(32)))).length, 0);
    const got = await collect(await openRaw(raw, ticket.token));
    assert.equal(sha(got), sha(data));
    // The call ends once the bytes are sent, with no more messages.
    assert.deepEqual(await messages.next(), { done: true, value: undefined });
    // Spent: the same token again gets nothing.
    assert.equal((await collect(await openRaw(raw, ticket.token))).length, 0);
    // A client that does not ask for raw gets the bytes as messages.
    let n = 0;
    for await (const m of stream<ReadFileChunk>(files.readFile({ ...request, acceptRaw: false }))) {
      assert.equal(m.raw, undefined);
      n += m.data.length;
    }
    assert.equal(n, data.length);

    // The client's own flow: whole, ranges (large and small), as before.
    const back = await socketClient.files.readFile(target, '/tmp/big.bin');
    assert.equal(sha(back.data), sha(data));
    assert.equal(back.info.size, data.length);
    const range = async (offset: number, length: number) => {
      const parts: Buffer[] = [];
      for await (const chunk of socketClient.files.read(target, '/tmp/big.bin', { offset, length })) parts.push(Buffer.from(chunk.data));
      return Buffer.concat(parts);
    };
    assert.equal(sha(await range(1000, 3 * 1024 * 1024)), sha(data.subarray(1000, 1000 + 3 * 1024 * 1024)));
    assert.deepEqual(await range(data.length - 100, 0), data.subarray(data.length - 100));
    assert.equal(sha(await range(2 * 1024 * 1024, 0)), sha(data.subarray(2 * 1024 * 1024)));

    // A reader that stops early leaves nothing behind: the next read is whole.
    for await (const chunk of socketClient.files.read(target, '/tmp/big.bin')) {
      assert.ok(chunk.data.length > 0);
      break;
    }
    assert.equal(sha((await socketClient.files.readFile(target, '/tmp/big.bin')).data), sha(data));
    // Errors still come from the call.
    await assert.rejects(socketClient.files.readFile(target, '/nope'), (e) => kindOf(e) === 'NotFound');
  });

  it('RawGetArchive (gantry cp) sends a directory and a large file over the raw socket; gantry cp copies them out intact', async () => {
    const c = await running();
    const target = { container: c.id };
    const data = randomBytes(3 * 1024 * 1024 + 1);
    await world.client.files.createDirectory(target, '/tmp/cp', { parents: true });
    await world.client.files.writeFile(target, '/tmp/cp/big.bin', data);
    await world.client.files.writeFile(target, '/tmp/cp/small.txt', Buffer.from('small\n'));
    const files = new FilesClient(`unix:${world.daemon.socket}`, credentials.createInsecure());
    cleanup.defer(() => files.close());
    const request = (p: string) => ({ target: { container: c.id, volume: '', layer: undefined }, path: p, followLink: false, name: '' });
    for (const p of ['/tmp/cp', '/tmp/cp/big.bin']) {
      const first = await stream<RawArchiveChunk>(files.rawGetArchive(request(p))).next();
      assert.ok(!first.done && first.value.raw, `a ticket for ${p}`);
    }
    // A small file comes as messages, as from GetArchive.
    const small = await stream<RawArchiveChunk>(files.rawGetArchive(request('/tmp/cp/small.txt'))).next();
    assert.ok(!small.done && !small.value.raw && small.value.data.length > 0);

    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-cp-raw-'));
    cleanup.defer(() => fs.rmSync(out, { recursive: true, force: true }));
    const cp = await world.daemon.cli(['cp', `${c.id}:/tmp/cp`, out]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(sha(fs.readFileSync(path.join(out, 'cp', 'big.bin'))), sha(data));
    assert.equal(fs.readFileSync(path.join(out, 'cp', 'small.txt'), 'utf8'), 'small\n');
    // The same archive through the client, raw and not: the same bytes.
    const archive = async (client: RuntimeClient) => {
      const parts: Buffer[] = [];
      for await (const m of client.files.getArchive(target, '/tmp/cp')) parts.push(Buffer.from(m.data));
      return sha(Buffer.concat(parts));
    };
    const viaGrpc = async () => {
      const parts: Buffer[] = [];
      for await (const m of stream<ArchiveChunk>(files.getArchive(request('/tmp/cp')))) parts.push(Buffer.from(m.data));
      return sha(Buffer.concat(parts));
    };
    assert.equal(await archive(world.client), await viaGrpc());
  });

  it('a client on a forwarded socket (as over SSH: no raw socket beside it) reads the same bytes over gRPC', async () => {
    const c = await running();
    const target = { container: c.id };
    const data = randomBytes(5 * 1024 * 1024 + 3);
    await world.client.files.writeFile(target, '/tmp/fwd.bin', data);
    // A plain byte proxy to the API socket, as the SSH link's local end is.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-fwd-'));
    cleanup.defer(() => fs.rmSync(dir, { recursive: true, force: true }));
    const proxySocket = path.join(dir, 'forwarded.sock');
    const proxy = net.createServer((conn) => {
      const upstream = net.connect(world.daemon.socket);
      conn.pipe(upstream).pipe(conn);
      conn.on('error', () => upstream.destroy());
      upstream.on('error', () => conn.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(proxySocket, resolve));
    cleanup.defer(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    assert.ok(!fs.existsSync(rawSocketPath(proxySocket)));
    const client = RuntimeClient.forSocket(proxySocket, { localFiles: false });
    cleanup.defer(() => client.close());
    const tarOf = async (via: RuntimeClient) => {
      const parts: Buffer[] = [];
      for await (const m of via.files.getArchive(target, '/tmp/fwd.bin')) parts.push(Buffer.from(m.data));
      return sha(Buffer.concat(parts));
    };
    assert.equal(await tarOf(client), await tarOf(world.client), 'gantry cp over a forwarded socket gets the same archive');
    for (let i = 0; i < 2; i++) {
      const back = await client.files.readFile(target, '/tmp/fwd.bin');
      assert.equal(sha(back.data), sha(data), `read ${i + 1}`);
      assert.equal(back.info.size, data.length);
    }
  });

  it('a container swapping a directory and a link to a host directory: 200 raw and local reads never read the host file', async () => {
    const canary = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-canary-'));
    cleanup.defer(() => fs.rmSync(canary, { recursive: true, force: true }));
    const size = 2 * 1024 * 1024;
    fs.writeFileSync(path.join(canary, 'file'), Buffer.alloc(size, 'h'));
    // Inside: 2 MiB of 'i' (large enough for the raw path). The link's
    // target is the canary's host path: followed by the kernel from the
    // host's side, it would be the canary itself.
    const script =
      `mkdir /r && head -c ${size} /dev/zero | tr '\\0' i > /r/file && touch /ready && ` +
      `while :; do mv /r /h; ln -s ${canary} /r; rm /r; mv /h /r; done`;
    const c = await running(['sh', '-c', script]);
    const target = { container: c.id };
    await eventually('the swapping loop running', async () =>
      (await world.client.files.stat(target, '/ready').catch(() => undefined)) ? true : undefined,
    );
    const inside = sha(Buffer.alloc(size, 'i'));
    const outcomes = { ok: 0, failed: 0 };
    for (let i = 0; i < 100; i++) {
      // One read through the raw socket, one through local access.
      const results = await Promise.allSettled([socketClient, world.client].map((client) => client.files.readFile(target, '/r/file')));
      for (const r of results) {
        if (r.status === 'fulfilled') {
          assert.equal(sha(r.value.data), inside, 'a read gave the container file, whole');
          outcomes.ok++;
        } else {
          assert.ok(['NotFound', 'FailedPrecondition'].includes(kindOf(r.reason)), String(r.reason));
          outcomes.failed++;
        }
      }
    }
    assert.equal(fs.readFileSync(path.join(canary, 'file')).length, size);
    assert.deepEqual(fs.readdirSync(canary), ['file']);
    assert.ok(outcomes.ok > 0 && outcomes.failed > 0, `both states were met: ${JSON.stringify(outcomes)}`);
  });
});
