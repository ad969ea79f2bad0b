/**
 * gantryd's raw socket: bulk bytes beside gRPC (docs/files.md, "Large
 * reads"). A call that has bytes to send (a large ReadFile) offers them here
 * and answers with a ticket; the client connects to this socket, writes the
 * ticket's token and reads the bytes, piped straight from the stream with
 * no protobuf framing, no HTTP/2 frames and no copies in between.
 *
 * Who may read: the socket is bound as the API socket is (never reachable by
 * "other", docs/security.md), and a connection gets nothing but what its
 * token was issued for. A token is 32 random bytes (Node cannot read a unix
 * peer's credentials, so it is a bearer secret as strong as a key), usable
 * once, for TICKET_TTL_MS at most, and only while the call that issued it
 * is still open: a cancelled call takes its ticket with it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { errorOf, failedPrecondition } from '../errdefs/errdefs';
import { settleAll } from '../util/concurrency';
import { readAt } from '../util/files';
import type { Logger } from '../util/log';
import { TOKEN_BYTES } from './protocol';

/** How long an offer waits for its reader. */
const TICKET_TTL_MS = 10_000;
/** How long a connection may take to send its token. */
const TOKEN_TIMEOUT_MS = 5_000;
const SOCKET_MODE = 0o660;

/**
 * A range of a file its owner holds open until the offer is done: sent from
 * two reused buffers, one read while the other is written, so a large read
 * allocates nothing per chunk. (A read stream takes a fresh 1 MiB buffer
 * per read, mapped, faulted in and unmapped again under gantryd's malloc
 * settings: ~40 % of a 50 MiB read, docs/performance.md, the files benchmark.)
 */
export interface RawFileRange {
  readonly fd: number;
  readonly start: number;
  /** Inclusive; Infinity: to the end of the file. */
  readonly end: number;
}

/** What an offer sends: a stream's bytes, or a file's range. */
export type RawSource = Readable | RawFileRange;

/** Each of the two buffers a file range is sent from. */
const FILE_CHUNK = 1024 * 1024;

interface Offer {
  readonly token: Buffer;
  /** Gives up what it would have sent (gantryd stops). */
  abandon(): void;
  redeem(conn: net.Socket): void;
}

function isRange(source: RawSource): source is RawFileRange {
  return typeof (source as RawFileRange).fd === 'number' && !('pipe' in source);
}

/** Sends `range` to `conn` and ends it; stops at the file's end if it is shorter. */
async function sendRange(range: RawFileRange, conn: net.Socket): Promise<void> {
  const buffers = [Buffer.allocUnsafeSlow(FILE_CHUNK), Buffer.allocUnsafeSlow(FILE_CHUNK)];
  // A buffer is read into again only once the kernel has taken its last write.
  const sent: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  let position = range.start;
  try {
    for (let i = 0; position <= range.end; i ^= 1) {
      await sent[i];
      const n = await readAt(range.fd, buffers[i], Math.min(FILE_CHUNK, range.end - position + 1), position);
      if (n === 0) break;
      position += n;
      const write = new Promise<void>((resolve, reject) => conn.write(buffers[i].subarray(0, n), (e) => (e ? reject(e) : resolve())));
      // Awaited later; handled now, so a failure while the other buffer is read is not an unhandled rejection.
      write.catch(() => undefined);
      sent[i] = write;
    }
  } catch (e) {
    // Settled before the caller may close the file or reuse anything.
    await Promise.allSettled(sent);
    throw e;
  }
  await settleAll(sent);
  conn.end();
  await finished(conn, { readable: false });
}

export interface RawOffer {
  readonly token: Buffer;
  /** Settles once the bytes are sent (or failed to be, or nobody came for them). */
  readonly done: Promise<void>;
}

export class RawByteServer {
  private readonly offers = new Map<string, Offer>();
  /** Open connections, cut at close() (a slow reader must not hold up gantryd's stop). */
  private readonly conns = new Set<net.Socket>();
  private server?: net.Server;
  private path?: string;

  constructor(private readonly log: Logger) {}

  /** Whether offers can be made (the socket is bound). */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /**
   * Binds the socket at `path`, mode 0660 from the start, group `gid` if
   * given. A socket file left there by a dead daemon is replaced (the caller
   * holds the API socket's instance lock); anything else there is refused.
   */
  async listen(path: string, gid?: number): Promise<void> {
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    if (st && !st.isSocket()) throw failedPrecondition(`${path} exists and is not a socket; refusing to replace it`);
    if (st) fs.unlinkSync(path);
    const server = net.createServer({ pauseOnConnect: true }, (conn) => this.accept(conn));
    const previous = process.umask(0o777 & ~SOCKET_MODE);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(previous);
    }
    server.on('error', (e) => this.log.warn('raw socket failed', { error: e }));
    if (gid !== undefined) fs.lchownSync(path, process.getuid?.() ?? 0, gid);
    const bound = fs.lstatSync(path);
    if (!bound.isSocket() || (bound.mode & 0o777) !== SOCKET_MODE) {
      server.close();
      throw failedPrecondition(`${path} changed while gantryd was binding it; refusing to serve on it`);
    }
    this.server = server;
    this.path = path;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const offer of this.offers.values()) offer.abandon();
    this.offers.clear();
    for (const conn of this.conns) conn.destroy();
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.path) fs.rmSync(this.path, { force: true });
  }

  /**
   * Offers `source`'s bytes to whoever presents the returned token first.
   * `signal` is the issuing call's: aborting it withdraws the offer (or cuts
   * the transfer). `done` rejects when the reader never came or the sending failed.
   */
  offer(source: RawSource, signal: AbortSignal): RawOffer {
    const abandon = () => {
      if (!isRange(source)) source.destroy();
    };
    const token = randomBytes(TOKEN_BYTES);
    const key = token.subarray(0, 16).toString('hex');
    let conn: net.Socket | undefined;
    let settle!: (error?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error?: unknown) =>
        error === undefined ? resolve() : reject(error instanceof Error ? error : new Error('the raw read failed', { cause: error }));
    });
    // Handled even when the caller never awaits it (its send failed first).
    done.catch(() => undefined);
    const withdraw = () => {
      this.offers.delete(key);
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    let abortedBy: unknown;
    const onAbort = () => {
      withdraw();
      abandon();
      abortedBy = signal.reason ?? new Error('cancelled');
      // A transfer under way settles the offer once it has stopped, so its
      // owner closes a file range's descriptor only when nothing reads it.
      if (conn) conn.destroy();
      else settle(abortedBy);
    };
    const timer = setTimeout(() => {
      withdraw();
      settle(errorOf('DeadlineExceeded')(`the raw read was not collected within ${TICKET_TTL_MS / 1000} s`));
    }, TICKET_TTL_MS);
    signal.addEventListener('abort', onAbort, { once: true });
    this.offers.set(key, {
      token,
      abandon,
      redeem: (c) => {
        conn = c;
        clearTimeout(timer);
        this.offers.delete(key);
        (isRange(source) ? sendRange(source, c) : pipeline(source, c)).then(
          () => {
            signal.removeEventListener('abort', onAbort);
            settle();
          },
          (e: unknown) => {
            signal.removeEventListener('abort', onAbort);
            settle(abortedBy ?? e);
          },
        );
      },
    });
    if (signal.aborted) onAbort();
    return { token, done };
  }

  /** A new connection: its first TOKEN_BYTES bytes must be a live token; anything else is dropped. */
  private accept(conn: net.Socket): void {
    const parts: Buffer[] = [];
    let have = 0;
    const timeout = setTimeout(() => conn.destroy(), TOKEN_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      have += chunk.length;
      if (have < TOKEN_BYTES) return;
      clearTimeout(timeout);
      conn.off('data', onData);
      conn.pause();
      const token = Buffer.concat(parts, have);
      const offer = have === TOKEN_BYTES ? this.offers.get(token.subarray(0, 16).toString('hex')) : undefined;
      if (!offer || !timingSafeEqual(offer.token, token)) {
        conn.destroy();
        return;
      }
      offer.redeem(conn);
    };
    conn.on('data', onData);
    conn.on('error', () => undefined); // a reader gone away: the pipeline reports it to the offer
    this.conns.add(conn);
    conn.on('close', () => {
      clearTimeout(timeout);
      this.conns.delete(conn);
    });
    conn.resume();
  }
}
