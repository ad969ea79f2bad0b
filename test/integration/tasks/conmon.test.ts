// createTask against real conmon 2.1.6 + runc: the create handshake, exit
// codes through the exit dir, the k8s-file log, failures that leave nothing
// behind (bad entrypoint, abort before and during `runc create`), and the
// control fifo (resize on a tty task, log reopen, liveness).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { background } from '../../../runtime/context';
import { isGantryError, kindOf } from '../../../runtime/errdefs/errdefs';
import { createTask, monitorAlive, reopenLog, resizeTerminal, writeControl } from '../../../runtime/tasks/conmon';
import { cgroupDirsOf } from '../../../runtime/tasks/cgroups';
import { isMonitorOf, processAlive } from '../../../runtime/tasks/proc';
import { TaskEnv, useTaskEnv } from './taskenv';
import { waitFor } from '../../helpers/waitFor';

describe('tasks: conmon createTask', function () {
  this.timeout(60_000);
  let env: TaskEnv;
  useTaskEnv((e) => (env = e));

  it('runs a task to its exit code and logs its output in k8s-file format', async () => {
    const t = await env.run('exit3', { args: ['sh', '-c', 'echo out-line; echo err-line >&2; printf partial; exit 3'] });
    assert.ok(t.pid > 0 && t.monitorPid > 0);
    assert.equal(await env.exitOf(t.id), 3);
    assert.equal(await env.watcher.readExit(t.id), 3);
    assert.equal(fs.readFileSync(path.join(t.persistDir, 'exit'), 'utf8'), '3');

    const lines = fs.readFileSync(t.logPath, 'utf8').split('\n').filter(Boolean);
    const ts = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d$/;
    const parsed = lines.map((l) => l.split(' ')).map(([time, stream, tag, ...rest]) => ({ time, stream, tag, text: rest.join(' ') }));
    for (const p of parsed) assert.match(p.time, ts);
    const entries = parsed.map(({ stream, tag, text }) => `${stream} ${tag} ${text}`).sort();
    assert.deepEqual(entries, ['stderr F err-line', 'stdout F out-line', 'stdout P partial']);

    await waitFor(() => !processAlive(t.monitorPid), { what: 'the monitor gone', timeoutMs: 10_000 });
    assert.equal(monitorAlive(t.bundle), false);
    assert.equal((await env.runc.state(t.id))?.status, 'stopped');
    assert.equal(fs.existsSync(path.join(t.bundle, 'attach')), false, 'conmon removes attach on exit');
    await env.runc.delete(t.id);
    await env.watcher.clear(t.id);
    assert.equal(await env.watcher.readExit(t.id), undefined);
  });

  it("rejects a missing entrypoint with runc's reason and leaves nothing behind", async () => {
    const p = await env.prepare('noent', { args: ['/bin/nonexistent'] });
    await assert.rejects(createTask(background(), env.options(p)), (e: unknown) => {
      assert.ok(isGantryError(e));
      assert.equal(e.kind, 'InvalidArgument');
      assert.match(e.message, /exec: "\/bin\/nonexistent": stat \/bin\/nonexistent: no such file or directory/);
      assert.doesNotMatch(e.message, /level=|time=|\{"/, 'the logrus/JSON wrapper is gone');
      return true;
    });
    assert.equal(await env.runc.state(p.id), undefined);
    for (const f of ['attach', 'ctl', 'winsz']) assert.equal(fs.existsSync(path.join(p.bundle, f)), false, `${f} removed`);
    assert.equal(await env.watcher.readExit(p.id), undefined);
  });

  it('reports a missing conmon binary as FailedPrecondition', async () => {
    const p = await env.prepare('nocm', { args: ['true'] });
    await assert.rejects(createTask(background(), env.options(p, { conmonPath: '/nonexistent/conmon' })), (e: unknown) => {
      assert.equal(kindOf(e), 'FailedPrecondition');
      assert.match((e as Error).message, /conmon not found at \/nonexistent\/conmon/);
      return true;
    });
  });

  it('refuses a second task with the same ID (AlreadyExists) and keeps the first', async () => {
    const t = await env.run('dup', { args: ['sh', '-c', 'while :; do sleep 0.1; done'] });
    assert.ok(isMonitorOf(t.monitorPid, t.id), 'conmon.pid names a conmon monitoring this task');
    assert.deepEqual(await env.runc.ps(t.id).then((pids) => pids.includes(t.pid)), true);
    await assert.rejects(createTask(background(), env.options(t)), (e: unknown) => kindOf(e) === 'AlreadyExists');
    assert.equal((await env.runc.state(t.id))?.status, 'running');
    assert.ok(monitorAlive(t.bundle));
    await env.runc.kill(t.id, 'KILL');
    assert.equal(await env.exitOf(t.id), 137);
    await waitFor(() => !monitorAlive(t.bundle), { what: 'the monitor gone', timeoutMs: 10_000 });
    await env.runc.delete(t.id);
  });

  it('cancelled while conmon waits for its start byte: Cancelled, nothing left', async () => {
    const p = await env.prepare('abrt1', { args: ['true'] });
    const ac = new AbortController();
    let conmonPid = 0;
    const opts = env.options(p, {
      beforeStart: async (pid) => {
        conmonPid = pid;
        ac.abort();
      },
    });
    await assert.rejects(createTask({ signal: ac.signal }, opts), (e: unknown) => kindOf(e) === 'Cancelled');
    assert.ok(conmonPid > 0);
    assert.equal(processAlive(conmonPid), false);
    assert.equal(await env.runc.state(p.id), undefined);
    assert.equal(fs.existsSync(path.join(p.bundle, 'attach')), false);
  });

  it('cancelled during runc create: waits for the outcome, then removes the task and its exit record', async () => {
    // A createRuntime hook (run by `runc create` on the host) holds create
    // until the test lets it go, so the abort lands mid-create for sure.
    const p = await env.prepare('abrt2', {
      args: ['true'],
      edit: (spec) => {
        spec.hooks = {
          createRuntime: [
            {
              path: '/bin/busybox',
              args: ['sh', '-c', `touch ${env.dir}/hook-started; while [ ! -e ${env.dir}/hook-go ]; do sleep 0.05; done`],
            },
          ],
        };
      },
    });
    const ac = new AbortController();
    const created = createTask({ signal: ac.signal }, env.options(p));
    await waitFor(() => fs.existsSync(path.join(env.dir, 'hook-started')), { what: 'hook-started', timeoutMs: 20_000 });
    let settled = false;
    void created.then(
      () => (settled = true),
      () => (settled = true),
    );
    ac.abort();
    // createTask must not give up on create just because of the abort. It hears the abort at
    // once; a runc round trip later (the hook still holds create), it must still be waiting.
    await env.runc.state(p.id);
    assert.equal(settled, false, 'createTask settled while runc create was still running');
    fs.writeFileSync(path.join(env.dir, 'hook-go'), '');
    await assert.rejects(created, (e: unknown) => kindOf(e) === 'Cancelled');
    assert.equal(await env.runc.state(p.id), undefined);
    assert.equal(await env.watcher.readExit(p.id), undefined, 'no exit reported for a task that never started');
    assert.equal(fs.existsSync(path.join(p.bundle, 'attach')), false);
  });

  it('cancelled while runc create hangs for good: kills what hangs, Cancelled, nothing left', async () => {
    const release = path.join(env.dir, 'hang-go');
    const p = await env.prepare('hang', {
      args: ['true'],
      edit: (spec) => {
        spec.hooks = {
          createRuntime: [
            {
              path: '/bin/busybox',
              args: ['sh', '-c', `touch ${env.dir}/hang-started; while [ ! -e ${release} ]; do sleep 0.05; done`],
            },
          ],
        };
      },
    });
    const ac = new AbortController();
    const created = createTask({ signal: ac.signal }, env.options(p));
    await waitFor(() => fs.existsSync(path.join(env.dir, 'hang-started')), { what: 'hang-started', timeoutMs: 20_000 });
    ac.abort();
    try {
      await assert.rejects(created, (e: unknown) => kindOf(e) === 'Cancelled');
      assert.equal(await env.runc.state(p.id), undefined);
      assert.equal(fs.existsSync(path.join(p.bundle, 'attach')), false);
      // runc had made the task's cgroups (under ours, by name) but never wrote the state to delete them by.
      const ours = await cgroupDirsOf(process.pid);
      assert.deepEqual(
        ours.map((d) => path.join(d, p.id)).filter((d) => fs.existsSync(d)),
        [],
        'no cgroup left',
      );
    } finally {
      fs.writeFileSync(release, ''); // a hook that outlived its runc would exit now
    }
  });

  it('resizes a tty task through ctl, one message per write', async () => {
    const script = 'trap \'echo "size=$(stty size)"\' WINCH; echo ready; while :; do sleep 0.1; done';
    const t = await env.run('tty', { args: ['sh', '-c', script], terminal: true }, { tty: true });
    await env.waitForLog(t, 'ready');
    resizeTerminal(t.bundle, 40, 120);
    await env.waitForLog(t, 'size=40 120');
    resizeTerminal(t.bundle, 33, 99);
    const log = await env.waitForLog(t, 'size=33 99');
    assert.match(log, / stdout F ready\r$/m, 'pty output (ONLCR) is logged as stdout with \\r');
    assert.throws(
      () => resizeTerminal(t.bundle, 0, 80),
      (e: unknown) => kindOf(e) === 'InvalidArgument',
    );

    await env.runc.kill(t.id, 'KILL');
    assert.equal(await env.exitOf(t.id), 137);
    await waitFor(() => !monitorAlive(t.bundle), { what: 'the monitor gone', timeoutMs: 10_000 });
    assert.throws(
      () => resizeTerminal(t.bundle, 24, 80),
      (e: unknown) => {
        assert.equal(kindOf(e), 'FailedPrecondition');
        assert.match((e as Error).message, /container monitor is not running/);
        return true;
      },
    );
    await env.runc.delete(t.id);
  });

  it('gives the task a stdin pipe with stdin: true, /dev/null without', async () => {
    const script = 'echo "fd0=$(readlink /proc/self/fd/0)"; cat; exit 9';
    const closed = await env.run('nostdin', { args: ['sh', '-c', script] });
    assert.equal(await env.exitOf(closed.id), 9, 'cat reads EOF from /dev/null at once');
    assert.match(await env.waitForLog(closed, 'fd0='), /stdout F fd0=\/dev\/null$/m);
    await waitFor(() => !monitorAlive(closed.bundle), { what: 'the monitor gone', timeoutMs: 10_000 });
    await env.runc.delete(closed.id);

    const open = await env.run('stdin', { args: ['sh', '-c', script] }, { stdin: true, leaveStdinOpen: true });
    assert.match(await env.waitForLog(open, 'fd0='), /stdout F fd0=pipe:\[\d+\]$/m);
    assert.equal((await env.runc.state(open.id))?.status, 'running', 'cat waits on the open pipe');
    await env.runc.kill(open.id, 'KILL');
    assert.equal(await env.exitOf(open.id), 137);
    await waitFor(() => !monitorAlive(open.bundle), { what: 'the monitor gone', timeoutMs: 10_000 });
    await env.runc.delete(open.id);
  });

  it('reopens the log after it was moved away, and caps it at logSizeMax', async () => {
    const t = await env.run(
      'logs',
      { args: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.01; done'] },
      { logSizeMax: 4096 },
    );
    await env.waitForLog(t, 'tick-3');
    fs.renameSync(t.logPath, `${t.logPath}.1`);
    reopenLog(t.bundle);
    const fresh = await env.waitForLog(t, 'tick-');
    assert.match(fs.readFileSync(`${t.logPath}.1`, 'utf8'), /stdout F tick-1$/m, 'the moved file kept the old lines');
    const first = Number(/tick-(\d+)/.exec(fresh)![1]);
    assert.ok(first > 3, 'the reopened log starts where the old one stopped');
    // ~100 lines of ~50 bytes pass 4096: conmon then truncates instead of growing the file.
    const rotated = await waitFor(
      () => {
        const log = fs.readFileSync(t.logPath, 'utf8');
        return !new RegExp(`tick-${first}$`, 'm').test(log) && new RegExp(`tick-${first + 100}$`, 'm').test(log) && log;
      },
      { what: 'the log truncated at the size limit', timeoutMs: 30_000, describe: () => fs.readFileSync(t.logPath, 'utf8').slice(-300) },
    );
    assert.doesNotMatch(rotated, new RegExp(`tick-${first}$`, 'm'), 'old lines were dropped at the size limit');
    assert.ok(fs.statSync(t.logPath).size <= 4096, 'log stays under logSizeMax');
    assert.equal(fs.statSync(t.logPath).mode & 0o777, 0o600);

    writeControl(t.bundle, '1 30 90\n'); // a resize on a non-tty task is ignored, not fatal
    assert.ok(monitorAlive(t.bundle));
    await env.runc.kill(t.id, 'KILL');
    assert.equal(await env.exitOf(t.id), 137);
    await waitFor(() => !monitorAlive(t.bundle), { what: 'the monitor gone', timeoutMs: 10_000 });
    await env.runc.delete(t.id);
  });
});
