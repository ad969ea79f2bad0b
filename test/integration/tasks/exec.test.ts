// exec()/execCapture() in a real runc container supervised by conmon:
// separate streams, stdin, exit codes, user/env/cwd, start failures, TTY
// (pty, resize, exit code), timeouts — and nothing left behind.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { background } from '../../../runtime/context';
import { isFailedPrecondition, isInvalidArgument, isNotFound, kindOf } from '../../../runtime/errdefs/errdefs';
import { exec, execCapture, type ExecOptions, type ExecSession } from '../../../runtime/tasks/exec/exec';
import {
  CONMON,
  FrameCollector,
  RUNC,
  processesMentioning,
  sharedBusyboxRootfs,
  startConmonTask,
  type ConmonTask,
} from '../../helpers/conmonTask';
import { pidAlive } from '../../helpers/proc';
import { Cleanup, makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('tasks: exec', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();
  const perTest = new Cleanup();
  let dir: string;
  let sessions: string;
  let runcRoot: string;
  let ctr: ConmonTask;
  let rootfs: string;
  let n = 0;

  before(async () => {
    dir = await makeTempDir('gexec', cleanup);
    sessions = path.join(dir, 's');
    await fs.promises.mkdir(sessions);
    // Runs last but one (LIFO): every session ended, so no session dir, no
    // conmon and no runc exec of this suite may be left.
    cleanup.defer(() => {
      assert.deepEqual(fs.readdirSync(sessions), []);
      assert.deepEqual(processesMentioning(sessions), []);
    });
    runcRoot = path.join(dir, 'runc');
    rootfs = await sharedBusyboxRootfs();
    ctr = await startConmonTask({ dir, id: 'ex1', rootfs, runcRoot, args: ['sleep', '1000'] });
    cleanup.defer(() => ctr.destroy());
  });
  afterEach(() => perTest.runAll());

  function options(args: string[], more: Partial<ExecOptions> = {}): ExecOptions {
    return {
      containerId: ctr.id,
      bundle: ctr.bundle,
      runcPath: RUNC,
      conmonPath: CONMON,
      runcRoot,
      sessionDir: path.join(sessions, `e${++n}`),
      args,
      tty: false,
      stdin: false,
      ...more,
    };
  }

  async function start(args: string[], more: Partial<ExecOptions> = {}): Promise<{ s: ExecSession; out: FrameCollector }> {
    const s = await exec(background(), options(args, more));
    perTest.defer(async () => {
      s.kill('SIGKILL');
      await s.wait().catch(() => undefined);
    });
    return { s, out: new FrameCollector(s) };
  }

  describe('without a TTY (runc exec)', () => {
    it('keeps stdout and stderr apart and returns the exit code', async () => {
      const { s, out } = await start(['sh', '-c', 'echo out; echo err >&2; exit 5']);
      assert.ok(s.pid > 0);
      assert.equal(s.tty, false);
      assert.equal(await s.wait(), 5);
      await out.ended;
      assert.equal(out.text('stdout'), 'out\n');
      assert.equal(out.text('stderr'), 'err\n');
    });

    it('pipes stdin through, and closeStdin gives EOF', async () => {
      const { s, out } = await start(['sh', '-c', 'cat; echo eof >&2'], { stdin: true });
      await s.write('hello\n');
      await out.until(() => out.text('stdout') === 'hello\n', 'the echo');
      const big = Buffer.alloc(1 << 20, 'z');
      await s.write(big);
      await s.closeStdin();
      assert.equal(await s.wait(), 0);
      await out.ended;
      assert.equal(out.text('stdout'), 'hello\n' + big.toString());
      assert.equal(out.text('stderr'), 'eof\n');
      await assert.rejects(s.write('late'), isFailedPrecondition);
    });

    it('without stdin the process reads /dev/null and writes are refused', async () => {
      const { s, out } = await start(['sh', '-c', 'cat; echo read-done']);
      await assert.rejects(s.write('x'), isFailedPrecondition);
      assert.equal(await s.wait(), 0);
      await out.ended;
      assert.equal(out.text('stdout'), 'read-done\n');
    });

    it('runs with the given env, user, groups and cwd on top of the container process', async () => {
      const { s, out } = await start(['sh', '-c', 'echo "$FOO $HOME"; id -u; id -g; id -G; pwd'], {
        env: ['FOO=bar', 'HOME=/elsewhere'],
        user: { uid: 1000, gid: 1001, additionalGids: [20, 30] },
        cwd: '/tmp',
      });
      assert.equal(await s.wait(), 0);
      await out.ended;
      assert.equal(out.text('stdout'), 'bar /elsewhere\n1000\n1001\n1001 20 30\n/tmp\n');
    });

    it('kill() signals the process; the code is 128+n', async () => {
      const { s } = await start(['sleep', '100']);
      assert.ok(pidAlive(s.pid));
      s.kill('SIGTERM');
      assert.equal(await s.wait(), 143);
      assert.ok(!pidAlive(s.pid));
    });

    it('like docker exec, ends when a background child lets go of the output', async () => {
      const { s, out } = await start(['sh', '-c', '(sleep 0.3; echo late; echo late-err >&2) & echo started']);
      assert.equal(await s.wait(), 0);
      await out.ended;
      assert.equal(out.text('stdout'), 'started\nlate\n');
      assert.equal(out.text('stderr'), 'late-err\n');
      await assert.rejects(s.resize(10, 10), isFailedPrecondition);
    });

    it("rejects a missing binary with runc's reason and leaves no session dir", async () => {
      const opts = options(['/nope']);
      await assert.rejects(exec(background(), opts), (e: unknown) => {
        assert.ok(isInvalidArgument(e), `${kindOf(e)}: ${e}`);
        assert.equal((e as Error).message, 'exec: "/nope": stat /nope: no such file or directory');
        return true;
      });
      assert.ok(!fs.existsSync(opts.sessionDir));
    });

    it('rejects an unknown container with NotFound', async () => {
      await assert.rejects(exec(background(), { ...options(['true']), containerId: 'no-such-ctr' }), (e: unknown) => {
        assert.ok(isNotFound(e), `${kindOf(e)}: ${e}`);
        assert.match((e as Error).message, /container does not exist/);
        return true;
      });
    });

    it('rejects a container that is not running with FailedPrecondition', async () => {
      const stopped = await startConmonTask({ dir, id: `stopped${++n}`, rootfs, runcRoot, args: ['true'] });
      perTest.defer(() => stopped.destroy());
      assert.equal(await stopped.waitExit(), 0);
      const opts = { ...options(['true']), containerId: stopped.id, bundle: stopped.bundle };
      await assert.rejects(exec(background(), opts), (e: unknown) => {
        assert.ok(isFailedPrecondition(e), `${kindOf(e)}: ${e}`);
        assert.equal((e as Error).message, 'exec: cannot exec in a stopped container');
        return true;
      });
      assert.ok(!fs.existsSync(opts.sessionDir));
    });

    it('refuses a session dir that exists', async () => {
      const opts = options(['true']);
      await fs.promises.mkdir(opts.sessionDir);
      perTest.defer(() => fs.promises.rm(opts.sessionDir, { recursive: true }));
      await assert.rejects(exec(background(), opts), (e: unknown) => kindOf(e) === 'AlreadyExists');
    });
  });

  describe('with a TTY (conmon)', () => {
    it('runs on a pty and returns the exit code', async () => {
      const { s, out } = await start(['sh', '-c', 'tty; exit 3'], { tty: true });
      assert.equal(s.tty, true);
      assert.equal(await s.wait(), 3);
      await out.ended;
      assert.match(out.text('stdout'), /^\/dev\/pts\/\d+\r\n$/);
      assert.equal(out.text('stderr'), '');
    });

    it('starts with the requested size and follows resize()', async () => {
      const { s, out } = await start(['sh'], { tty: true, stdin: true, consoleSize: { rows: 33, cols: 77 } });
      await s.write('stty size\n');
      await out.until(() => out.text('stdout').includes('33 77\r\n'), 'the initial size');
      await s.resize(40, 120);
      // conmon applies the resize from its own event loop: ask until the new size shows.
      for (let i = 0; i < 20 && !out.text('stdout').includes('40 120\r\n'); i++) {
        await s.write('stty size\n');
        await out.until(() => (out.text('stdout').match(/\d+ \d+\r\n/g) ?? []).length > i + 1, 'an answer', 5000);
      }
      assert.ok(out.text('stdout').includes('40 120\r\n'), out.text('stdout'));
      await s.write('exit 7\n');
      assert.equal(await s.wait(), 7);
      await s.resize(10, 10); // after the exit: a no-op
      await assert.rejects(s.resize(0, 10), isInvalidArgument);
    });

    it('kill() reaches the process behind conmon', async () => {
      const { s } = await start(['sleep', '100'], { tty: true });
      assert.ok(pidAlive(s.pid));
      s.kill('SIGKILL');
      assert.equal(await s.wait(), 137);
    });

    it("rejects a missing binary with runc's reason and leaves nothing behind", async () => {
      const opts = options(['/nope'], { tty: true });
      await assert.rejects(exec(background(), opts), (e: unknown) => {
        assert.ok(isInvalidArgument(e), `${kindOf(e)}: ${e}`);
        assert.equal((e as Error).message, 'exec: "/nope": stat /nope: no such file or directory');
        return true;
      });
      assert.ok(!fs.existsSync(opts.sessionDir));
      assert.deepEqual(processesMentioning(opts.sessionDir), []);
    });
  });

  describe('execCapture (health checks)', () => {
    it('combines stdout and stderr and returns the exit code', async () => {
      const r = await execCapture(background(), {
        ...options(['sh', '-c', 'echo out; echo err >&2; exit 2']),
        timeoutMs: 30_000,
        maxOutputBytes: 4096,
      });
      assert.equal(r.exitCode, 2);
      assert.equal(r.timedOut, false);
      assert.equal(r.truncated, false);
      // Two pipes: their relative order is not kept, the bytes are.
      assert.deepEqual(r.output.split('\n').sort(), ['', 'err', 'out']);
    });

    it('keeps the first maxOutputBytes and says it cut the rest', async () => {
      const r = await execCapture(background(), {
        ...options(['sh', '-c', 'head -c 10000 /dev/zero | tr "\\0" x']),
        timeoutMs: 30_000,
        maxOutputBytes: 4096,
      });
      assert.equal(r.exitCode, 0);
      assert.equal(r.truncated, true);
      assert.equal(r.output, 'x'.repeat(4096));
    });

    it('a short output is whole and not truncated', async () => {
      const r = await execCapture(background(), { ...options(['echo', 'ok']), timeoutMs: 30_000, maxOutputBytes: 4096 });
      assert.deepEqual(r, { exitCode: 0, output: 'ok\n', truncated: false, timedOut: false });
    });

    it('kills a process that outlives the timeout and says so', async () => {
      const opts = options(['sleep', '101']);
      const r = await execCapture(background(), { ...opts, timeoutMs: 300, maxOutputBytes: 4096 });
      assert.deepEqual(r, { exitCode: -1, output: '', truncated: false, timedOut: true });
      assert.ok(!fs.existsSync(opts.sessionDir));
      assert.ok(!(await containerProcesses()).includes('sleep 101'));
    });

    it('times out even when a background child holds the output open', async () => {
      const opts = options(['sh', '-c', 'sleep 102 & echo bg']);
      const r = await execCapture(background(), { ...opts, timeoutMs: 500, maxOutputBytes: 4096 });
      assert.equal(r.timedOut, true);
      assert.equal(r.exitCode, -1);
      assert.equal(r.output, 'bg\n');
      assert.ok(!fs.existsSync(opts.sessionDir));
    });
  });

  /** `ps -o args` inside the container. */
  async function containerProcesses(): Promise<string[]> {
    const ps = await exec(background(), options(['ps', '-o', 'args']));
    const out = new FrameCollector(ps);
    assert.equal(await ps.wait(), 0);
    await out.ended;
    return out
      .text('stdout')
      .split('\n')
      .map((l) => l.trim());
  }
});
