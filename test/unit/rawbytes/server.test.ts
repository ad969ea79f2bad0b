// The raw socket's server (runtime/rawbytes/server.ts) on a real unix socket:
// an offer's bytes go to the first connection presenting its token, once; a
// wrong or oversized token gets nothing; a withdrawn offer (its call ended)
// cannot be collected; the socket is created 0660; a file range is sent
// exactly, and a reader hanging up on one fails only its offer.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { openRaw, RawByteServer, readRaw } from '../../../runtime/rawbytes/index';
import { silentLogger } from '../../../runtime/util/log';

async function collect(conn: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const c of conn) parts.push(c as Buffer);
  } catch {
    // reset: what came before is the answer
  }
  return Buffer.concat(parts);
}

describe('raw byte server', () => {
  let dir: string;
  let socket: string;
  let server: RawByteServer;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-raw-'));
    socket = path.join(dir, 'api.sock.raw');
    server = new RawByteServer(silentLogger);
    await server.listen(socket);
  });

  afterEach(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is bound 0660; an offer goes once, to its token only', async () => {
    assert.equal(fs.lstatSync(socket).mode & 0o777, 0o660);
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const offer = server.offer(Readable.from([data.subarray(0, 100), data.subarray(100)]), new AbortController().signal);
    assert.equal((await collect(await openRaw(socket, randomBytes(32)))).length, 0);
    const oversized = await new Promise<net.Socket>((resolve) => {
      const c = net.connect(socket, () => resolve(c));
    });
    oversized.write(Buffer.concat([offer.token, Buffer.from('x')]));
    assert.equal((await collect(oversized)).length, 0);
    assert.deepEqual(await collect(await openRaw(socket, offer.token)), data);
    await offer.done;
    assert.equal((await collect(await openRaw(socket, offer.token))).length, 0);
  });

  it('readRaw gives the same bytes, in order, to a reader that fell behind (reading paused, then resumed)', async () => {
    const data = randomBytes(24 * 1024 * 1024 + 7);
    let pulled = 0;
    let at = 0;
    const source = new Readable({
      read() {
        const piece = data.subarray(at, at + 1024 * 1024);
        at += piece.length;
        pulled += piece.length;
        this.push(piece.length ? piece : null);
      },
    });
    const offer = server.offer(source, new AbortController().signal);
    const reader = await readRaw(socket, offer.token);
    // Nobody reads until the client has queued its fill (8 MiB) and the
    // server has stopped being able to send: reading is paused then.
    let stalled = 0;
    for (let last = -1; stalled < 200;) {
      await new Promise((r) => setImmediate(r));
      stalled = pulled === last ? stalled + 1 : 0;
      last = pulled;
    }
    assert.ok(pulled >= 8 * 1024 * 1024 && pulled < data.length, `the server sent ${pulled} bytes before the reader read`);
    const parts: Buffer[] = [];
    for await (const chunk of reader) parts.push(chunk);
    assert.deepEqual(Buffer.concat(parts), data);
    await offer.done;
    // A wrong token: nothing; no socket there: refused.
    let wrong = 0;
    for await (const chunk of await readRaw(socket, randomBytes(32))) wrong += chunk.length;
    assert.equal(wrong, 0);
    await assert.rejects(readRaw(path.join(dir, 'none.raw'), randomBytes(32)));
  });

  it('a file range is sent from the descriptor: whole, a middle range, a range past the end (cut at the end)', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 11);
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r');
    try {
      const read = async (start: number, end: number) => {
        const offer = server.offer({ fd, start, end }, new AbortController().signal);
        const got = await collect(await openRaw(socket, offer.token));
        await offer.done;
        return got;
      };
      assert.deepEqual(await read(0, Infinity), data);
      assert.deepEqual(await read(1024 * 1024 - 3, 3 * 1024 * 1024 + 2), data.subarray(1024 * 1024 - 3, 3 * 1024 * 1024 + 3));
      assert.deepEqual(await read(data.length - 10, data.length + 5 * 1024 * 1024), data.subarray(data.length - 10));
      assert.deepEqual(await read(7, 7), data.subarray(7, 8));
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a reader hanging up in the middle of a file range fails the offer and nothing else', async () => {
    const file = path.join(dir, 'big');
    fs.writeFileSync(file, Buffer.alloc(32 * 1024 * 1024, 1));
    const fd = fs.openSync(file, 'r');
    // In gantryd an unhandled rejection ends the process.
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const offer = server.offer({ fd, start: 0, end: Infinity }, new AbortController().signal);
      const conn = await openRaw(socket, offer.token);
      await new Promise((resolve) => conn.once('data', resolve));
      conn.destroy();
      await assert.rejects(offer.done);
      // The server still serves the next offer.
      const again = server.offer({ fd, start: 0, end: 9 }, new AbortController().signal);
      assert.equal((await collect(await openRaw(socket, again.token))).length, 10);
      await again.done;
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      fs.closeSync(fd);
    }
  });

  it("a file range cut by its call's end mid-transfer fails with the call's reason", async () => {
    const file = path.join(dir, 'cut');
    fs.writeFileSync(file, Buffer.alloc(16 * 1024 * 1024, 2));
    const fd = fs.openSync(file, 'r');
    try {
      const call = new AbortController();
      const offer = server.offer({ fd, start: 0, end: Infinity }, call.signal);
      const conn = await openRaw(socket, offer.token);
      await new Promise((resolve) => conn.once('data', resolve));
      conn.pause(); // the sender now waits for the socket to drain
      call.abort(new Error('call ended'));
      await assert.rejects(offer.done, /call ended/);
      conn.destroy();
    } finally {
      fs.closeSync(fd);
    }
  });

  it("an offer withdrawn by its call's end cannot be collected; its stream is destroyed", async () => {
    const calls = new AbortController();
    const stream = Readable.from([Buffer.from('secret')]);
    const offer = server.offer(stream, calls.signal);
    calls.abort(new Error('call ended'));
    await assert.rejects(offer.done, /call ended/);
    assert.ok(stream.destroyed);
    assert.equal((await collect(await openRaw(socket, offer.token))).length, 0);
  });

  it('close() cuts a transfer in flight (a slow reader does not hold up the daemon) and removes the socket', async () => {
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    const offer = server.offer(endless, new AbortController().signal);
    const conn = await openRaw(socket, offer.token);
    await new Promise((resolve) => conn.once('data', resolve));
    conn.pause();
    const ended = collect(conn);
    await server.close();
    await ended;
    await assert.rejects(offer.done);
    assert.ok(!fs.existsSync(socket));
  });

  it('refuses to replace a path that is not a socket; replaces a stale socket', async () => {
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, '');
    await assert.rejects(new RawByteServer(silentLogger).listen(file), /not a socket/);
    const stale = new RawByteServer(silentLogger);
    await stale.listen(socket); // the first server's file: taken over, as a dead daemon's would be
    await stale.close();
  });
});
