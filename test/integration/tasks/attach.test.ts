// attach() against real conmon + runc containers (busybox): stream tags,
// input, stdin EOF, TTY, container exit, long bundle paths.
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isFailedPrecondition } from '../../../runtime/errdefs/errdefs';
import { attach, type AttachSession } from '../../../runtime/tasks/attach';
import {
  FrameCollector as Collector,
  processesMentioning,
  sharedBusyboxRootfs,
  startConmonTask,
  type ConmonTask,
  type ConmonTaskOptions,
} from '../../helpers/conmonTask';
import { Cleanup, makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('tasks: attach (conmon attach socket)', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();
  let dir: string;
  let rootfs: string;
  let runcRoot: string;
  const perTest = new Cleanup();
  let n = 0;

  before(async () => {
    dir = await makeTempDir('gatt', cleanup);
    // Runs after every container was destroyed (LIFO), before the dir goes:
    // nothing of this suite may still run.
    cleanup.defer(() => assert.deepEqual(processesMentioning(dir), []));
    rootfs = await sharedBusyboxRootfs();
    runcRoot = path.join(dir, 'runc');
  });
  afterEach(() => perTest.runAll());

  async function start(opts: Partial<ConmonTaskOptions> & { args: string[] }): Promise<ConmonTask> {
    const task = await startConmonTask({ dir, id: `att${++n}`, rootfs, runcRoot, ...opts });
    perTest.defer(() => task.destroy());
    return task;
  }

  async function open(task: ConmonTask, stdin: boolean): Promise<{ session: AttachSession; out: Collector }> {
    const session = await attach(task.bundle, { stdin });
    perTest.defer(() => session.close());
    return { session, out: new Collector(session) };
  }

  const echoLoop = 'while read l; do echo "got:$l"; echo "err:$l" >&2; done; echo stdin-eof';

  it('sends input and tags stdout and stderr; closeStdin gives the container EOF', async () => {
    const task = await start({ args: ['sh', '-c', echoLoop], stdin: true });
    const { session, out } = await open(task, true);
    await session.write('a\n');
    await out.until(() => out.text('stdout') === 'got:a\n' && out.text('stderr') === 'err:a\n', 'the echo of a');
    await session.write(Buffer.from('b\n'));
    await out.until(() => out.text('stdout') === 'got:a\ngot:b\n', 'the echo of b');
    await session.closeStdin();
    await out.until(() => out.text('stdout').endsWith('stdin-eof\n'), 'stdin-eof');
    await assert.rejects(session.write('late\n'), isFailedPrecondition);
    await session.ended; // conmon closes the connection when the container exits
    assert.equal(await task.waitExit(), 0);
    assert.equal(out.text('stderr'), 'err:a\nerr:b\n');
  });

  it('splits large input into packets conmon accepts, in order', async () => {
    const task = await start({ args: ['md5sum'], stdin: true });
    const { session, out } = await open(task, true);
    const input = crypto.randomBytes(300_000);
    const writes = [session.write(input.subarray(0, 100_000)), session.write(input.subarray(100_000))];
    await Promise.all(writes);
    await session.closeStdin();
    await session.ended;
    const want = crypto.createHash('md5').update(input).digest('hex');
    assert.equal(out.text('stdout').split(/\s/)[0], want);
    assert.equal(await task.waitExit(), 0);
  });

  it('attaches to a TTY: output is all stdout, input reaches the shell, ended follows exit', async () => {
    const task = await start({ args: ['sh'], tty: true });
    const { session, out } = await open(task, true);
    await session.write('echo tty-$((40+2)); tty\n');
    await out.until(() => /tty-42\r\n\/dev\/pts\/\d+\r\n/.test(out.text('stdout')), 'the shell answer');
    await session.write('exit 3\n');
    await session.ended;
    assert.equal(await task.waitExit(), 3);
    assert.equal(out.text('stderr'), '');
  });

  it('a read-only session rejects writes and still sees output', async () => {
    const task = await start({ args: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do echo tick$i; sleep 0.2; done'] });
    const { session, out } = await open(task, false);
    await assert.rejects(session.write('x'), isFailedPrecondition);
    await out.until(() => out.text('stdout').includes('tick10\n'), 'tick10');
    await session.ended;
    assert.equal(await task.waitExit(), 0);
  });

  it('documents conmon: a client that disconnects closes the container stdin for everyone', async () => {
    const task = await start({ args: ['sh', '-c', echoLoop], stdin: true });
    const { session: writer, out } = await open(task, true);
    const reader = await attach(task.bundle, { stdin: false });
    await writer.write('a\n');
    await out.until(() => out.text('stdout') === 'got:a\n', 'the echo of a');
    reader.close();
    await reader.ended;
    await out.until(() => out.text('stdout').endsWith('stdin-eof\n'), 'stdin-eof after the other client left');
    await writer.ended;
  });

  it('with --leave-stdin-open, clients come and go and stdin stays open', async () => {
    const task = await start({ args: ['sh', '-c', echoLoop], stdin: true, leaveStdinOpen: true });
    const first = await open(task, true);
    await first.session.write('one\n');
    await first.out.until(() => first.out.text('stdout') === 'got:one\n', 'got:one');
    await first.session.closeStdin();
    first.session.close();
    const second = await open(task, true);
    await second.session.write('two\n');
    await second.out.until(() => second.out.text('stdout') === 'got:two\n', 'got:two');
    second.session.close();
  });

  it('close() ends the session without stopping the container', async () => {
    const task = await start({ args: ['sleep', '100'] });
    const { session } = await open(task, false);
    session.close();
    await session.ended;
    session.close(); // idempotent
    assert.ok(fs.existsSync(path.join(task.bundle, 'attach')), 'conmon still serves the socket');
    const again = await attach(task.bundle, { stdin: false });
    again.close();
  });

  it('fails with FailedPrecondition when the container is not running', async () => {
    const task = await start({ args: ['true'] });
    assert.equal(await task.waitExit(), 0);
    await assert.rejects(attach(task.bundle, { stdin: false }), (e: unknown) => {
      assert.ok(isFailedPrecondition(e), String(e));
      assert.match(String(e), /no socket at .*attach/);
      return true;
    });
  });

  it('reaches sockets whose path is longer than sun_path allows', async () => {
    const deep = path.join(dir, 'd'.repeat(60), 'e'.repeat(40));
    await fs.promises.mkdir(deep, { recursive: true });
    const task = await startConmonTask({ dir: deep, id: `long${++n}`, rootfs, runcRoot, args: ['sh', '-c', echoLoop], stdin: true });
    perTest.defer(() => task.destroy());
    assert.ok(Buffer.byteLength(path.join(task.bundle, 'attach')) > 107);
    const { session, out } = await open(task, true);
    await session.write('deep\n');
    await out.until(() => out.text('stdout') === 'got:deep\n', 'got:deep');
    await session.closeStdin();
    await session.ended;
  });
});
