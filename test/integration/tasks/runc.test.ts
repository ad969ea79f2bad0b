// Runc against the real runc 1.1.5, on tasks created through conmon:
// signals and the exit codes they produce, pause/resume as seen by state(),
// ps, list, idempotent delete, and error kinds derived from the task's state
// (NotFound, FailedPrecondition) with runc's own message.
import { strict as assert } from 'node:assert';
import { background } from '../../../runtime/context';
import { isGantryError, kindOf } from '../../../runtime/errdefs/errdefs';
import { createTask, monitorAlive } from '../../../runtime/tasks/conmon';
import { Runc } from '../../../runtime/tasks/runc';
import { RUNC, TaskEnv, useTaskEnv } from './taskenv';
import { waitFor } from '../../helpers/waitFor';

const LOOP = 'while :; do sleep 0.1; done';

describe('tasks: runc', function () {
  this.timeout(60_000);
  let env: TaskEnv;
  useTaskEnv((e) => (env = e));

  /** Waits until the monitor is gone, then removes the task (what the container service does). */
  async function reap(t: { id: string; bundle: string }): Promise<void> {
    await waitFor(() => !monitorAlive(t.bundle), { what: 'the monitor gone', timeoutMs: 10_000 });
    await env.runc.delete(t.id);
  }

  it('SIGTERM reaches a task that traps it: its own exit code (7)', async () => {
    const t = await env.run('term', { args: ['sh', '-c', `trap "echo got-term; exit 7" TERM; echo ready; ${LOOP}`] });
    await env.waitForLog(t, 'ready');
    await env.runc.kill(t.id, 'SIGTERM');
    assert.equal(await env.exitOf(t.id), 7);
    await env.waitForLog(t, 'got-term');
    await reap(t);
  });

  it('SIGKILL: 128+9 = 137, and kill after the exit is FailedPrecondition (kill --all is not)', async () => {
    const t = await env.run('kill', { args: ['sh', '-c', LOOP] });
    await env.runc.kill(t.id, 'KILL');
    assert.equal(await env.exitOf(t.id), 137);
    await waitFor(async () => (await env.runc.state(t.id))?.status === 'stopped', { what: 'runc state stopped', timeoutMs: 10_000 });
    await assert.rejects(env.runc.kill(t.id, 'TERM'), (e: unknown) => {
      assert.ok(isGantryError(e));
      assert.equal(e.kind, 'FailedPrecondition');
      assert.match(e.message, /^runc kill .*: container not running \(task is stopped\)$/);
      return true;
    });
    await env.runc.kill(t.id, '9', { all: true });
    await reap(t);
  });

  it('pause and resume show in state(); ps lists the init process; wrong-state calls are FailedPrecondition', async () => {
    const t = await env.run('pause', { args: ['sh', '-c', LOOP] });
    const running = await env.runc.state(t.id);
    assert.deepEqual(
      { id: running?.id, pid: running?.pid, status: running?.status, bundle: running?.bundle },
      { id: t.id, pid: t.pid, status: 'running', bundle: t.bundle },
    );
    assert.ok((await env.runc.ps(t.id)).includes(t.pid));
    await assert.rejects(env.runc.resume(t.id), (e: unknown) => kindOf(e) === 'FailedPrecondition');
    await assert.rejects(env.runc.start(t.id), (e: unknown) => kindOf(e) === 'FailedPrecondition');

    await env.runc.pause(t.id);
    assert.equal((await env.runc.state(t.id))?.status, 'paused');
    assert.ok((await env.runc.ps(t.id)).includes(t.pid), 'a paused task still has its processes');
    await assert.rejects(env.runc.pause(t.id), (e: unknown) => kindOf(e) === 'FailedPrecondition');
    await assert.rejects(env.runc.delete(t.id), (e: unknown) => {
      assert.equal(kindOf(e), 'FailedPrecondition');
      assert.match((e as Error).message, /task is paused/);
      return true;
    });
    await env.runc.resume(t.id);
    assert.equal((await env.runc.state(t.id))?.status, 'running');

    await env.runc.kill(t.id, 'KILL');
    assert.equal(await env.exitOf(t.id), 137);
    await waitFor(async () => (await env.runc.ps(t.id)).length === 0, { what: 'no processes left', timeoutMs: 10_000 });
    await reap(t);
  });

  it('a created task is listed with its init pid; delete -f of it makes conmon record 137', async () => {
    const p = await env.prepare('created', { args: ['sh', '-c', 'exit 4'] });
    const task = await createTask(background(), env.options(p));
    const listed = await env.runc.list();
    assert.deepEqual(
      listed.map((s) => [s.id, s.status, s.pid]),
      [[p.id, 'created', task.pid]],
    );
    await env.runc.delete(p.id, { force: true });
    assert.equal(await env.exitOf(p.id), 137);
    await waitFor(() => !monitorAlive(p.bundle), { what: 'the monitor gone', timeoutMs: 10_000 });
    assert.equal(await env.runc.state(p.id), undefined);
  });

  it('delete is idempotent; a missing task is undefined for state() and NotFound elsewhere', async () => {
    const t = await env.run('del', { args: ['sh', '-c', 'exit 0'] });
    assert.equal(await env.exitOf(t.id), 0);
    await reap(t);
    await env.runc.delete(t.id);
    await env.runc.delete(t.id, { force: true });
    assert.equal(await env.runc.state(t.id), undefined);
    for (const call of [
      () => env.runc.start(t.id),
      () => env.runc.kill(t.id, 'TERM'),
      () => env.runc.pause(t.id),
      () => env.runc.resume(t.id),
      () => env.runc.ps(t.id),
    ]) {
      await assert.rejects(call(), (e: unknown) => {
        assert.equal(kindOf(e), 'NotFound');
        assert.match((e as Error).message, /container does not exist$/);
        return true;
      });
    }
    await assert.rejects(env.runc.kill(t.id, 'NOSUCHSIG'), (e: unknown) => kindOf(e) === 'InvalidArgument');
  });

  it('an unused root lists nothing; a missing binary is FailedPrecondition; an aborted ctx is Cancelled', async () => {
    const empty = new Runc({ binary: RUNC, root: `${env.dir}/never-made` });
    assert.deepEqual(await empty.list(), []);
    assert.equal(await empty.state('x'), undefined);
    const missing = new Runc({ binary: '/nonexistent/runc', root: env.runcRoot });
    await assert.rejects(missing.list(), (e: unknown) => kindOf(e) === 'FailedPrecondition');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(env.runc.list({ signal: ac.signal }), (e: unknown) => kindOf(e) === 'Cancelled');
    assert.throws(
      () => new Runc({ binary: 'runc', root: '/x' }),
      (e: unknown) => kindOf(e) === 'InvalidArgument',
    );
  });
});
