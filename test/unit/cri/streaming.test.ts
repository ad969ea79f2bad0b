// The CRI streaming server (runtime/cri/streaming/) on its own: the framing
// helpers, the one-time tokens, and the server driven by the tests' SPDY and
// WebSocket clients (test/helpers/streamClients.ts) against an in-memory
// runtime (a `cat`, an `echo`, an exit code, a terminal size) and a real TCP
// server for port-forward. test/integration/cri/streaming.test.ts runs the
// same clients against real containers.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import {
  FrameReader,
  HeaderCodec,
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FrameType,
} from '../../../runtime/cri/streaming/spdyFrames';
import {
  Channel,
  ResizeDecoder,
  channelMessage,
  legacyError,
  negotiate,
  parseChannelMessage,
  portPrefix,
  statusJson,
} from '../../../runtime/cri/streaming/protocol';
import { TokenCache } from '../../../runtime/cri/streaming/tokens';
import { StreamingServer } from '../../../runtime/cri/streaming/server';
import type { StreamedProcess, StreamingRuntime } from '../../../runtime/cri/streaming/streaming';
import type { OutputFrame } from '../../../runtime/tasks/frames';
import { createLogger } from '../../../runtime/util/log';
import { waitFor } from '../../helpers/waitFor';
import {
  Refused,
  spdyCommand,
  spdyConnect,
  spdyPortForward,
  wsCommand,
  wsConnect,
  wsConnectRaw,
  wsPortForward,
  wsTunnelPortForward,
  type SpdyPortForward,
} from '../../helpers/streamClients';

/** Output frames as an async iterable fed by hand. */
class Frames implements AsyncIterable<OutputFrame> {
  private readonly queue: OutputFrame[] = [];
  private ended = false;
  private wake?: () => void;
  push(stream: 'stdout' | 'stderr', text: string | Buffer): void {
    this.queue.push({ stream, data: Buffer.from(text) });
    this.wake?.();
  }
  end(): void {
    this.ended = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<OutputFrame> {
    for (;;) {
      const f = this.queue.shift();
      if (f) yield f;
      else if (this.ended) return;
      else await new Promise<void>((r) => (this.wake = r));
    }
  }
}

interface FakeProcess extends StreamedProcess {
  readonly args: readonly string[];
  stdinClosed: boolean;
  killedWith?: string | number;
}

/**
 * Commands: `echo TEXT` (stdout) / `warn TEXT` (stderr) then exit 0; `exit N`;
 * `cat` echoes stdin until it ends; `size` prints each resize as "ROWS COLS";
 * `size` too, and ends only when killed.
 */
function fakeRuntime(): StreamingRuntime & { processes: FakeProcess[] } {
  const processes: FakeProcess[] = [];
  return {
    processes,
    exec: async (_ctx, _id, opts) => {
      const output = new Frames();
      let exit!: (code: number) => void;
      const exited = new Promise<number>((r) => (exit = r));
      const [cmd, ...rest] = opts.args;
      const finish = (code: number) => {
        output.end();
        exit(code);
      };
      const p: FakeProcess = {
        args: opts.args,
        stdinClosed: false,
        output,
        write: async (d) => {
          if (cmd === 'cat') output.push('stdout', d);
        },
        closeStdin: async () => {
          p.stdinClosed = true;
          if (cmd === 'cat') finish(0);
        },
        resize: async (rows, cols) => {
          if (cmd === 'size') output.push('stdout', `${rows} ${cols}\n`);
        },
        kill: (signal) => {
          p.killedWith = signal ?? 'SIGKILL';
          finish(129);
        },
        wait: () => exited,
      };
      processes.push(p);
      if (cmd === 'echo') {
        output.push('stdout', rest.join(' '));
        finish(0);
      } else if (cmd === 'warn') {
        output.push('stderr', rest.join(' '));
        finish(0);
      } else if (cmd === 'exit') finish(Number(rest[0]));
      return p;
    },
    attach: async () => {
      throw new Error('no attach here');
    },
    dial: async (_ctx, _pod, port) => {
      const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      socket.pause(); // as the relay hands its connections over (runtime/network/forward/dial.ts)
      return { socket, closed: new Promise<void>((r) => socket.once('close', () => r())), close: () => socket.destroy() };
    },
  };
}

describe('cri/streaming framing', () => {
  it('reads control and data frames split anywhere and header blocks back', () => {
    const block = encodeHeaderBlock({ streamType: 'stdout', port: '80' });
    assert.deepEqual(decodeHeaderBlock(block), { streamtype: 'stdout', port: '80' });
    const bytes = Buffer.concat([controlFrame(FrameType.Ping, 0, Buffer.of(0, 0, 0, 1)), dataFrame(3, 1, Buffer.from('hello'))]);
    const reader = new FrameReader();
    const frames = [...reader.push(bytes.subarray(0, 5)), ...reader.push(bytes.subarray(5, 13)), ...reader.push(bytes.subarray(13))];
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0], { control: true, type: FrameType.Ping, flags: 0, payload: Buffer.of(0, 0, 0, 1) });
    assert.deepEqual(frames[1], { control: false, streamId: 3, flags: 1, data: Buffer.from('hello') });
    assert.throws(() => new FrameReader().push(Buffer.from([0x80, 2, 0, 6, 0, 0, 0, 0])), /version 2/);
  });

  it('compresses header blocks in one context per direction', async () => {
    const sender = new HeaderCodec();
    const receiver = new HeaderCodec();
    for (const h of [{ streamtype: 'error' }, { streamtype: 'stdout' }, { streamtype: 'stdout', requestid: '7' }] as Record<
      string,
      string
    >[]) {
      assert.deepEqual(await receiver.decode(await sender.encode(h)), h);
    }
    sender.close();
    receiver.close();
  });

  it('negotiates in the client order, builds the error stream Status and parses resizes and channels', () => {
    assert.equal(negotiate('v3.channel.k8s.io, v4.channel.k8s.io', ['v4.channel.k8s.io', 'v3.channel.k8s.io']), 'v3.channel.k8s.io');
    assert.equal(negotiate(['x', 'v4.channel.k8s.io'], ['v4.channel.k8s.io']), 'v4.channel.k8s.io');
    assert.equal(negotiate('v9.channel.k8s.io', ['v4.channel.k8s.io']), undefined);
    assert.deepEqual(JSON.parse(statusJson({ exitCode: 0 })), { metadata: {}, status: 'Success' });
    const failed = JSON.parse(statusJson({ exitCode: 3 }));
    assert.equal(failed.reason, 'NonZeroExitCode');
    assert.deepEqual(failed.details.causes, [{ reason: 'ExitCode', message: '3' }]);
    assert.equal(legacyError({ exitCode: 0 }), undefined);
    assert.match(legacyError({ exitCode: 2 })!, /exit status 2/);
    const d = new ResizeDecoder();
    assert.deepEqual(d.push('{"Width":80,"Height":2'), []);
    assert.deepEqual(d.push('4}\n{"Width":100,"Height":40}\n'), [
      { rows: 24, cols: 80 },
      { rows: 40, cols: 100 },
    ]);
    assert.deepEqual(d.push('{"Width":0,"Height":1}'), []);
    assert.deepEqual(parseChannelMessage(channelMessage(Channel.stderr, 'x')), { channel: 2, data: Buffer.from('x') });
    assert.equal(parseChannelMessage(Buffer.alloc(0)), undefined);
    assert.deepEqual(portPrefix(3, 8080), Buffer.of(3, 0x90, 0x1f));
  });

  it('gives each token once, and not after it expired', () => {
    let now = 0;
    const cache = new TokenCache<string>(60_000, () => now);
    const a = cache.put('a');
    const b = cache.put('b');
    assert.notEqual(a, b);
    assert.ok(a.length >= 40);
    assert.equal(cache.take(a), 'a');
    assert.equal(cache.take(a), undefined);
    now = 60_000;
    assert.equal(cache.take(b), undefined);
    assert.equal(cache.size, 0);
  });
});

describe('cri/streaming server', () => {
  const log = createLogger('error');
  let server: StreamingServer;
  let runtime: ReturnType<typeof fakeRuntime>;
  const execUrl = (cmd: string[], o: { tty?: boolean; stdin?: boolean; stderr?: boolean } = {}) =>
    server.urlFor({ kind: 'exec', containerId: 'c', cmd, tty: !!o.tty, stdin: !!o.stdin, stdout: true, stderr: o.stderr ?? !o.tty });

  beforeEach(async () => {
    runtime = fakeRuntime();
    server = await StreamingServer.start({}, runtime, log);
  });
  afterEach(() => server.close());

  it('listens on 127.0.0.1 and answers URLs with a token', () => {
    assert.match(server.address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(execUrl(['echo']), /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{43}$/);
  });

  for (const [name, connect] of [
    [
      'SPDY',
      (url: string, o: { stdin?: boolean; tty?: boolean; stderr?: boolean }) =>
        spdyCommand(url, { stdout: true, stderr: o.stderr ?? !o.tty, ...o }),
    ],
    ['WebSocket', (url: string) => wsCommand(url)],
  ] as const) {
    it(`${name}: exec output, stderr apart, the exit code in the error stream`, async () => {
      const ok = await connect(execUrl(['echo', 'hi']), {});
      assert.equal(await ok.stdout.done, 'hi');
      assert.equal(JSON.parse(await ok.error).status, 'Success');
      const warn = await connect(execUrl(['warn', 'oops']), {});
      assert.equal(await warn.stderr.done, 'oops');
      assert.equal(await warn.stdout.done, '');
      const failed = JSON.parse(await (await connect(execUrl(['exit', '7']), {})).error);
      assert.equal(failed.reason, 'NonZeroExitCode');
      assert.equal(failed.details.causes[0].message, '7');
    });

    it(`${name}: stdin reaches the process, its end closes the process's stdin; resizes reach a TTY`, async () => {
      const cat = await connect(execUrl(['cat'], { stdin: true }), { stdin: true });
      cat.write('ping\n');
      await cat.stdout.waitFor('ping\n');
      cat.endStdin();
      assert.equal(JSON.parse(await cat.error).status, 'Success');
      assert.ok(runtime.processes[0].stdinClosed);
      const size = await connect(execUrl(['size'], { tty: true }), { tty: true });
      size.resize(100, 40);
      await size.stdout.waitFor('40 100\n');
      size.abandon();
    });

    it(`${name}: a client that goes away hangs its TTY exec up; another exec is not held`, async () => {
      const hung = await connect(execUrl(['size'], { tty: true, stdin: true }), { tty: true, stdin: true });
      hung.resize(80, 24);
      await hung.stdout.waitFor('24 80\n'); // it runs
      hung.abandon();
      const next = await connect(execUrl(['echo', 'next']), {});
      assert.equal(await next.stdout.done, 'next');
      await hung.stdout.done;
      for (let i = 0; !runtime.processes[0].killedWith && i < 100; i++) await new Promise((r) => setImmediate(r));
      assert.equal(runtime.processes[0].killedWith, 'SIGHUP');
      assert.ok(runtime.processes[0].stdinClosed);
    });
  }

  it('refuses a used or unknown token with 404 and a protocol it does not speak with 400', async () => {
    const url = execUrl(['echo', 'once']);
    await (
      await spdyCommand(url, { stdout: true, stderr: true })
    ).error;
    await assert.rejects(spdyCommand(url, { stdout: true }), (e) => e instanceof Refused && e.status === 404);
    await assert.rejects(wsCommand(url), (e) => e instanceof Refused && e.status === 404);
    await assert.rejects(wsCommand(`${server.address}/exec/nope`), (e) => e instanceof Refused && e.status === 404);
    await assert.rejects(
      spdyConnect(execUrl(['echo']), ['v9.channel.k8s.io']),
      (e) => e instanceof Refused && e.status === 400 && /v4\.channel\.k8s\.io/.test(e.body),
    );
    await assert.rejects(wsConnect(execUrl(['echo']), ['v9.base64.channel.k8s.io']), (e) => e instanceof Refused && e.status === 400);
    const plain = await fetch(execUrl(['echo']));
    assert.equal(plain.status, 400);
    // The SPDY tunnel is port-forward's alone: an exec URL refuses it as an upgrade failure, so client-go falls back to SPDY.
    await assert.rejects(
      wsConnectRaw(execUrl(['echo']), 'SPDY/3.1+portforward.k8s.io'),
      (e) => e instanceof Refused && e.status === 400 && /v5\.channel\.k8s\.io/.test(e.body),
    );
  });

  it('WebSocket base64 protocols: text messages, the channel a digit, base64 payloads; pre-v4 errors as text', async () => {
    const v4 = await wsCommand(execUrl(['cat'], { stdin: true }), ['v4.base64.channel.k8s.io']);
    assert.equal(v4.protocol, 'v4.base64.channel.k8s.io');
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0a]);
    v4.write(bytes.toString('latin1'));
    await v4.stdout.waitFor('\n');
    assert.deepEqual(Buffer.concat(v4.stdout.chunks), Buffer.from(bytes.toString('latin1')));
    v4.abandon();
    const failed = JSON.parse(await (await wsCommand(execUrl(['exit', '4']), ['v4.base64.channel.k8s.io'])).error);
    assert.equal(failed.details.causes[0].message, '4');
    const old = await wsCommand(execUrl(['warn', 'w']), ['base64.channel.k8s.io']);
    assert.equal(old.protocol, 'base64.channel.k8s.io');
    assert.equal(await old.stderr.done, 'w');
    assert.equal(await old.error, '');
    const oldFail = await wsCommand(execUrl(['exit', '6']), ['base64.channel.k8s.io']);
    assert.match(await oldFail.error, /exit status 6/);
    // A raw look at the frames: text, an ASCII digit, base64.
    const frames: { text: string; binary: boolean }[] = [];
    const raw = await wsConnect(execUrl(['echo', 'hi']), ['v4.base64.channel.k8s.io'], (d, binary) =>
      frames.push({ text: d.toString(), binary }),
    );
    await new Promise((r) => raw.once('close', r));
    assert.deepEqual(frames[0], { text: `1${Buffer.from('hi').toString('base64')}`, binary: false });
    assert.match(frames[frames.length - 1].text, /^3/);
  });

  it('closing the server ends every live connection, whatever the protocol', async () => {
    const spdy = await spdyCommand(execUrl(['size'], { tty: true }), { stdout: true, tty: true });
    const ws = await wsCommand(execUrl(['size'], { tty: true }));
    spdy.resize(10, 5);
    ws.resize(20, 6);
    await spdy.stdout.waitFor('5 10\n');
    await ws.stdout.waitFor('6 20\n');
    await server.close();
    await Promise.all([spdy.stdout.done, ws.stdout.done]);
  });

  it('SPDY v2 (channel.k8s.io family): text on the error stream only on failure', async () => {
    const client = await spdyCommand(execUrl(['exit', '3']), { stdout: true, stderr: true }, ['v2.channel.k8s.io']);
    assert.equal(client.protocol, 'v2.channel.k8s.io');
    assert.match(await client.error, /non-zero exit code: exit status 3/);
  });

  describe('port-forward backpressure: a client that does not read, a pod that does not read', () => {
    /** More than every buffer on the way (gantryd's mark, the kernel's socket buffers) holds. */
    const FLOOD = 96 * 1024 * 1024;
    const CHUNK = Buffer.alloc(64 * 1024, 0x61);
    let flood: net.Server;
    let floodPort: number;
    /** Per connection to the flood port: bytes sent, waiting on drain, done. */
    const senders: { sent: number; blocked: boolean; finished: boolean }[] = [];
    let sink: net.Server;
    let sinkPort: number;
    let echo: net.Server;
    let echoPort: number;
    const listen = async (server: net.Server) => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as net.AddressInfo).port;
    };
    beforeEach(async () => {
      senders.length = 0;
      flood = net.createServer((c) => {
        const me = { sent: 0, blocked: false, finished: false };
        senders.push(me);
        c.on('error', () => undefined);
        const pump = () => {
          me.blocked = false;
          while (me.sent < FLOOD) {
            me.sent += CHUNK.length;
            if (!c.write(CHUNK)) {
              me.blocked = true;
              c.once('drain', pump);
              return;
            }
          }
          me.finished = true;
          c.end();
        };
        pump();
      });
      floodPort = await listen(flood);
      // Takes a connection and never reads it.
      sink = net.createServer((c) => {
        c.pause();
        c.on('error', () => undefined);
      });
      sinkPort = await listen(sink);
      echo = net.createServer((c) => c.on('data', (d) => c.write(d)).on('error', () => undefined));
      echoPort = await listen(echo);
    });
    afterEach(() => {
      for (const s of [flood, sink, echo]) {
        s.close();
        (s as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      }
    });

    /** The flood's sender is held back: blocked on drain, its count unchanged over a few checks; it finishing is the failure. */
    const stalled = async () => {
      let last = -1;
      let same = 0;
      await waitFor(
        () => {
          const me = senders[0];
          if (me?.finished) throw new Error(`the pod side sent all ${FLOOD} bytes: gantryd took them without the client reading`);
          if (!me?.blocked || me.sent !== last) {
            last = me?.sent ?? -1;
            same = 0;
            return false;
          }
          return ++same >= 4;
        },
        { what: 'the pod side held back', intervalMs: 20, describe: () => senders[0] },
      );
      assert.ok(senders[0].sent < FLOOD / 2, `${senders[0].sent} bytes left the pod side for a client that reads nothing`);
    };

    /** What `read` says once it stops changing (unchanged over a few checks): where a stalled transfer stands. */
    const steady = async (read: () => number, what: string) => {
      let last = -1;
      let same = 0;
      await waitFor(
        () => {
          const now = read();
          if (now !== last) {
            last = now;
            same = 0;
            return false;
          }
          return ++same >= 4;
        },
        { what, intervalMs: 20, describe: read },
      );
      return last;
    };

    /** Another forward and an exec go through while one is hung. */
    const othersGoOn = async () => {
      const other = await wsPortForward(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [echoPort] }), [echoPort]);
      other.write(0, 'still here');
      await other.data[0].waitFor('still here');
      other.close();
      const exec = await wsCommand(execUrl(['echo', 'exec goes on']));
      assert.equal(await exec.stdout.done, 'exec goes on');
    };

    for (const [name, open] of [
      ['SPDY', (url: string) => spdyPortForward(url)],
      ['the SPDY tunnel', (url: string) => wsTunnelPortForward(url)],
    ] as const) {
      it(`${name}: the pod's bytes wait for a client that does not read, others go on; all arrive once it reads`, async () => {
        const pf = await open(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [floodPort] }));
        const hung = pf.forward(floodPort);
        hung.data.keep = false;
        await waitFor(() => hung.data.bytes > 0, { what: 'the first bytes' });
        pf.pause();
        await stalled();
        await othersGoOn();
        pf.resume();
        await hung.data.done;
        assert.equal(hung.data.bytes, FLOOD);
        pf.close();
      });

      it(`${name}: the client's bytes wait while the pod does not read`, async () => {
        const pf = await open(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [sinkPort] }));
        const stuck = pf.forward(sinkPort);
        for (let sent = 0; sent < FLOOD; sent += CHUNK.length) stuck.write(CHUNK);
        // Held by the client (its window stays shut), not taken into gantryd's buffers.
        const held = await steady(() => stuck.unsent(), 'the client holding its bytes');
        assert.ok(held > FLOOD / 2, `the client holds only ${held} of ${FLOOD} bytes: gantryd took the rest`);
        await othersGoOn();
        assert.equal(stuck.unsent(), held);
        pf.close();
      });
    }

    it('SPDY: a client that sends past the shut window is held back by not reading its connection', async () => {
      // A raw SPDY client, as the Kubernetes SPDY library: it never looks at windows.
      const socket = await new Promise<net.Socket>((resolve, reject) => {
        const req = http.request(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [sinkPort] }), {
          method: 'POST',
          headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' },
        });
        req.on('upgrade', (_res, s, head) => {
          if (head.length) s.unshift(head);
          resolve(s);
        });
        req.on('error', reject);
        req.end();
      });
      socket.on('data', () => undefined); // the server's frames, read and dropped
      const codec = new HeaderCodec();
      const syn = async (id: number, headers: Record<string, string>) => {
        const fixed = Buffer.alloc(10);
        fixed.writeUInt32BE(id);
        return controlFrame(FrameType.SynStream, 0, Buffer.concat([fixed, await codec.encode(headers)]));
      };
      socket.write(await syn(1, { streamtype: 'error', port: String(sinkPort), requestid: '0' }));
      socket.write(await syn(3, { streamtype: 'data', port: String(sinkPort), requestid: '0' }));
      const frame = dataFrame(3, 0, CHUNK);
      let sent = 0;
      const next = () => {
        if (sent >= FLOOD || socket.destroyed) return;
        socket.write(frame, (e) => {
          if (e) return;
          sent += CHUNK.length;
          next();
        });
      };
      next();
      const gone = await steady(() => sent, 'the client held back');
      assert.ok(gone < FLOOD / 2, `${gone} of ${FLOOD} bytes left a client whose pod reads nothing: gantryd took them`);
      await othersGoOn();
      assert.equal(sent, gone);
      socket.destroy();
    });

    it("WebSocket: the pod's bytes wait for a client that does not read, others go on; all arrive once it reads", async () => {
      const pf = await wsPortForward(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [floodPort] }), [floodPort]);
      pf.data[0].keep = false;
      await waitFor(() => pf.data[0].bytes > 0, { what: 'the first bytes' });
      pf.pause();
      await stalled();
      await othersGoOn();
      pf.resume();
      await pf.closed;
      assert.equal(pf.data[0].bytes, FLOOD);
    });

    it("WebSocket: the client's bytes wait while the pod does not read", async () => {
      const pf = await wsPortForward(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [sinkPort] }), [sinkPort]);
      const pump = pf.pump(0, FLOOD);
      // What left the client stops short: gantryd stopped reading it.
      const gone = await steady(() => pump.sent(), 'the client held back');
      assert.ok(gone < FLOOD / 2, `${gone} of ${FLOOD} bytes left a client whose pod reads nothing: gantryd took them`);
      await othersGoOn();
      assert.equal(pump.sent(), gone);
      pf.close();
    });
  });

  describe('port-forward', () => {
    let echo: net.Server;
    let port: number;
    beforeEach(async () => {
      echo = net.createServer({ allowHalfOpen: true }, (c) => {
        c.on('data', (d) => c.write(`echo:${d}`));
        c.on('end', () => c.end());
      });
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      port = (echo.address() as net.AddressInfo).port;
    });
    afterEach(() => echo.close());

    /** Two forwards to the echo server on one connection, each with its own requestID: bytes both ways, an end seen. */
    async function twoForwardsEcho(pf: SpdyPortForward): Promise<void> {
      const [a, b] = [pf.forward(port), pf.forward(port)];
      a.write('one');
      b.write('two');
      await a.data.waitFor('echo:one');
      await b.data.waitFor('echo:two');
      a.end();
      assert.equal(await a.data.done, 'echo:one');
    }

    it('SPDY: bytes both ways per requestID; a refused port is told on its error stream', async () => {
      const pf = await spdyPortForward(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [port] }));
      assert.equal(pf.protocol, 'portforward.k8s.io');
      await twoForwardsEcho(pf);
      const closedPort = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as net.AddressInfo).port;
          s.close(() => resolve(p));
        });
      });
      const refused = pf.forward(closedPort);
      assert.match(await refused.error, new RegExp(`error forwarding port ${closedPort}`));
      pf.close();
    });

    it('WebSocket: each channel announces its port, then carries the bytes', async () => {
      const pf = await wsPortForward(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [1] }), [port]);
      assert.equal(pf.protocol, 'portforward.k8s.io');
      assert.deepEqual(
        [...pf.announced],
        [
          [0, port],
          [1, port],
        ],
      );
      pf.write(0, 'hello');
      await pf.data[0].waitFor('echo:hello');
    });

    it('WebSocket v4.base64.channel.k8s.io: the ports and the bytes in base64 text', async () => {
      const pf = await wsPortForward(
        server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [port] }),
        [port],
        ['v4.base64.channel.k8s.io'],
      );
      assert.equal(pf.protocol, 'v4.base64.channel.k8s.io');
      assert.equal(pf.announced.get(0), port);
      pf.write(0, Buffer.from([0xff, 0x00, 0x41]));
      await pf.data[0].waitFor('echo:');
      assert.deepEqual(
        Buffer.concat(pf.data[0].chunks),
        Buffer.concat([Buffer.from('echo:'), Buffer.from(Buffer.from([0xff, 0x00, 0x41]).toString())]),
      );
      pf.close();
    });

    it('the SPDY tunnel (SPDY/3.1+portforward.k8s.io over WebSocket, as kubectl ≥ 1.30): bytes both ways, a refused port told', async () => {
      const pf = await wsTunnelPortForward(server.urlFor({ kind: 'portforward', podSandboxId: 'p', ports: [port] }));
      assert.equal(pf.protocol, 'SPDY/3.1+portforward.k8s.io');
      await twoForwardsEcho(pf);
      const refused = pf.forward(1);
      assert.match(await refused.error, /error forwarding port 1\b/);
      pf.close();
    });
  });
});
