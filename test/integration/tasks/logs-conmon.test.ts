// The log reader against real conmon output: a busybox container under
// conmon 2.1.6 + runc (spawned here as docs/conmon.md §1–§2 describe, without the
// task code) writes its stdout and stderr to a k8s-file log, which is read
// back with its stream tags, followed live, and rotated with conmon's reopen
// message while the container keeps printing — counting every line.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxRootfs, writeBundle, type RuncSpec } from '../../helpers/bundle';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { LogEntry, ReadLogsOptions, logFiles, readLogs, stopWhenGone } from '../../../runtime/tasks/logs/logs';
import { LogRotator, rotateLog } from '../../../runtime/tasks/logs/rotate';
import { waitFor } from '../../helpers/waitFor';

const ctx = () => ({ signal: new AbortController().signal });

interface Running {
  id: string;
  bundle: string;
  log: string;
  exitFile: string;
  exited: () => boolean;
  waitExit: () => Promise<number>;
}

describe('tasks/logs with conmon', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();
  let work: string;
  let rootfs: string;
  let runcRoot: string;
  let exits: string;

  before(async () => {
    work = await makeTempDir('gt-lc', cleanup);
    rootfs = await busyboxRootfs(work);
    runcRoot = path.join(work, 'runc');
    exits = path.join(work, 'exits');
    await fs.promises.mkdir(exits);
  });

  const runc = (...args: string[]) => runCommand('runc', [`--root=${runcRoot}`, ...args]);

  /**
   * conmon creates the container (it waits, `created`); the caller starts it
   * with `start()`. An existing bundle is reused (a restart).
   */
  async function createUnderConmon(id: string, script: string, gate?: string): Promise<Running & { start: () => Promise<void> }> {
    const bundle = path.join(work, id);
    // `gate`: a host dir the container sees at /gate, so a script can wait for the test at fixed points.
    const edit = gate
      ? (spec: RuncSpec) => void spec.mounts.push({ destination: '/gate', type: 'bind', source: gate, options: ['rbind', 'rw'] })
      : undefined;
    if (!fs.existsSync(path.join(bundle, 'config.json'))) await writeBundle(bundle, { rootfs, args: ['sh', '-c', script], edit });
    const log = path.join(bundle, 'container.log');
    const child = spawn(
      '/usr/bin/conmon',
      [
        '--api-version',
        '1',
        '-c',
        id,
        '-u',
        id,
        '-r',
        '/usr/sbin/runc',
        '-b',
        bundle,
        '-p',
        path.join(bundle, 'pidfile'),
        '-P',
        path.join(bundle, 'conmon.pid'),
        '-l',
        `k8s-file:${log}`,
        '--exit-dir',
        exits,
        '--full-attach',
        '--runtime-arg',
        `--root=${runcRoot}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { ...process.env, _OCI_SYNCPIPE: '3' }, detached: true, cwd: bundle },
    );
    cleanup.defer(async () => {
      await runc('kill', id, 'KILL').catch(() => undefined);
      await runc('delete', '--force', id).catch(() => undefined);
    });
    const sync = await firstLine(child.stdio[3] as NodeJS.ReadableStream, () => child.stderr!.read()?.toString() ?? '');
    for (const s of [child.stdio[3], child.stdout, child.stderr]) (s as { destroy(): void }).destroy();
    child.unref();
    const msg = JSON.parse(sync) as { data: number; message?: string };
    assert.ok(msg.data > 0, `conmon create failed: ${sync}`);
    const exitFile = path.join(exits, id);
    const exited = () => fs.existsSync(exitFile);
    return {
      id,
      bundle,
      log,
      exitFile,
      exited,
      start: async () => void (await runc('start', id)),
      waitExit: async () => {
        await waitFor(exited, { what: `${exitFile} written`, timeoutMs: 50_000 });
        return Number(await fs.promises.readFile(exitFile, 'utf8'));
      },
    };
  }

  /**
   * conmon's reopen message on the ctl fifo; quietly nothing when conmon is
   * gone: ENXIO on open (docs/conmon.md §6), or EPIPE on write when it closed the
   * fifo in between (it does while exiting).
   */
  const reopen = (bundle: string) => async () => {
    let fd: number;
    try {
      fd = fs.openSync(path.join(bundle, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENXIO') return;
      throw e;
    }
    try {
      fs.writeSync(fd, '2 0 0\n');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    } finally {
      fs.closeSync(fd);
    }
  };

  async function collect(files: ReturnType<typeof logFiles>, opts: ReadLogsOptions = {}): Promise<LogEntry[]> {
    const all: LogEntry[] = [];
    for await (const e of readLogs(ctx(), files, opts)) all.push(e);
    return all;
  }

  it('reads back stdout and stderr with their tags, long lines joined, a last partial line kept', async () => {
    const c = await createUnderConmon(
      'lc-streams',
      [
        'i=0; while [ $i -lt 50 ]; do echo out-$i; echo err-$i >&2; i=$((i+1)); done',
        "head -c 20000 /dev/zero | tr '\\0' x; echo",
        "printf 'no-newline'",
      ].join('; '),
    );
    await c.start();
    assert.equal(await c.waitExit(), 0);
    const raw = await fs.promises.readFile(c.log, 'utf8');
    assert.match(raw, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d stdout F out-0$/m, 'conmon wrote the k8s-file format');
    assert.match(raw, / stdout P x{100,}$/m, 'the 20000-byte line was cut into P entries');

    const entries = await collect(logFiles(c.log));
    const of = (s: string) => entries.filter((e) => e.stream === s).map((e) => e.data.toString());
    assert.deepEqual(
      of('stderr'),
      Array.from({ length: 50 }, (_, i) => `err-${i}`),
    );
    const stdout = of('stdout');
    assert.deepEqual(
      stdout.slice(0, 50),
      Array.from({ length: 50 }, (_, i) => `out-${i}`),
    );
    assert.equal(stdout[50], 'x'.repeat(20000));
    assert.equal(stdout[51], 'no-newline');
    assert.deepEqual(entries.map((e) => e.partial).filter(Boolean).length, 1);
    assert.equal(entries[entries.length - 1].partial, true);
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].stream === entries[i - 1].stream) assert.ok(entries[i].timeNs >= entries[i - 1].timeNs, 'in time order per stream');
    }
    const tail = await collect(logFiles(c.log), { tail: 3, streams: ['stdout'] });
    assert.deepEqual(
      tail.map((e) => e.data.length),
      [6, 20000, 10],
    );
  });

  it('follows a running container and stops once it has exited', async () => {
    const c = await createUnderConmon(
      'lc-follow',
      'i=0; while [ $i -lt 30 ]; do echo tick-$i; usleep 20000; i=$((i+1)); done; echo bye >&2',
    );
    const seen: string[] = [];
    const following = (async () => {
      const shouldStop = stopWhenGone({ isRunning: () => !c.exited(), graceMs: 200 });
      for await (const e of readLogs(ctx(), logFiles(c.log), { follow: { shouldStop, pollMs: 50 } })) {
        seen.push(`${e.stream}:${e.data}`);
      }
    })();
    await c.start();
    await following; // ends by itself: the exit file appeared and the grace passed
    assert.deepEqual(seen, [...Array.from({ length: 30 }, (_, i) => `stdout:tick-${i}`), 'stderr:bye']);
  });

  it('keeps following across a restart: a new conmon appends to the same log', async () => {
    const script = 'echo hello; echo oops >&2';
    const first = await createUnderConmon('lc-restart', script);
    let removed = false;
    const seen: string[] = [];
    const following = (async () => {
      const shouldStop = stopWhenGone({ isRunning: () => true, isRemoved: () => removed });
      for await (const e of readLogs(ctx(), logFiles(first.log), { follow: { shouldStop, pollMs: 50 } }))
        seen.push(`${e.stream}:${e.data}`);
    })();
    await first.start();
    assert.equal(await first.waitExit(), 0);
    await waitFor(() => seen.length >= 2, { what: "the first run's two lines", describe: () => seen });
    await runc('delete', first.id);
    await fs.promises.rm(first.exitFile);
    const second = await createUnderConmon('lc-restart', script); // same bundle, same log path
    await second.start();
    assert.equal(await second.waitExit(), 0);
    await waitFor(() => seen.length >= 4, { what: "the second run's two lines", describe: () => seen });
    removed = true;
    await following;
    assert.deepEqual(seen, ['stdout:hello', 'stderr:oops', 'stdout:hello', 'stderr:oops']);
    assert.equal((await collect(logFiles(first.log))).length, 4, 'the log kept the first run');
  });

  it('rotation by rename + reopen while the container prints loses no line', async () => {
    const N = 6000;
    // Halfway the script waits for the test, so the second half always lands
    // after the rotation, however slow the machine is.
    const gate = await makeTempDir('gt-gate', cleanup);
    const c = await createUnderConmon(
      'lc-rotate',
      `i=0; while [ $i -lt ${N} ]; do echo line-$i; i=$((i+1)); [ $((i % 200)) = 0 ] && usleep 20000; ` +
        `if [ $i = ${N / 2} ]; then while [ ! -e /gate/go ]; do usleep 10000; done; fi; done`,
      gate,
    );
    const files = logFiles(c.log);
    const followed: string[] = [];
    const following = (async () => {
      const shouldStop = stopWhenGone({ isRunning: () => !c.exited(), graceMs: 200 });
      for await (const e of readLogs(ctx(), files, { follow: { shouldStop, pollMs: 50 } })) followed.push(e.data.toString());
    })();
    await c.start();
    // One rotation in the middle of the output, while conmon is writing.
    await waitFor(async () => (await fs.promises.stat(c.log)).size >= 100_000, { what: '100 kB of log', intervalMs: 5 });
    await rotateLog(c.log, 1, reopen(c.bundle));
    await fs.promises.writeFile(path.join(gate, 'go'), '');
    assert.equal(await c.waitExit(), 0);
    await following;

    const expected = Array.from({ length: N }, (_, i) => `line-${i}`);
    const rotated = (await collect({ path: `${c.log}.1`, rotated: [] })).map((e) => e.data.toString());
    const live = (await collect({ path: c.log, rotated: [] })).map((e) => e.data.toString());
    assert.ok(rotated.length > 0 && live.length > 0, `both files hold lines (${rotated.length} + ${live.length})`);
    assert.deepEqual([...rotated, ...live], expected, 'every line once, in order, across the two files');
    assert.deepEqual(
      (await collect(files)).map((e) => e.data.toString()),
      expected,
    );
    assert.deepEqual(followed, expected, 'the follower crossed the rotation');
    assert.deepEqual(
      (await collect(files, { tail: 5 })).map((e) => e.data.toString()),
      expected.slice(-5),
    );
  });

  it('a LogRotator keeps rotating under steady output; the follower and the files keep every line', async () => {
    // Enough rotated files are kept that none is deleted during the run, so
    // every line must reach the follower however far behind it falls (with
    // keep=1, a follower more than a whole file behind loses the middle one).
    const N = 20000;
    const keep = 50;
    // Every CHUNK lines the script waits at a gate (announcing it with
    // /gate/at-K) until the test has run the rotator once more: each chunk
    // is then rotated at least once, however the two processes are scheduled.
    const CHUNK = 4000;
    const gate = await makeTempDir('gt-gate', cleanup);
    const c = await createUnderConmon(
      'lc-rotator',
      `i=0; while [ $i -lt ${N} ]; do echo line-$i; i=$((i+1)); [ $((i % 500)) = 0 ] && usleep 10000; ` +
        `if [ $((i % ${CHUNK})) = 0 ]; then k=$((i / ${CHUNK})); touch /gate/at-$k; while [ ! -e /gate/go-$k ]; do usleep 10000; done; fi; done`,
      gate,
    );
    const files = logFiles(c.log, keep);
    let rotations = 0;
    const rotator = new LogRotator({ path: c.log, maxBytes: 64 * 1024, keep, reopen: reopen(c.bundle) });
    cleanup.defer(() => rotator.close());
    const followed: string[] = [];
    const following = (async () => {
      const shouldStop = stopWhenGone({ isRunning: () => !c.exited(), graceMs: 200 });
      for await (const e of readLogs(ctx(), files, { follow: { shouldStop, pollMs: 50 } })) followed.push(e.data.toString());
    })();
    await c.start();
    // The test is the rotator's ticker (as the daemon's would be), until the writer is done.
    let k = 1;
    await waitFor(
      async () => {
        if (await rotator.check()) rotations++;
        if (fs.existsSync(path.join(gate, `at-${k}`))) {
          // The writer waits: what it wrote since the last rotation is all in the file.
          if (await rotator.check()) rotations++;
          await fs.promises.writeFile(path.join(gate, `go-${k++}`), '');
        }
        return c.exited();
      },
      { what: 'the writer to finish', timeoutMs: 50_000, intervalMs: 10, describe: () => `chunk ${k}, ${rotations} rotations` },
    );
    rotator.close();
    await following;
    const expected = Array.from({ length: N }, (_, i) => `line-${i}`);
    assert.ok(rotations >= 3 && rotations < keep, `rotated ${rotations} times`);
    assert.deepEqual(jumps(followed), [], 'the follower saw every line once, in order');
    assert.deepEqual(followed, expected);
    assert.deepEqual(
      (await collect(files)).map((e) => e.data.toString()),
      expected,
      'and so do the files',
    );
  });
});

/** Where a line-<n> sequence does not continue with n+1: [index, previous n, this n]. */
function jumps(lines: string[]): number[][] {
  const out: number[][] = [];
  let prev = -1;
  lines.forEach((l, i) => {
    const n = Number(l.slice('line-'.length));
    if (n !== prev + 1) out.push([i, prev, n]);
    prev = n;
  });
  return out.slice(0, 10);
}

/** Resolves with the first line on `stream`; EOF before it is a failure (docs/conmon.md §2). */
function firstLine(stream: NodeJS.ReadableStream, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        stream.off('data', onData);
        resolve(buf.slice(0, nl));
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`conmon closed the sync pipe without a result: ${stderr()}`)));
  });
}
