// Tasks outlive their manager: a separate node process creates and starts a
// task and is SIGKILLed; conmon (daemonised, not its child) keeps the task
// running and logging, records the exit code, and a fresh ExitWatcher's
// scan() finds it.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startProcess } from '../../helpers/proc';
import { monitorAlive } from '../../../runtime/tasks/conmon';
import { ExitWatcher, readPersistedExit, wasOomKilled } from '../../../runtime/tasks/exits';
import { isMonitorOf, procStat, processAlive, readPidFile } from '../../../runtime/tasks/proc';
import type { CreatedTask } from '../../../runtime/tasks/tasks';
import { TaskEnv, useTaskEnv } from './taskenv';
import { waitFor } from '../../helpers/waitFor';

describe('tasks: recovery after the manager dies', function () {
  this.timeout(60_000);
  let env: TaskEnv;
  useTaskEnv((e) => (env = e));

  it('the task keeps running under conmon, and its exit code is found by a new watcher', async () => {
    // The old manager's watcher is gone with it: only files tell what happened.
    env.watcher.close();
    const shared = path.join(env.dir, 'shared');
    fs.mkdirSync(shared);
    const p = await env.prepare('orphan', {
      args: ['sh', '-c', 'echo before; while [ ! -e /shared/go ]; do sleep 0.05; done; echo after; exit 5'],
      edit: (spec) => spec.mounts.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] }),
    });

    const manager = startProcess(process.execPath, [path.join(__dirname, 'managerProcess.js'), JSON.stringify(env.options(p))]);
    const line = await manager.waitFor((m) => m.stdout.split('\n').find((l) => l.startsWith('{')), { what: 'task started' });
    const task = JSON.parse(line) as CreatedTask;
    await env.waitForLog(p, 'stdout F before');
    manager.kill('SIGKILL');
    assert.equal((await manager.waitForExit()).signal, 'SIGKILL');

    // Re-adoption from files alone.
    assert.equal(await readPidFile(path.join(p.bundle, 'conmon.pid')), task.monitorPid);
    assert.equal(await readPidFile(path.join(p.bundle, 'pidfile')), task.pid);
    assert.ok(isMonitorOf(task.monitorPid, p.id));
    assert.notEqual(procStat(task.monitorPid)?.ppid, manager.pid, "conmon is not the manager's child");
    assert.ok(monitorAlive(p.bundle));
    assert.equal((await env.runc.state(p.id))?.status, 'running');

    fs.writeFileSync(path.join(shared, 'go'), '');
    await waitFor(() => !processAlive(task.monitorPid), { what: 'the monitor gone', timeoutMs: 20_000 });
    assert.equal(monitorAlive(p.bundle), false);
    await env.waitForLog(p, 'stdout F after');

    const reports: Array<[string, number]> = [];
    const fresh = new ExitWatcher(env.exitDir, { onExit: (id, code) => reports.push([id, code]) });
    try {
      await fresh.scan();
      assert.deepEqual(reports, [[p.id, 5]]);
      await fresh.scan();
      assert.deepEqual(reports, [[p.id, 5]], 'a file is reported once');
      assert.equal(await readPersistedExit(p.persistDir), 5);
      assert.equal(await wasOomKilled(p.persistDir), false);
      await fresh.clear(p.id);
      assert.equal(await fresh.readExit(p.id), undefined);
    } finally {
      fresh.close();
    }
    assert.equal((await env.runc.state(p.id))?.status, 'stopped');
    await env.runc.delete(p.id);
  });
});
