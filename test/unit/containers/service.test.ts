// The container service over fakes of its dependencies (fakeDeps.ts): every
// user verb in every state does what the state table says, and a few flows
// end to end (exit → restart policy, pause → stop, rm -f, a removal that
// fails half-way).
import { strict as assert } from 'node:assert';
import { background } from '../../../runtime/context';
import type { ContainerStatus } from '../../../runtime/containers/containers';
import { allows, transition, type ContainerEvent } from '../../../runtime/containers/stateMachine';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { containerConfig, containerRecord, settle, world, type World } from './fakeDeps';

const ctx = background();
const ID = 'c'.repeat(64);

/** The task calls each action makes (FakeTasks.calls), for a verb run with the arguments `runVerb` passes. */
const TASK_CALLS: Record<string, string[]> = {
  none: [],
  launch: ['launch web'],
  'cancel-restart-and-launch': ['launch web'],
  terminate: ['kill SIGTERM', 'teardown'],
  'thaw-and-terminate': ['resume', 'kill SIGTERM', 'teardown'],
  'cancel-restart': [],
  signal: ['kill SIGHUP'],
  'thaw-and-signal': ['resume', 'kill SIGHUP'],
  freeze: ['pause'],
  thaw: ['resume'],
  destroy: ['destroy'],
  'kill-and-destroy': ['kill SIGKILL', 'destroy'],
  'cancel-restart-and-destroy': ['destroy'],
};

/** A container in `status`, with a live task when the status has one. */
function inState(w: World, status: ContainerStatus): void {
  w.records.records.set(ID, containerRecord(ID, 'web', { status, pid: status === 'running' || status === 'paused' ? 42 : 0 }));
  w.snapshots.keys.add(`container-${ID}`);
  if (status === 'running' || status === 'paused') w.tasks.live.add(ID);
}

async function runVerb(w: World, event: ContainerEvent): Promise<unknown> {
  switch (event) {
    case 'start':
      return w.service.start(ctx, 'web');
    case 'stop':
      return w.service.stop(ctx, 'web');
    case 'kill':
      return w.service.kill(ctx, 'web', 'SIGHUP');
    case 'pause':
      return w.service.pause(ctx, 'web');
    case 'unpause':
      return w.service.unpause(ctx, 'web');
    case 'restart':
      return w.service.restart(ctx, 'web');
    case 'remove':
      return w.service.remove(ctx, 'web', false);
    case 'remove-force':
      return w.service.remove(ctx, 'web', true);
    default:
      throw new Error(`not a verb: ${event}`);
  }
}

const VERBS: ContainerEvent[] = ['start', 'stop', 'kill', 'pause', 'unpause', 'restart', 'remove', 'remove-force'];
const STATUSES: ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'exited', 'dead'];

describe('container service: every verb in every state (fakes)', () => {
  for (const status of STATUSES) {
    for (const event of VERBS) {
      if (!allows(status, event)) {
        it(`${event} when ${status}: refused, nothing touched`, async () => {
          const w = world();
          inState(w, status);
          await assert.rejects(runVerb(w, event), (e: unknown) => {
            const message = (e as Error).message;
            assert.ok(['FailedPrecondition', 'Conflict'].includes(kindOf(e)), `${kindOf(e)}: ${message}`);
            assert.ok(message.includes(`from ${status} to `) || message.endsWith(`(it is ${status})`), message);
            return true;
          });
          await settle();
          assert.deepEqual(w.tasks.calls, []);
          assert.equal(w.records.get(ID)?.state.status, status);
          assert.deepEqual(w.events.topics, []);
        });
        continue;
      }
      const step = transition('web', status, event);
      it(`${event} when ${status} → ${step.next} (${step.action})`, async () => {
        const w = world();
        inState(w, status);
        await runVerb(w, event);
        await settle();
        assert.equal(w.records.get(ID)?.state.status ?? 'gone', step.next);
        if (step.action === 'stop-and-start') {
          assert.equal(w.tasks.calls.at(-1), 'launch web', w.tasks.calls.join(', '));
        } else {
          // rm -f thaws a paused task before the SIGKILL.
          const thawFirst = step.action === 'kill-and-destroy' && status === 'paused' ? ['resume'] : [];
          assert.deepEqual(w.tasks.calls, [...thawFirst, ...TASK_CALLS[step.action]], step.action);
        }
        if (step.next === 'gone') assert.equal(w.snapshots.keys.size, 0, 'the snapshot went with the record');
      });
    }
  }

  it('prune removes created, exited and dead containers and leaves the others', async () => {
    const w = world();
    for (const status of STATUSES) {
      const id = status.padEnd(64, '0');
      w.records.records.set(id, containerRecord(id, status, { status }));
    }
    const removed = await w.service.prune(ctx);
    assert.deepEqual(removed.map((id) => w.records.get(id)?.name ?? id.replace(/0+$/, '')).sort(), ['created', 'dead', 'exited']);
    assert.deepEqual(
      w.service
        .list(true)
        .map((c) => c.state.status)
        .sort(),
      ['paused', 'restarting', 'running'],
    );
  });
});

describe('container service: flows (fakes)', () => {
  it('start → exit → the restart policy brings it back after the backoff → running', async () => {
    const w = world();
    const created = await w.service.create(ctx, 'web', containerConfig({ restartPolicy: { name: 'always', maximumRetryCount: 0 } }));
    assert.equal(created.state.status, 'created');
    await w.service.start(ctx, 'web');
    assert.equal(w.service.resolve('web').state.status, 'running');

    w.tasks.exit(created.id, 3);
    await settle();
    const down = w.service.resolve('web');
    assert.equal(down.state.status, 'restarting');
    assert.equal(down.state.exitCode, 3);
    assert.deepEqual(w.clock.pending(), [100], 'the first restart waits 100 ms');

    w.clock.advance(100);
    await settle();
    const up = w.service.resolve('web');
    assert.equal(up.state.status, 'running');
    assert.equal(up.state.restartCount, 1);
    assert.deepEqual(w.tasks.calls, ['writeBundle web', 'launch web', 'teardown', 'launch web']);
    assert.deepEqual(w.events.topics, [
      '/containers/create',
      '/containers/start',
      '/containers/die',
      '/containers/start',
      '/containers/restart',
    ]);
  });

  it('a restart that fails leaves the container exited, with the reason', async () => {
    const w = world();
    const created = await w.service.create(ctx, 'web', containerConfig({ restartPolicy: { name: 'on-failure', maximumRetryCount: 0 } }));
    await w.service.start(ctx, 'web');
    w.tasks.exit(created.id, 1);
    await settle();
    w.tasks.failLaunch = true;
    w.clock.advance(100);
    await settle();
    const c = w.service.resolve('web');
    assert.equal(c.state.status, 'exited');
    assert.match(c.state.error, /no such file or directory/);
  });

  it('stop of a restarting container cancels the restart: it stays exited', async () => {
    const w = world();
    const created = await w.service.create(ctx, 'web', containerConfig({ restartPolicy: { name: 'always', maximumRetryCount: 0 } }));
    await w.service.start(ctx, 'web');
    w.tasks.exit(created.id, 0);
    await settle();
    assert.equal((await w.service.stop(ctx, 'web')).state.status, 'exited');
    assert.deepEqual(w.clock.pending(), []);
    w.clock.advance(60_000);
    await settle();
    assert.equal(w.service.resolve('web').state.status, 'exited');
    assert.equal(w.service.resolve('web').state.stoppedByUser, true);
  });

  it('pause → stop: the task is thawed, then signalled, and stays down', async () => {
    const w = world();
    await w.service.create(ctx, 'web', containerConfig({ restartPolicy: { name: 'always', maximumRetryCount: 0 } }));
    await w.service.start(ctx, 'web');
    await w.service.pause(ctx, 'web');
    assert.equal(w.service.resolve('web').state.status, 'paused');
    const stopped = await w.service.stop(ctx, 'web');
    assert.equal(stopped.state.status, 'exited');
    assert.equal(stopped.state.exitCode, 143);
    assert.equal(stopped.state.stoppedByUser, true);
    assert.deepEqual(w.tasks.calls.slice(2), ['pause', 'resume', 'kill SIGTERM', 'teardown']);
    assert.deepEqual(w.clock.pending(), [], 'a stop by the user is not restarted');
    // stop is published once the task is gone, before the exit is handled (as before the table).
    assert.deepEqual(w.events.topics.slice(2), ['/containers/pause', '/containers/stop', '/containers/die']);
  });

  it('remove -f of a running container kills it, then removes task, snapshot and record', async () => {
    const w = world();
    const created = await w.service.create(ctx, 'web', containerConfig());
    await w.service.start(ctx, 'web');
    await w.service.remove(ctx, 'web', true);
    await settle();
    assert.equal(w.records.get(created.id), undefined);
    assert.equal(w.snapshots.keys.size, 0);
    assert.deepEqual(w.tasks.calls.slice(2), ['kill SIGKILL', 'destroy']);
    assert.equal(w.tasks.exitFiles.size, 0, 'the exit that followed was dropped, its file cleared');
    assert.deepEqual(w.events.topics.slice(2), ['/containers/destroy']);
  });

  it('remove -f of a task that exits just as the removal takes the lock does not wait for another exit', async () => {
    const w = world();
    const created = await w.service.create(ctx, 'web', containerConfig());
    await w.service.start(ctx, 'web');
    const removing = w.service.remove(ctx, 'web', true);
    // The exit comes before the removal signals the task; its handling queues behind the removal's lock.
    w.tasks.exit(created.id, 0);
    await removing; // with the fake clock, a wait for a second exit would never end
    await settle();
    assert.equal(w.records.get(created.id), undefined);
    assert.deepEqual(w.tasks.calls.slice(2), ['kill SIGKILL', 'destroy']);
  });

  it('a removal that fails half-way leaves the container dead; only a removal goes on from there', async () => {
    const w = world();
    const created = await w.service.create(ctx, 'web', containerConfig());
    await w.service.start(ctx, 'web');
    w.tasks.failDestroy = true;
    const waited = w.service.wait(ctx, 'web', 'next-exit');
    await assert.rejects(w.service.remove(ctx, 'web', true), /still mounted/);
    assert.equal(await waited, 137, 'the run ended: a waiter for the next exit has its code');
    await settle();
    const dead = w.service.resolve('web');
    assert.equal(dead.state.status, 'dead');
    assert.equal(dead.state.exitCode, 137);
    assert.match(dead.state.error, /removal failed: .*still mounted/);
    assert.deepEqual(w.service.list(false), [], 'a dead container is not up');

    await assert.rejects(w.service.start(ctx, 'web'), { kind: 'FailedPrecondition', message: /it is dead .*\(from dead to running\)$/ });
    await assert.rejects(w.service.restart(ctx, 'web'), { kind: 'FailedPrecondition', message: /\(from dead to running\)$/ });
    assert.equal(await w.service.restartOnDaemonStart(dead), false);

    // As in Docker, a plain rm tries the removal again: failing again, it stays dead; then it finishes.
    w.tasks.failDestroy = true;
    await assert.rejects(w.service.remove(ctx, 'web', false), /still mounted/);
    assert.equal(w.service.resolve('web').state.status, 'dead');
    await w.service.remove(ctx, 'web', false);
    assert.equal(w.records.get(created.id), undefined);
    assert.equal(w.snapshots.keys.size, 0);
  });

  it('a create whose cleanup fails leaves the container dead', async () => {
    const w = world();
    w.tasks.writeBundle = async () => {
      throw new Error('unable to find user ghost');
    };
    w.tasks.failDestroy = true;
    await assert.rejects(w.service.create(ctx, 'web', containerConfig()), /unable to find user ghost/);
    assert.equal(w.service.resolve('web').state.status, 'dead');
  });

  it('health results are recorded while running, and dropped once it is not', async () => {
    const w = world();
    await w.service.create(ctx, 'web', containerConfig());
    const started = await w.service.start(ctx, 'web');
    const record = w.health.recorder;
    assert.ok(record, 'start hands the monitor its recorder');
    await record(started.id, () => ({ health: { status: 'healthy', failingStreak: 0, log: [] } }));
    assert.equal(w.service.resolve('web').state.health.status, 'healthy');
    assert.equal(w.events.topics.at(-1), '/containers/health_status');
    await w.service.pause(ctx, 'web');
    await record(started.id, () => ({ health: { status: 'unhealthy', failingStreak: 3, log: [] } }));
    assert.equal(w.service.resolve('web').state.health.status, 'healthy', 'a paused container is not probed');
  });

  it('kill of a paused container thaws it first, and SIGKILL counts as a stop by the user', async () => {
    const w = world();
    await w.service.create(ctx, 'web', containerConfig({ restartPolicy: { name: 'always', maximumRetryCount: 0 } }));
    await w.service.start(ctx, 'web');
    await w.service.pause(ctx, 'web');
    await w.service.kill(ctx, 'web', '');
    await settle();
    assert.deepEqual(w.tasks.calls.slice(2), ['pause', 'resume', 'kill SIGKILL', 'teardown']);
    const c = w.service.resolve('web');
    assert.equal(c.state.status, 'exited');
    assert.equal(c.state.exitCode, 137);
    assert.deepEqual(w.clock.pending(), []);
  });
});

describe('ContainerService.reconfigure (network connect/disconnect)', () => {
  it('persists the config the change returns, given the current record; a failing change changes nothing', async () => {
    const w = world();
    inState(w, 'running');
    let seen: ContainerStatus | undefined;
    const after = await w.service.reconfigure('web', async (c) => {
      seen = c.state.status;
      return { ...c.config, connectedNetworks: [{ network: 'second' }] };
    });
    assert.equal(seen, 'running');
    assert.deepEqual(after.config.connectedNetworks, [{ network: 'second' }]);
    assert.deepEqual(w.records.records.get(ID)!.config.connectedNetworks, [{ network: 'second' }]);
    await assert.rejects(
      w.service.reconfigure('web', async () => {
        throw new Error('ADD failed');
      }),
      /ADD failed/,
    );
    assert.deepEqual(w.records.records.get(ID)!.config.connectedNetworks, [{ network: 'second' }]);
    await assert.rejects(
      async () => w.service.reconfigure('ghost', async (c) => c.config),
      (e: unknown) => kindOf(e) === 'NotFound',
    );
  });
});
