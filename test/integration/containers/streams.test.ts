// A container's streams through the gRPC API: logs (tail, since, follow
// across a restart), exec with and without a TTY, attach with stdin, stats
// and top — real containers under conmon.
import * as assert from 'node:assert/strict';
import { StdStream } from '../../../runtime/api/gen/gantry/v1/containers';
import { suiteCleanup } from '../../helpers/tmp';
import { containerWorld, eventually, runAttached, type ContainerWorld } from './harness';

describe('containers: logs, exec, attach, stats, top', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
  });

  afterEach(async () => {
    await world.daemon.removeAllContainers();
  });

  async function logText(id: string, options: Parameters<ContainerWorld['client']['containers']['logs']>[1] = {}) {
    const lines: string[] = [];
    for await (const e of world.client.containers.logs(id, options)) {
      lines.push(`${e.stream === StdStream.STD_STREAM_STDERR ? 'E' : 'O'}:${Buffer.from(e.data).toString().replace(/\n$/, '')}`);
    }
    return lines;
  }

  async function running(cmd: string[], extra = {}) {
    const c = await world.client.containers.create('', { image: world.image, cmd, ...extra });
    await world.client.containers.start(c.id);
    return c;
  }

  it('logs keep stdout and stderr apart, and honour tail and since', async () => {
    const c = await running(['sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done']);
    await world.client.containers.wait(c.id);
    const all = await logText(c.id);
    assert.deepEqual(
      all.filter((l) => l.startsWith('O:')),
      ['O:out1', 'O:out2', 'O:out3', 'O:out4', 'O:out5'],
    );
    assert.deepEqual(
      all.filter((l) => l.startsWith('E:')),
      ['E:err1', 'E:err2', 'E:err3', 'E:err4', 'E:err5'],
    );
    assert.deepEqual(await logText(c.id, { tail: 2, stderr: false }), ['O:out4', 'O:out5']);
    assert.deepEqual(await logText(c.id, { since: new Date(Date.now() + 60_000) }), []);
  });

  it('a follower sees new lines, keeps following across a restart, and ends when the container is removed', async () => {
    const c = await running(['sh', '-c', 'echo started; while [ ! -e /tmp/stop ]; do sleep 0.1; done; echo stopping'], {
      restartPolicy: { name: 'always', maximumRetryCount: 0 },
    });
    const seen: string[] = [];
    const following = (async () => {
      for await (const e of world.client.containers.logs(c.id, { follow: true })) seen.push(Buffer.from(e.data).toString().trim());
    })();
    await eventually('the first line', async () => (seen.includes('started') ? true : undefined));
    // Ending the process makes the policy restart it: the follower must carry on into the next run.
    const touch = world.client.containers.exec({ id: c.id, args: ['touch', '/tmp/stop'] });
    for await (const _ of touch.responses()) {
      // drain
    }
    await eventually('the restarted run to log', async () => (seen.filter((l) => l === 'started').length >= 2 ? true : undefined));
    assert.ok(seen.includes('stopping'));
    await world.client.containers.remove(c.id, true);
    await following; // ends by itself once the container is gone
  });

  it('exec without a TTY: separate streams, stdin, and the exit code', async () => {
    const c = await running(['sleep', '300']);
    const session = world.client.containers.exec({
      id: c.id,
      args: ['sh', '-c', 'read line; echo "got $line"; echo oops >&2; exit 5'],
      stdin: true,
    });
    session.sendStdin(Buffer.from('hello\n'));
    session.closeStdin();
    let stdout = '';
    let stderr = '';
    let exitCode = -1;
    let started = false;
    for await (const m of session.responses()) {
      if (m.kind?.$case === 'started') started = m.kind.value.pid > 0;
      if (m.kind?.$case === 'output') {
        if (m.kind.value.stream === StdStream.STD_STREAM_STDERR) stderr += Buffer.from(m.kind.value.data).toString();
        else stdout += Buffer.from(m.kind.value.data).toString();
      }
      if (m.kind?.$case === 'exitCode') exitCode = m.kind.value;
    }
    assert.ok(started);
    assert.equal(stdout, 'got hello\n');
    assert.equal(stderr, 'oops\n');
    assert.equal(exitCode, 5);
  });

  it('exec with a TTY: a pty of the size asked for, resizable', async () => {
    const c = await running(['sleep', '300']);
    const session = world.client.containers.exec({
      id: c.id,
      args: ['sh', '-c', 'tty; stty size; read x; stty size; exit 3'],
      tty: true,
      stdin: true,
      size: { rows: 30, cols: 100 },
    });
    let output = '';
    let exitCode = -1;
    let resized = false;
    for await (const m of session.responses()) {
      if (m.kind?.$case === 'output') output += Buffer.from(m.kind.value.data).toString();
      if (m.kind?.$case === 'exitCode') exitCode = m.kind.value;
      if (!resized && output.includes('30 100')) {
        resized = true;
        session.resize(40, 120);
        // The resize and stdin take different paths to the task: send "go" once the pty has the new size.
        const pts = /\/dev\/pts\/\d+/.exec(output)![0];
        let seen = '';
        await eventually(
          `${pts} resized to 40 120`,
          async () => {
            seen = (await world.daemon.cli(['exec', c.id, 'stty', '-F', pts, 'size'])).stdout.trim();
            return seen === '40 120' || undefined;
          },
          undefined,
          () => seen,
        );
        session.sendStdin(Buffer.from('go\r'));
      }
    }
    assert.match(output, /\/dev\/pts\/\d+/);
    assert.match(output, /30 100/);
    assert.match(output, /40 120/);
    assert.equal(exitCode, 3);
  });

  it('exec --detach leaves the process running after the call ends', async () => {
    const c = await running(['sleep', '300']);
    const detached = world.client.containers.exec({ id: c.id, args: ['sh', '-c', 'sleep 0.5; echo done > /tmp/bg'], detach: true });
    const kinds: string[] = [];
    for await (const m of detached.responses()) kinds.push(m.kind?.$case ?? '');
    assert.deepEqual(kinds, ['started']);
    await eventually('the background process to finish', async () => {
      const check = world.client.containers.exec({ id: c.id, args: ['cat', '/tmp/bg'] });
      let out = '';
      for await (const m of check.responses()) if (m.kind?.$case === 'output') out += Buffer.from(m.kind.value.data).toString();
      return out === 'done\n' ? true : undefined;
    });
  });

  it('exec refuses a container that is not running, and names a missing binary', async () => {
    const created = await world.client.containers.create('', { image: world.image, cmd: ['true'] });
    const notRunning = world.client.containers.exec({ id: created.id, args: ['true'] });
    await assert.rejects(
      async () => {
        for await (const _ of notRunning.responses()) {
          // drain
        }
      },
      { kind: 'FailedPrecondition', message: /not running/ },
    );
    const c = await running(['sleep', '300']);
    const missing = world.client.containers.exec({ id: c.id, args: ['/no/such/binary'] });
    await assert.rejects(
      async () => {
        for await (const _ of missing.responses()) {
          // drain
        }
      },
      { message: /\/no\/such\/binary/ },
    );
  });

  it('attach with stdin to an interactive container', async () => {
    const result = await runAttached(
      world.client,
      { image: world.image, cmd: ['sh', '-c', 'while read l; do echo "echo:$l"; done; echo bye'] },
      '',
      'a\nb\n',
    );
    assert.equal(result.stdout, 'echo:a\necho:b\nbye\n');
    assert.equal(result.exitCode, 0);
  });

  it('stats reads memory, pids and cpu from the cgroup; top lists the processes', async () => {
    const c = await running(['sh', '-c', 'sleep 300 & while true; do :; done'], { memoryBytes: 64 * 1024 * 1024, pidsLimit: 50 });
    let sample;
    for await (const s of world.client.containers.stats(c.id, false)) sample = s;
    assert.ok(sample);
    assert.equal(sample.memoryLimit, 64 * 1024 * 1024);
    assert.equal(sample.pidsLimit, 50);
    assert.ok(sample.pids >= 2, `pids ${sample.pids}`);
    assert.ok(sample.cpuTotalNs > 0);
    assert.ok(sample.cpuPercent > 10, `a busy loop uses CPU: ${sample.cpuPercent}%`);
    const top = await world.client.containers.top(c.id);
    assert.ok(top.titles.includes('PID'));
    const cmdColumn = top.titles.indexOf('CMD');
    const commands = top.processes.map((p) => p.fields[cmdColumn]);
    assert.ok(
      commands.some((cmd) => cmd.includes('sleep 300')),
      commands.join(' | '),
    );
  });
});
