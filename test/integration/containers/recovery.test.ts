// Containers outlive gantryd: a daemon killed with SIGKILL and started again
// finds its containers running, their logs continuing, and the exit codes of
// those that ended while it was down; what a crash half-made is removed.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerStatus } from '../../../runtime/api/gen/gantry/v1/containers';
import { runCommand } from '../../helpers/proc';
import { suiteCleanup } from '../../helpers/tmp';
import { conmonsWith, containerWorld, eventually, mountsUnder, type ContainerWorld } from './harness';

describe('containers: recovery after gantryd is killed', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
  });

  async function logLines(id: string): Promise<string[]> {
    const client = world.daemon.client();
    try {
      const lines: string[] = [];
      for await (const e of client.containers.logs(id)) lines.push(Buffer.from(e.data).toString().trim());
      return lines;
    } finally {
      client.close();
    }
  }

  it('re-adopts 5 running containers, records the exit of one that ended meanwhile, and logs continue', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await world.client.containers.create(`survivor-${i}`, {
        image: world.image,
        cmd: ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done'],
      });
      await world.client.containers.start(c.id);
      ids.push(c.id);
    }
    const quitter = await world.client.containers.create('quitter', {
      image: world.image,
      cmd: ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 23'],
    });
    await world.client.containers.start(quitter.id);
    await eventually('some output', async () => ((await logLines(ids[0])).length >= 2 ? true : undefined));

    await world.daemon.kill();
    // While no daemon runs: the containers keep going, and the quitter exits.
    assert.equal(conmonsWith(world.daemon.state).length, 6, 'every conmon survives the daemon');
    const runcRoot = path.join(world.daemon.state, 'runc');
    await runCommand('runc', ['--root', runcRoot, 'exec', quitter.id, 'touch', '/tmp/go']);
    await eventually('the quitter to exit', async () =>
      fs.existsSync(path.join(world.daemon.state, 'exits', quitter.id)) ? true : undefined,
    );
    const linesBefore = (await fs.promises.readFile(path.join(world.daemon.root, 'containers', ids[0], 'container.log'), 'utf8')).split(
      '\n',
    ).length;

    await world.daemon.start();
    world.client.close();
    world.client = world.daemon.client();
    const listed = await world.client.containers.list(false);
    assert.deepEqual(listed.map((c) => c.id).sort(), [...ids].sort());
    assert.ok(listed.every((c) => c.status === ContainerStatus.CONTAINER_STATUS_RUNNING && c.pid > 0));
    const q = (await world.client.containers.inspect(quitter.id)).container!;
    assert.equal(q.status, ContainerStatus.CONTAINER_STATUS_EXITED);
    assert.equal(q.exitCode, 23);
    await eventually('the log to grow after the restart', async () => {
      const lines = await logLines(ids[0]);
      return lines.length > linesBefore + 2 ? true : undefined;
    });
    // The re-adopted containers are still fully managed: stop works and reports the exit
    // (sh as PID 1 ignores SIGTERM, so it is killed after the timeout).
    const stopped = await world.client.containers.stop(ids[0], { timeoutSeconds: 1 });
    assert.equal(stopped.status, ContainerStatus.CONTAINER_STATUS_EXITED);
    assert.equal(stopped.exitCode, 137);
    await world.daemon.removeAllContainers();
    assert.deepEqual(conmonsWith(world.daemon.state), []);
    assert.deepEqual(mountsUnder(world.daemon.state), []);
  });

  it('removes what a crash left half-made: stray tasks, bundles, exit files, snapshots', async () => {
    const c = await world.client.containers.create('doomed', { image: world.image, cmd: ['sleep', '300'] });
    await world.client.containers.start(c.id);
    await world.daemon.kill();
    // Make the record vanish as if the crash came before it was written.
    fs.rmSync(path.join(world.daemon.root, 'containers', c.id), { recursive: true });
    fs.writeFileSync(path.join(world.daemon.state, 'exits', 'ffffffffffff'), '0');
    await world.daemon.start();
    world.client.close();
    world.client = world.daemon.client();
    await eventually('the stray task to be gone', async () => (conmonsWith(c.id).length === 0 ? true : undefined));
    const runcList = await runCommand('runc', ['--root', path.join(world.daemon.state, 'runc'), 'list', '-q']);
    assert.ok(!runcList.stdout.includes(c.id), 'runc no longer knows the stray task');
    assert.equal(fs.existsSync(path.join(world.daemon.state, 'tasks', c.id)), false);
    assert.equal(fs.existsSync(path.join(world.daemon.state, 'exits', 'ffffffffffff')), false);
    const snapshots = await world.client.snapshots.list();
    assert.ok(!snapshots.snapshots.some((s) => s.name === `container-${c.id}`));
    assert.deepEqual(mountsUnder(c.id), []);
  });

  it('restarts an always container after a restart of the daemon finds its task gone', async () => {
    const c = await world.client.containers.create('phoenix', {
      image: world.image,
      cmd: ['sleep', '300'],
      restartPolicy: { name: 'always', maximumRetryCount: 0 },
    });
    await world.client.containers.start(c.id);
    await world.daemon.kill();
    // As after a reboot: the task and its monitor are gone without an exit file.
    const runcRoot = path.join(world.daemon.state, 'runc');
    await runCommand('runc', ['--root', runcRoot, 'kill', c.id, 'KILL']);
    await eventually('the exit file', async () => (fs.existsSync(path.join(world.daemon.state, 'exits', c.id)) ? true : undefined));
    fs.rmSync(path.join(world.daemon.state, 'exits', c.id));
    await runCommand('runc', ['--root', runcRoot, 'delete', '-f', c.id]);
    await world.daemon.start();
    world.client.close();
    world.client = world.daemon.client();
    const back = await eventually('phoenix running again', async () => {
      const s = (await world.client.containers.inspect(c.id)).container!;
      return s.status === ContainerStatus.CONTAINER_STATUS_RUNNING ? s : undefined;
    });
    assert.ok(back.pid > 0);
    await world.daemon.removeAllContainers();
  });
});
