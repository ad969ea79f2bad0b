// The k8s-file log reader against real files written in conmon's exact format
// (docs/conmon.md §4): parsing, history (tail/since/until across a rotated file,
// partial lines joined), following (appends, rename + new file as conmon's
// reopen does it, truncation, stop callback) and the size rotator.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, removeTempDir } from '../../helpers/tmp';
import {
  LogEntry,
  LogFiles,
  ReadLogsOptions,
  formatTimestamp,
  lineBytes,
  logFiles,
  parseLogLine,
  parseTimestamp,
  readLogs,
  stopWhenGone,
} from '../../../runtime/tasks/logs/logs';
import { LogRotator } from '../../../runtime/tasks/logs/rotate';
import { isInvalidArgument } from '../../../runtime/errdefs/errdefs';
import { waitFor } from '../../helpers/waitFor';

const BASE = Date.UTC(2026, 10, 28, 12, 0, 0); // 2026-11-28T12:00:00Z

/** conmon's timestamp: local time with 9 digits and an offset (+05:30 here, as with TZ=Asia/Kolkata). */
function stamp(ms: number, nanos = 0): string {
  const local = new Date(ms + 330 * 60_000).toISOString().slice(0, 19);
  const ns = (ms % 1000) * 1_000_000 + nanos;
  return `${local}.${String(ns).padStart(9, '0')}+05:30`;
}

type Stream = 'stdout' | 'stderr';
/** One k8s-file entry line; `at` is seconds after BASE. */
const line = (at: number, stream: Stream, tag: 'F' | 'P', data: string) => `${stamp(BASE + at * 1000)} ${stream} ${tag} ${data}\n`;
const out = (at: number, data: string) => line(at, 'stdout', 'F', data);

const ctx = () => ({ signal: new AbortController().signal });

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const all: LogEntry[] = [];
  for await (const e of it) all.push(e);
  return all;
}

const texts = (es: LogEntry[]) => es.map((e) => `${e.stream === 'stderr' ? 'E:' : ''}${e.data.toString()}${e.partial ? '…' : ''}`);

async function read(files: LogFiles, opts: ReadLogsOptions = {}): Promise<string[]> {
  return texts(await collect(readLogs(ctx(), files, opts)));
}

/** Polls until `pred` holds; no assertion on time. */
async function until(pred: () => boolean, what = 'the follower'): Promise<void> {
  await waitFor(pred, { what, timeoutMs: 8000 });
}

/** A follower running in the background, collecting entries until told to stop. */
function follow(files: LogFiles, opts: ReadLogsOptions = {}) {
  let stop = false;
  let idles = 0;
  const seen: LogEntry[] = [];
  const done = (async () => {
    // shouldStop is asked each time the follower has read everything and is about to wait: it counts those waits.
    const shouldStop = () => (idles++, stop);
    for await (const e of readLogs(ctx(), files, { ...opts, follow: { shouldStop, pollMs: 50 } })) seen.push(e);
  })();
  return {
    seen,
    /** Times the follower has gone idle (read all there was, about to wait). */
    idles: () => idles,
    /** Resolves once the follower has gone idle `n` more times: it has looked at what is there now. */
    idleAgain: (n = 2) => {
      const from = idles;
      return until(() => idles >= from + n, `the follower idle ${n} more times`);
    },
    texts: () => texts(seen),
    waitFor: (n: number) => until(() => seen.length >= n),
    stop: async () => {
      stop = true;
      await done;
    },
    done,
  };
}

describe('tasks/logs: parseLogLine', () => {
  it('parses conmon entries: time with offset and nanoseconds, stream, F/P, raw bytes', () => {
    const e = parseLogLine('2026-11-28T17:33:18.567123391+05:30 stdout F out  line with  spaces\n')!;
    assert.equal(e.stream, 'stdout');
    assert.equal(e.partial, false);
    assert.equal(e.data.toString(), 'out  line with  spaces');
    assert.equal(e.time.toISOString(), '2026-11-28T12:03:18.567Z');
    assert.equal(e.timeNs, BigInt(Date.UTC(2026, 10, 28, 12, 3, 18)) * 1_000_000n + 567_123_391n);
    assert.equal(formatTimestamp(e.timeNs), '2026-11-28T12:03:18.567123391Z');

    const p = parseLogLine(Buffer.from('2026-11-28T12:33:18.000000001Z stderr P partial'))!;
    assert.deepEqual([p.stream, p.partial, p.data.toString(), p.timeNs % 1_000_000_000n], ['stderr', true, 'partial', 1n]);
    assert.equal(lineBytes(p).toString(), 'partial');
    assert.equal(lineBytes(e).toString(), 'out  line with  spaces\n');
  });

  it('keeps empty lines, CRs from a TTY and non-UTF-8 bytes', () => {
    assert.equal(parseLogLine('2026-11-28T12:33:18.1Z stdout F ')!.data.length, 0);
    assert.equal(parseLogLine('2026-11-28T12:33:18.1Z stdout F')!.data.length, 0);
    assert.equal(parseLogLine('2026-11-28T12:33:18Z stdout F BusyBox\r')!.data.toString(), 'BusyBox\r');
    const raw = Buffer.concat([Buffer.from('2026-11-28T12:33:18Z stdout F '), Buffer.from([0xff, 0x00, 0xfe])]);
    assert.deepEqual([...parseLogLine(raw)!.data], [0xff, 0x00, 0xfe]);
    assert.equal(parseLogLine('2026-11-28T12:33:18Z stdout F:x:y data')!.data.toString(), 'data', 'extra tag fields');
  });

  it('rejects what is not an entry', () => {
    for (const bad of [
      '',
      'hello world',
      '2026-11-28T12:33:18Z',
      '2026-11-28T12:33:18Z stdout',
      '2026-11-28T12:33:18Z stdin F x',
      '2026-11-28T12:33:18Z stdout X x',
      '2026-11-28 12:33:18Z stdout F x',
      '2026-13-28T12:33:18Z stdout F x',
      '2026-11-28T12:33:18.1234567891Z stdout F x',
      '2026-11-28T12:33:18+0530 stdout F x',
      ' stdout F x',
    ]) {
      assert.equal(parseLogLine(bad), undefined, JSON.stringify(bad));
    }
    assert.equal(parseTimestamp('2026-11-28T12:33:18-01:00'), BigInt(Date.UTC(2026, 10, 28, 13, 33, 18)) * 1_000_000n);
  });
});

describe('tasks/logs: history', () => {
  let dir: string;
  let files: LogFiles;
  beforeEach(async () => {
    dir = await makeTempDir('gt-logs');
    files = logFiles(path.join(dir, 'container.log'));
  });
  afterEach(() => removeTempDir(dir));

  const write = (name: string, ...lines: string[]) => fs.writeFileSync(path.join(dir, name), lines.join(''));

  it('reads the rotated file, then the live one; skips malformed lines and a half-written last line', async () => {
    write('container.log.1', out(1, 'one'), 'garbage\n', out(2, 'two'));
    write('container.log', out(3, 'three'), '\n', line(4, 'stderr', 'F', 'four'), `${stamp(BASE + 5000)} stdout F no-newl`);
    assert.deepEqual(await read(files), ['one', 'two', 'three', 'E:four']);
    assert.deepEqual(await read(files, { streams: ['stderr'] }), ['E:four']);
    assert.deepEqual(await read({ path: path.join(dir, 'missing.log'), rotated: [] }), []);
  });

  it('joins partial entries per stream, even with the other stream in between', async () => {
    write(
      'container.log',
      line(1, 'stdout', 'P', 'Na'),
      line(1, 'stderr', 'F', 'warn'),
      line(2, 'stdout', 'P', 'me: '),
      line(3, 'stdout', 'F', 'bob'),
      line(4, 'stderr', 'P', 'tail-without-newline'),
    );
    const entries = await collect(readLogs(ctx(), files));
    assert.deepEqual(texts(entries), ['E:warn', 'Name: bob', 'E:tail-without-newline…']);
    assert.equal(entries[1].time.getTime(), BASE + 3000, 'a joined line has the time of its last chunk');
  });

  it('tail counts whole lines across the rotated file', async () => {
    write('container.log.1', out(1, 'a'), out(2, 'b'), line(3, 'stdout', 'P', 'c1-'));
    write('container.log', line(4, 'stdout', 'P', 'c2-'), line(4, 'stderr', 'F', 'err'), line(5, 'stdout', 'F', 'c3'), out(6, 'd'));
    assert.deepEqual(await read(files, { tail: 1 }), ['d']);
    assert.deepEqual(await read(files, { tail: 3 }), ['E:err', 'c1-c2-c3', 'd']);
    assert.deepEqual(await read(files, { tail: 4 }), ['b', 'E:err', 'c1-c2-c3', 'd']);
    assert.deepEqual(await read(files, { tail: 100 }), ['a', 'b', 'E:err', 'c1-c2-c3', 'd']);
    assert.deepEqual(await read(files, { tail: 0 }), []);
    assert.deepEqual(await read(files, { tail: -1 }), ['a', 'b', 'E:err', 'c1-c2-c3', 'd']);
    assert.deepEqual(await read(files, { tail: 2, streams: ['stdout'] }), ['c1-c2-c3', 'd']);
    await assert.rejects(collect(readLogs(ctx(), files, { tail: 1.5 })), isInvalidArgument);
  });

  it('tail counts a trailing unfinished line as one', async () => {
    write('container.log', out(1, 'a'), line(2, 'stdout', 'P', 'x'), out(3, 'b'), line(4, 'stdout', 'P', 'prompt> '));
    assert.deepEqual(await read(files, { tail: 2 }), ['xb', 'prompt> …']);
  });

  it('since and until select by time, with tail counting inside the window', async () => {
    write('container.log.1', out(1, 'a'), out(2, 'b'));
    write('container.log', out(3, 'c'), out(4, 'd'), out(5, 'e'));
    const at = (s: number) => new Date(BASE + s * 1000);
    assert.deepEqual(await read(files, { since: at(2) }), ['b', 'c', 'd', 'e']);
    assert.deepEqual(await read(files, { until: at(3) }), ['a', 'b', 'c']);
    assert.deepEqual(await read(files, { since: at(2), until: at(4) }), ['b', 'c', 'd']);
    assert.deepEqual(await read(files, { until: at(4), tail: 2 }), ['c', 'd']);
    assert.deepEqual(await read(files, { since: at(4), tail: 5 }), ['d', 'e']);
    // Nanoseconds count: 12:00:03.000000500 is after a since of 12:00:03.000.
    write('container.log', `${stamp(BASE + 3000, 500)} stdout F ns\n`);
    assert.deepEqual(await read({ path: files.path, rotated: [] }, { since: at(3) }), ['ns']);
  });

  it('tail 10 of a 50 MB log reads only the end', async function () {
    this.timeout(60_000);
    const fd = fs.openSync(files.path, 'w');
    const block = Array.from({ length: 1000 }, (_, i) => out(1, `filler line ${i} `.padEnd(100, '.'))).join('');
    const blockBytes = Buffer.byteLength(block);
    for (let written = 0; written < 50 * 1024 * 1024; written += blockBytes) fs.writeSync(fd, block);
    for (let i = 0; i < 10; i++) fs.writeSync(fd, out(2, `last ${i}`));
    fs.closeSync(fd);
    const counter = { bytesRead: 0 };
    const got = await read(files, { tail: 10, counter });
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => `last ${i}`),
    );
    assert.ok(counter.bytesRead <= 256 * 1024, `read ${counter.bytesRead} bytes of a ${fs.statSync(files.path).size}-byte file`);
  });

  it('a line too long to be an entry is skipped, in both directions', async () => {
    write('container.log', out(1, 'before'), `${stamp(BASE)} stdout F ${'x'.repeat(3 * 1024 * 1024)}\n`, out(2, 'after'));
    assert.deepEqual(await read(files), ['before', 'after']);
    assert.deepEqual(await read(files, { tail: 5 }), ['before', 'after']);
  });
});

describe('tasks/logs: follow', () => {
  let dir: string;
  let files: LogFiles;
  let log: string;
  beforeEach(async () => {
    dir = await makeTempDir('gt-logf');
    log = path.join(dir, 'container.log');
    files = logFiles(log);
  });
  afterEach(() => removeTempDir(dir));

  /** Writes like conmon: one O_APPEND fd, one entry per write. */
  const openWriter = (p = log) => {
    const fd = fs.openSync(p, 'a');
    return { write: (...ls: string[]) => ls.forEach((l) => fs.writeSync(fd, l)), close: () => fs.closeSync(fd) };
  };

  it('sees appended lines after the history, then stops when the callback says so', async () => {
    const w = openWriter();
    w.write(out(1, 'old-1'), out(2, 'old-2'));
    const f = follow(files, { tail: 1 });
    await f.waitFor(1);
    w.write(out(3, 'new-1'));
    await f.waitFor(2);
    w.write(line(4, 'stdout', 'P', 'half-'));
    w.write(line(4, 'stdout', 'F', 'done'), out(5, 'new-3'));
    await f.waitFor(4);
    await f.stop();
    w.close();
    assert.deepEqual(f.texts(), ['old-2', 'new-1', 'half-done', 'new-3']);
  });

  it('waits for a log that does not exist yet', async () => {
    const f = follow(files);
    await f.idleAgain(); // it looked, found no log, and waits
    const w = openWriter();
    w.write(out(1, 'first'));
    await f.waitFor(1);
    await f.stop();
    w.close();
    assert.deepEqual(f.texts(), ['first']);
  });

  it('shows a prompt (a partial line) while waiting, and its rest later', async () => {
    const w = openWriter();
    w.write(line(1, 'stdout', 'P', 'Password: '));
    const f = follow(files);
    await f.waitFor(1);
    assert.deepEqual(f.texts(), ['Password: …']);
    w.write(line(2, 'stdout', 'F', 'ok'));
    await f.waitFor(2);
    await f.stop();
    w.close();
    assert.deepEqual(f.seen.map((e) => lineBytes(e).toString()).join(''), 'Password: ok\n');
  });

  it('survives a rename + new file as conmon reopens: the old file is read to its end first', async () => {
    const w1 = openWriter();
    w1.write(out(1, 'l1'));
    const f = follow(files);
    await f.waitFor(1);
    fs.renameSync(log, `${log}.1`);
    w1.write(out(2, 'l2 (into the renamed file, before the reopen)'));
    // conmon's reopen: a fresh file created as .tmp and renamed over the log.
    fs.writeFileSync(`${log}.tmp`, '');
    fs.renameSync(`${log}.tmp`, log);
    await f.idleAgain(); // the follower sees an empty new file and keeps the old one
    w1.write(out(3, 'l3 (still old: conmon has not switched)'));
    w1.close();
    const w2 = openWriter();
    w2.write(out(4, 'l4'), out(5, 'l5'));
    await f.waitFor(5);
    await f.stop();
    w2.close();
    assert.deepEqual(
      f.texts().map((t) => t.split(' ')[0]),
      ['l1', 'l2', 'l3', 'l4', 'l5'],
    );
    // History after the fact: the rotated file, then the live one.
    assert.deepEqual(
      (await read(files)).map((t) => t.split(' ')[0]),
      ['l1', 'l2', 'l3', 'l4', 'l5'],
    );
  });

  it('starts over after a truncation', async () => {
    const w = openWriter();
    w.write(out(1, 'before-1'), out(2, 'before-2'));
    const f = follow(files);
    await f.waitFor(2);
    fs.truncateSync(log, 0);
    w.write(out(3, 'after'));
    await f.waitFor(3);
    await f.stop();
    w.close();
    assert.deepEqual(f.texts(), ['before-1', 'before-2', 'after']);
  });

  it('stopWhenGone: a restart within the grace keeps following, a longer stop ends it', async () => {
    let running = true;
    let removed = false;
    const shouldStop = stopWhenGone({ isRunning: () => running, isRemoved: () => removed, graceMs: 60_000 });
    assert.equal(shouldStop(), false);
    running = false;
    assert.equal(shouldStop(), false, 'inside the grace');
    running = true;
    assert.equal(shouldStop(), false);
    removed = true;
    assert.equal(shouldStop(), true);
    const zeroGrace = stopWhenGone({ isRunning: () => false, graceMs: 0 });
    assert.equal(zeroGrace(), true);

    // The follower ends by itself once the callback says so, with the last bytes read.
    const w = openWriter();
    w.write(out(1, 'x'));
    let calls = 0;
    const got = await collect(readLogs(ctx(), files, { follow: { shouldStop: () => ++calls >= 3, pollMs: 20 } }));
    w.close();
    assert.deepEqual(texts(got), ['x']);
    assert.equal(calls, 3);
  });

  it('an aborted ctx ends the stream', async () => {
    openWriter().write(out(1, 'x'));
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of readLogs({ signal: ac.signal }, files, { follow: { shouldStop: () => false, pollMs: 60_000 } })) {
        seen.push(e.data.toString());
      }
    })();
    await until(() => seen.length === 1);
    ac.abort();
    await done;
    assert.deepEqual(seen, ['x']);
  });

  it('loses no line across repeated LogRotator rotations while a writer keeps appending', async () => {
    // A fake conmon: appends through its fd; reopen() switches it to a fresh file as conmon does.
    let fd = fs.openSync(log, 'a');
    let reopens = 0;
    const rotator = new LogRotator({
      path: log,
      maxBytes: 1000,
      reopen: async () => {
        fs.writeSync(fd, out(0, 'late')); // conmon writes into the renamed file until it reopens
        fs.closeSync(fd);
        fs.writeFileSync(`${log}.tmp`, '');
        fs.renameSync(`${log}.tmp`, log);
        fd = fs.openSync(log, 'a');
        reopens++;
      },
    });
    const f = follow(files);
    const expected: string[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 30; i++) {
        fs.writeSync(fd, out(i, `r${round}-${i}`));
        expected.push(`r${round}-${i}`);
      }
      assert.equal(await rotator.check(), true);
      expected.push('late');
      fs.writeSync(fd, out(0, `r${round}-new`));
      expected.push(`r${round}-new`);
      await f.waitFor(expected.length); // the follower keeps up between rotations, not within them
    }
    await f.stop();
    fs.closeSync(fd);
    assert.equal(reopens, 10);
    assert.deepEqual(f.texts(), expected);
    assert.ok(!fs.existsSync(`${log}.2`), 'keeps one rotated file');
    // On disk: the newest lines, contiguous (the last rotated file and the live one).
    assert.deepEqual(await read(files), expected.slice(-33));
  });

  it('a follower held back across two rotations reads the file in between', async () => {
    const w = openWriter();
    w.write(out(1, 'a1'));
    const it = readLogs(ctx(), files, { follow: { shouldStop: () => true, pollMs: 20 } })[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.data.toString(), 'a1'); // the reader now holds file A, and waits for us
    w.write(out(2, 'a2'));
    w.close();
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, out(3, 'b1'));
    fs.renameSync(log, `${log}.1`); // A is deleted now; only the reader's fd keeps it
    fs.writeFileSync(log, out(4, 'c1'));
    const rest: string[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.data.toString());
    assert.deepEqual(rest, ['a2', 'b1', 'c1']);
  });
  it('a live file replaced in place (conmon --log-size-max, or a second reopen) does not send the follower back to older files', async () => {
    fs.writeFileSync(`${log}.1`, out(1, 'old-rotated'));
    const w = openWriter();
    w.write(out(2, 'live-1'));
    const f = follow(files);
    await f.waitFor(2);
    w.write(out(3, 'live-2'));
    w.close();
    // conmon's reopen without a rename first: a new file renamed over the live one, whose old content is gone.
    fs.writeFileSync(`${log}.tmp`, out(4, 'fresh-1'));
    fs.renameSync(`${log}.tmp`, log);
    await f.waitFor(4);
    await f.stop();
    assert.deepEqual(f.texts(), ['old-rotated', 'live-1', 'live-2', 'fresh-1']);
  });

  it("places files by the history's last entry when the held file was still empty", async () => {
    fs.writeFileSync(`${log}.1`, out(1, 'history'));
    fs.writeFileSync(log, ''); // a container created but not started yet
    const f = follow(files);
    await f.waitFor(1);
    fs.writeFileSync(`${log}.tmp`, out(2, 'fresh'));
    fs.renameSync(`${log}.tmp`, log); // replaced before anything was written to it
    await f.waitFor(2);
    await f.stop();
    assert.deepEqual(f.texts(), ['history', 'fresh']);
  });

  it('with no live file (rotated after conmon left), reads the rotated files newer than the one it held', async () => {
    const w = openWriter();
    w.write(out(1, 'a1'));
    const it = readLogs(ctx(), files, { follow: { shouldStop: () => true, pollMs: 20 } })[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.data.toString(), 'a1');
    w.write(out(2, 'a2'));
    w.close();
    fs.renameSync(log, `${log}.1`);
    fs.writeFileSync(log, out(3, 'b1'));
    fs.renameSync(log, `${log}.1`); // the last rotation: conmon was gone, nobody creates a new live file
    const rest: string[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.data.toString());
    assert.deepEqual(rest, ['a2', 'b1']);
  });
});

describe('tasks/logrotate', () => {
  let dir: string;
  beforeEach(async () => (dir = await makeTempDir('gt-logr')));
  afterEach(() => removeTempDir(dir));

  it('rotates only past the limit, keeps `keep` files, and reopens once per rotation', async () => {
    const log = path.join(dir, 'container.log');
    let reopens = 0;
    const r = new LogRotator({ path: log, maxBytes: 10, keep: 2, reopen: async () => void reopens++ });
    assert.equal(await r.check(), false, 'no file yet');
    fs.writeFileSync(log, '12345');
    assert.equal(await r.check(), false);
    fs.writeFileSync(log, '1234567890-first');
    assert.equal(await r.check(), true);
    assert.deepEqual([fs.existsSync(log), fs.readFileSync(`${log}.1`, 'utf8'), reopens], [false, '1234567890-first', 1]);
    // The (fake) conmon made no new file: no second reopen (it would discard a file conmon had just made).
    assert.equal(await r.check(), false);
    assert.equal(reopens, 1);
    fs.writeFileSync(log, '1234567890-second');
    await Promise.all([r.check(), r.check()]); // serialised: the second sees the fresh state
    fs.writeFileSync(log, '1234567890-third');
    assert.equal(await r.check(), true);
    assert.deepEqual(
      [fs.readFileSync(`${log}.1`, 'utf8'), fs.readFileSync(`${log}.2`, 'utf8'), fs.existsSync(`${log}.3`)],
      ['1234567890-third', '1234567890-second', false],
    );
    assert.throws(() => new LogRotator({ path: log, maxBytes: 0, reopen: async () => undefined }), isInvalidArgument);
    r.close();
  });
});
