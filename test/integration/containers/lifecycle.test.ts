// The container lifecycle through the gRPC API, with real runc, conmon,
// overlayfs and an image pulled from a real registry.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerStatus, HealthStatus } from '../../../runtime/api/gen/gantry/v1/containers';
import { startDaemon } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { conmonsWith, containerWorld, eventually, mountsUnder, runAttached, type ContainerWorld } from './harness';

describe('containers: lifecycle (runc + conmon)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup, {
      files: { '/etc/greeting': 'hello from the image\n' },
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'FROM_IMAGE=yes'],
    });
  });

  /** A test's own undo, run after it whether it passed or not. */
  let cleanupAfter: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await world.daemon.removeAllContainers();
    await cleanupAfter?.();
    cleanupAfter = undefined;
  });

  async function status(id: string) {
    return (await world.client.containers.inspect(id)).container!;
  }

  it('runs a container that prints, reads env and files, and exits with its code', async () => {
    const result = await runAttached(world.client, {
      image: world.image,
      cmd: ['sh', '-c', 'echo "out $FROM_IMAGE $EXTRA"; cat /etc/greeting; echo err >&2; exit 7'],
      env: ['EXTRA=given'],
    });
    assert.equal(result.exitCode, 7);
    assert.equal(result.stdout, 'out yes given\nhello from the image\n');
    assert.equal(result.stderr, 'err\n');
    const after = await status(result.container.id);
    assert.equal(after.status, ContainerStatus.CONTAINER_STATUS_EXITED);
    assert.equal(after.exitCode, 7);
  });

  it('runs a Docker schema2 image as well as an OCI one', async () => {
    const pushed = await pushBusybox(world.registry, 'gantry-test/docker-format:latest', { format: 'v2s2', image: { marker: 'schema2' } });
    for await (const _ of world.client.images.pull({ reference: pushed.ref })) {
      // progress is not under test here
    }
    const result = await runAttached(world.client, { image: pushed.ref, cmd: ['cat', '/etc/gantry-fixture'] });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'schema2\n');
  });

  it('runs as another user, with the working directory and hostname asked for', async () => {
    const result = await runAttached(world.client, {
      image: world.image,
      cmd: ['sh', '-c', 'id -u; id -g; pwd; hostname; cat /etc/hostname'],
      user: 'nobody',
      workingDir: '/tmp',
      hostname: 'box1',
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, '65534\n65534\n/tmp\nbox1\nbox1\n');
  });

  it('stops a container that ignores SIGTERM by killing it after the timeout', async () => {
    const c = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sh', '-c', 'trap "echo ignored TERM" TERM; while true; do sleep 0.1; done'],
    });
    await world.client.containers.start(c.id);
    const stopped = await world.client.containers.stop(c.id, { timeoutSeconds: 1 });
    assert.equal(stopped.status, ContainerStatus.CONTAINER_STATUS_EXITED);
    assert.equal(stopped.exitCode, 137);
  });

  it('stops a container that honours SIGTERM with its own exit code', async () => {
    const c = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done'],
    });
    await world.client.containers.start(c.id);
    const stopped = await world.client.containers.stop(c.id, { timeoutSeconds: 30 });
    assert.equal(stopped.exitCode, 42);
  });

  it('pauses and unpauses: the state follows and events are published', async () => {
    const c = await world.client.containers.create('pausable', { image: world.image, cmd: ['sleep', '300'] });
    await world.client.containers.start(c.id);
    await world.client.containers.pause(c.id);
    assert.equal((await status(c.id)).status, ContainerStatus.CONTAINER_STATUS_PAUSED);
    const freezer = fs.readFileSync(`/sys/fs/cgroup/freezer/gantry/${c.id}/freezer.state`, 'utf8').trim();
    assert.equal(freezer, 'FROZEN');
    await world.client.containers.unpause(c.id);
    assert.equal((await status(c.id)).status, ContainerStatus.CONTAINER_STATUS_RUNNING);
    const topics: string[] = [];
    for await (const m of world.client.events.subscribe({ since: 0, noFollow: true, topics: ['/containers/'] })) {
      if (m.kind?.$case === 'event' && m.kind.value.id === c.id) topics.push(m.kind.value.topic);
    }
    assert.deepEqual(topics, ['/containers/create', '/containers/start', '/containers/pause', '/containers/unpause']);
  });

  it('kill of a paused container thaws it, so even SIGKILL takes effect', async () => {
    const c = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '300'] });
    await world.client.containers.start(c.id);
    await world.client.containers.pause(c.id);
    const waited = world.client.containers.wait(c.id);
    await world.client.containers.kill(c.id, 'KILL');
    assert.equal(await waited, 137);
    assert.equal((await status(c.id)).status, ContainerStatus.CONTAINER_STATUS_EXITED);
  });

  it('kill sends the signal; wait returns the exit code', async () => {
    const c = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sh', '-c', 'trap "exit 9" HUP; while true; do sleep 0.1; done'],
    });
    await world.client.containers.start(c.id);
    const waited = world.client.containers.wait(c.id);
    await world.client.containers.kill(c.id, 'HUP');
    assert.equal(await waited, 9);
  });

  it('restarts a failing container with on-failure:3, then leaves it stopped', async () => {
    const c = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sh', '-c', 'echo attempt; exit 3'],
      restartPolicy: { name: 'on-failure', maximumRetryCount: 3 },
    });
    await world.client.containers.start(c.id);
    const final = await eventually('the last restart to fail', async () => {
      const s = await status(c.id);
      return s.status === ContainerStatus.CONTAINER_STATUS_EXITED && s.restartCount === 3 ? s : undefined;
    });
    assert.equal(final.exitCode, 3);
    const dies: string[] = [];
    for await (const m of world.client.events.subscribe({ since: 0, noFollow: true, topics: ['/containers/die'] })) {
      if (m.kind?.$case === 'event' && m.kind.value.id === c.id) dies.push(m.kind.value.attributes.exitCode);
    }
    assert.deepEqual(dies, ['3', '3', '3', '3']);
    const lines: string[] = [];
    for await (const e of world.client.containers.logs(c.id)) lines.push(Buffer.from(e.data).toString().trim());
    assert.deepEqual(lines, ['attempt', 'attempt', 'attempt', 'attempt']);
  });

  it('marks a container unhealthy when its health check fails', async () => {
    const c = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sleep', '300'],
      healthcheck: {
        test: ['CMD-SHELL', 'test -e /tmp/healthy'],
        intervalMs: 200,
        timeoutMs: 2000,
        startPeriodMs: 0,
        retries: 2,
        disabled: false,
      },
    });
    await world.client.containers.start(c.id);
    assert.equal((await status(c.id)).health, HealthStatus.HEALTH_STATUS_STARTING);
    await eventually('unhealthy', async () => ((await status(c.id)).health === HealthStatus.HEALTH_STATUS_UNHEALTHY ? true : undefined));
    const inspected = await world.client.containers.inspect(c.id);
    assert.ok(inspected.health!.failingStreak >= 2);
    assert.ok(inspected.health!.log.every((p) => p.exitCode === 1));
    const healthEvents: string[] = [];
    for await (const m of world.client.events.subscribe({ since: 0, noFollow: true, topics: ['/containers/health_status'] })) {
      if (m.kind?.$case === 'event' && m.kind.value.id === c.id) healthEvents.push(m.kind.value.attributes.health);
    }
    assert.deepEqual(healthEvents, ['unhealthy']);
  });

  it('--rm leaves nothing behind: record, bundle, snapshot, mounts', async () => {
    const result = await runAttached(world.client, { image: world.image, cmd: ['true'], autoRemove: true });
    assert.equal(result.exitCode, 0);
    const id = result.container.id;
    await eventually('the record to go', async () => {
      const all = await world.client.containers.list(true);
      return all.some((c) => c.id === id) ? undefined : true;
    });
    assert.equal(fs.existsSync(path.join(world.daemon.state, 'tasks', id)), false);
    assert.equal(fs.existsSync(path.join(world.daemon.root, 'containers', id)), false);
    const snapshots = await world.client.snapshots.list();
    assert.ok(!snapshots.snapshots.some((s) => s.name === `container-${id}`));
    assert.deepEqual(mountsUnder(id), []);
  });

  it('rm -f of everything leaves no mounts, no runc state and no conmon', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '300'] });
      await world.client.containers.start(c.id);
    }
    const exited = await world.client.containers.create('', { image: world.image, cmd: ['true'] });
    await world.client.containers.start(exited.id);
    assert.equal(await world.client.containers.wait(exited.id), 0);
    for (const c of await world.client.containers.list(true)) await world.client.containers.remove(c.id, true);
    assert.deepEqual(await world.client.containers.list(true), []);
    assert.deepEqual(mountsUnder(world.daemon.state), []);
    const runcList = await runCommand('runc', ['--root', path.join(world.daemon.state, 'runc'), 'list', '-q']);
    assert.equal(runcList.stdout.trim(), '');
    assert.deepEqual(conmonsWith(world.daemon.state), []);
  });

  it('an image in use by a container is kept: rmi refuses, rmi --force untags, the container still starts', async () => {
    const registryImage = `${world.registry.host}/gantry-test/busybox:latest`;
    await world.client.images.tag(registryImage, 'local/keep:v1');
    const c = await world.client.containers.create('user-of-image', { image: 'local/keep:v1', cmd: ['echo', 'still here'] });
    // The next tests use the image again, whatever happens here.
    cleanupAfter = async () => {
      for await (const _ of world.client.images.pull({ reference: registryImage })) {
        // progress is not under test here
      }
    };
    // Untagging one of two names is fine; the last name of an image in use is refused.
    await world.client.images.remove(registryImage);
    await assert.rejects(world.client.images.remove('local/keep:v1'), { kind: 'Conflict', message: /in use by container user-of-image/ });
    await world.client.images.remove('local/keep:v1', true);
    const names = (await world.client.images.list()).map((i) => i.name);
    assert.ok(!names.includes(registryImage) && !names.includes('docker.io/local/keep:v1'), names.join(', '));
    // The container keeps its own copy of the config and its snapshot chain: it still runs.
    await world.client.containers.start(c.id);
    assert.equal(await world.client.containers.wait(c.id), 0);
    const lines: string[] = [];
    for await (const e of world.client.containers.logs(c.id)) lines.push(Buffer.from(e.data).toString());
    assert.deepEqual(lines, ['still here\n']);
  });

  describe('bad input: a clear error and no leftovers', () => {
    async function assertNothingLeft() {
      assert.deepEqual(await world.client.containers.list(true), []);
      assert.deepEqual(mountsUnder(world.daemon.state), []);
      const snapshots = await world.client.snapshots.list();
      assert.ok(!snapshots.snapshots.some((s) => s.name.startsWith('container-')), 'no container snapshot left');
    }

    it('unknown image', async () => {
      await assert.rejects(world.client.containers.create('', { image: 'nosuch/image:1' }), {
        kind: 'NotFound',
        message: /no such image: nosuch\/image:1/,
      });
      await assertNothingLeft();
    });

    it('unknown user', async () => {
      await assert.rejects(world.client.containers.create('', { image: world.image, user: 'ghost' }), {
        kind: 'InvalidArgument',
        message: /unable to find user ghost/,
      });
      await assertNothingLeft();
    });

    it('missing entrypoint binary: start fails naming it, the container stays created', async () => {
      const c = await world.client.containers.create('', { image: world.image, cmd: ['/bin/nonexistent'] });
      await assert.rejects(world.client.containers.start(c.id), { message: /\/bin\/nonexistent.*no such file or directory/ });
      const after = await status(c.id);
      assert.equal(after.status, ContainerStatus.CONTAINER_STATUS_CREATED);
      assert.match(after.error, /nonexistent/);
      assert.deepEqual(conmonsWith(c.id), []);
      await world.client.containers.remove(c.id);
      await assertNothingLeft();
    });

    it('bad mount source', async () => {
      await assert.rejects(
        world.client.containers.create('', {
          image: world.image,
          mounts: [{ source: '/no/such/dir', destination: '/data', readOnly: false }],
        }),
        { kind: 'InvalidArgument', message: /bind source path does not exist: \/no\/such\/dir/ },
      );
      await assertNothingLeft();
    });

    it('invalid name', async () => {
      await assert.rejects(world.client.containers.create('bad name!', { image: world.image }), {
        kind: 'InvalidArgument',
        message: /invalid container name/,
      });
      await assertNothingLeft();
    });

    it('duplicate name', async () => {
      await world.client.containers.create('twin', { image: world.image });
      await assert.rejects(world.client.containers.create('twin', { image: world.image }), {
        kind: 'AlreadyExists',
        message: /"\/twin" is already in use/,
      });
      assert.equal((await world.client.containers.list(true)).length, 1);
    });
  });

  it('binds a host directory read-only and mounts a tmpfs', async () => {
    const dir = await makeTempDir('bind', cleanup);
    fs.writeFileSync(path.join(dir, 'note'), 'from the host\n');
    const result = await runAttached(world.client, {
      image: world.image,
      cmd: [
        'sh',
        '-c',
        'cat /data/note; touch /data/x 2>/dev/null && echo writable || echo read-only; grep " /scratch " /proc/mounts | cut -d" " -f3',
      ],
      mounts: [{ source: dir, destination: '/data', readOnly: true }],
      tmpfs: [{ destination: '/scratch', options: [] }],
    });
    assert.equal(result.stdout, 'from the host\nread-only\ntmpfs\n');
  });
});

describe('containers: without runc or conmon', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();

  it('the daemon still serves images, and container calls say what to install', async () => {
    const daemon = await startDaemon(cleanup, ['--runtime', 'no-such-runc', '--conmon', 'no-such-conmon']);
    const client = daemon.client();
    cleanup.defer(() => client.close());
    assert.deepEqual(await client.images.list(), []);
    await assert.rejects(client.containers.list(true), {
      kind: 'FailedPrecondition',
      message: /runc \("no-such-runc"\) and conmon \("no-such-conmon"\) not found.*apt install runc conmon/,
    });
    const cli = await daemon.cli(['ps']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /containers are unavailable/);
  });
});
