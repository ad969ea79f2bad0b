// Proves the process, temp-dir and port helpers on real processes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Cleanup, makeTempDir } from '../../helpers/tmp';
import { freePort } from '../../helpers/ports';
import { runCommand, startProcess, waitForPidGone } from '../../helpers/proc';

describe('harness: tmp, ports, proc', () => {
  it('makeTempDir makes short dirs that Cleanup removes, newest step first', async () => {
    const cleanup = new Cleanup();
    const order: string[] = [];
    const dir = await makeTempDir('gt', cleanup);
    cleanup.defer(() => order.push('second-registered'));
    assert.ok(dir.length < 40, `short path for unix sockets: ${dir}`);
    assert.ok(fs.statSync(dir).isDirectory());
    await cleanup.runAll();
    assert.deepEqual(order, ['second-registered']);
    assert.equal(fs.existsSync(dir), false);
  });

  it('Cleanup runs every step and reports all failures', async () => {
    const cleanup = new Cleanup();
    let ran = false;
    cleanup.defer(() => (ran = true));
    cleanup.defer(() => Promise.reject(new Error('one')));
    cleanup.defer(() => {
      throw new Error('two');
    });
    await assert.rejects(cleanup.runAll(), (e: AggregateError) => e.errors.length === 2);
    assert.ok(ran);
  });

  it('freePort hands out distinct loopback ports that can be bound', async () => {
    const a = await freePort();
    const b = await freePort();
    assert.notEqual(a, b);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(a, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('stop() terminates the whole process group', async () => {
    // A shell with a background child: both are in the group we created.
    const p = startProcess('sh', ['-c', 'sleep 300 & echo child=$!; wait']);
    const child = Number(await p.waitFor((pr) => /child=(\d+)/.exec(pr.stdout)?.[1], { what: 'child pid' }));
    const status = await p.stop();
    assert.equal(status.signal, 'SIGTERM');
    await waitForPidGone(p.pid, 'shell');
    await waitForPidGone(child, 'background child');
  });

  it('stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
    const p = startProcess('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 1; done']);
    await p.waitFor((pr) => pr.stdout.includes('ready'), { what: 'ready' });
    const status = await p.stop(300);
    assert.equal(status.signal, 'SIGKILL');
  });

  it('waitFor fails with the captured stderr when the process exits first', async () => {
    const p = startProcess('sh', ['-c', 'echo boom-on-stderr >&2; exit 3'], { name: 'failing-server' });
    await assert.rejects(
      p.waitFor(() => false, { what: 'readiness' }),
      (e: Error) => {
        assert.match(e.message, /failing-server .*exited \(code 3\) before readiness/);
        assert.match(e.message, /boom-on-stderr/);
        return true;
      },
    );
  });

  it('waitFor times out with a message naming what it waited for', async () => {
    const p = startProcess('sh', ['-c', 'echo still-starting >&2; exec sleep 300']);
    await assert.rejects(
      p.waitFor(() => false, { what: 'the moon', timeout: 300 }),
      (e: Error) => {
        assert.match(e.message, /timed out .* waiting for the moon/);
        assert.match(e.message, /still-starting/);
        return true;
      },
    );
    await p.stop();
  });

  it('keeps only the newest output within maxOutput', async () => {
    const p = startProcess('sh', ['-c', 'i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done'], { maxOutput: 100 });
    await p.waitForExit();
    await p.waitFor((pr) => pr.stdout.includes('line-199'), { what: 'last line' });
    assert.ok(p.stdout.length <= 100);
    assert.ok(!p.stdout.includes('line-0\n'));
  });

  it('runCommand returns stdout and reports failures with stderr', async () => {
    assert.equal((await runCommand('sh', ['-c', 'echo "$0"', 'arg with spaces; no shell'])).stdout, 'arg with spaces; no shell\n');
    assert.equal((await runCommand('cat', [], { input: 'piped' })).stdout, 'piped');
    await assert.rejects(runCommand('sh', ['-c', 'echo nope >&2; exit 2']), /code 2.*\n.*nope/s);
  });

  it('reports a command that cannot be started', async () => {
    const p = startProcess('/nonexistent/gantry-server', []);
    await assert.rejects(
      p.waitFor(() => false, { what: 'start' }),
      /exited \(code null\) before start[\s\S]*ENOENT/,
    );
    await assert.rejects(runCommand('/nonexistent/tool', ['x']), /command failed[\s\S]*ENOENT/);
  });
});
