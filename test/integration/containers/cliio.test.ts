// The stream commands of the `gantry` CLI against a real gantryd (runc +
// conmon): logs, exec, attach, top, stats and inspect.
import * as assert from 'node:assert/strict';
import { GANTRY_JS } from '../../helpers/daemon';
import { startProcess } from '../../helpers/proc';
import { suiteCleanup } from '../../helpers/tmp';
import { CliSuite } from './cliSuite';

interface InspectJson {
  id?: string;
  name?: string;
  status?: string;
  manifest?: unknown;
  spec?: { process?: { args?: string[] } };
}

describe('gantry logs, exec, attach, stats, inspect (real daemon, runc, conmon)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  const t = new CliSuite(cleanup);

  describe('logs', () => {
    it('--tail, -t, and stderr lines to stderr', async () => {
      const run = await t.daemon.cli(['run', '--name', 'talker', t.image, 'sh', '-c', 'echo one; echo two; echo oops >&2; echo three']);
      assert.equal(run.code, 0, run.stderr);
      const all = await t.daemon.cli(['logs', 'talker']);
      assert.equal(all.stdout, 'one\ntwo\nthree\n');
      assert.equal(all.stderr, 'oops\n');
      // stdout and stderr are separate pipes, so their relative order in the log is not the program's:
      // the tail is checked on a container that writes stdout only.
      const quiet = await t.daemon.cli(['run', '--name', 'quiet', t.image, 'sh', '-c', 'echo one; echo two; echo three']);
      assert.equal(quiet.code, 0, quiet.stderr);
      const tail = await t.daemon.cli(['logs', '--tail', '1', 'quiet']);
      assert.equal(tail.code, 0, tail.stderr);
      assert.equal(tail.stdout, 'three\n');
      const stamped = await t.daemon.cli(['logs', '-t', '--tail', '1', 'quiet']);
      assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/);
      const future = await t.daemon.cli(['logs', '--since', '2999-01-01T00:00:00Z', 'talker']);
      assert.equal(future.stdout, '');
      const recent = await t.daemon.cli(['logs', '--since', '10m', 'talker']);
      assert.equal(recent.stdout, 'one\ntwo\nthree\n');
    });

    it('-f follows a running container until it exits', async () => {
      await t.runDetached('--name', 'counter', t.image, 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 1; done');
      const follow = startProcess(process.execPath, [GANTRY_JS, '--socket', t.daemon.socket, 'logs', '-f', 'counter'], {
        name: 'gantry logs -f',
      });
      cleanup.defer(() => follow.stop(5_000));
      await follow.waitFor((p) => p.stdout.includes('line1'), { what: 'the first line', timeout: 30_000 });
      assert.ok(!follow.stdout.includes('line3'), 'still following while the container runs');
      const status = await follow.waitForExit();
      assert.equal(status.code, 0, follow.stderr);
      assert.equal(follow.stdout, 'line1\nline2\nline3\n');
    });
  });

  describe('attach', () => {
    it("attach joins a running container's stdio and exits with its code", async () => {
      // The container waits for a line on stdin, so nothing happens before we are attached.
      await t.runDetached('-i', '--name', 'reader', t.image, 'sh', '-c', 'read line; echo got:$line; echo bye >&2; exit 6');
      const result = await t.daemon.cli(['attach', 'reader'], { input: 'hello\n' });
      assert.equal(result.code, 6, result.stderr);
      assert.equal(result.stdout, 'got:hello\n');
      assert.equal(result.stderr, 'bye\n');
      const again = await t.daemon.cli(['attach', 'reader']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not running/);
    });
  });

  describe('exec, top, stats, inspect', () => {
    beforeEach(async () => {
      await t.runDetached('--name', 'target', t.image, 'sleep', '300');
    });

    it("exec exits with the command's code and output", async () => {
      const result = await t.daemon.cli(['exec', 'target', 'sh', '-c', 'echo hi; echo warn >&2; exit 4']);
      assert.equal(result.code, 4, result.stderr);
      assert.equal(result.stdout, 'hi\n');
      assert.equal(result.stderr, 'warn\n');
      const env = await t.daemon.cli(['exec', '-e', 'X=1', '-w', '/etc', '-u', 'nobody', 'target', 'sh', '-c', 'echo $X $(pwd) $(id -un)']);
      assert.equal(env.stdout, '1 /etc nobody\n');
    });

    it('exec -it on a terminal runs the command on a TTY of that size', async () => {
      const line = 'stty rows 30 cols 90; exec "$NODE" "$GANTRY" --socket "$SOCK" exec -it target sh -c "stty size; tty; exit 2"';
      const proc = startProcess('script', ['-qec', line, '/dev/null'], {
        name: 'script gantry exec -it',
        stdin: true,
        env: { ...process.env, NODE: process.execPath, GANTRY: GANTRY_JS, SOCK: t.daemon.socket },
      });
      const status = await proc.waitForExit();
      assert.equal(status.code, 2, proc.stdout + proc.stderr);
      assert.match(proc.stdout, /30 90\r+\n\/dev\/pts\/\d+\r+\n/);
    });

    it('exec -i feeds piped stdin to the command', async () => {
      const result = await t.daemon.cli(['exec', '-i', 'target', 'cat'], { input: 'through exec\n' });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'through exec\n');
    });

    it("exec of a missing binary exits 127 with the runtime's reason; a directory 126", async () => {
      const result = await t.daemon.cli(['exec', 'target', '/no/such/binary']);
      assert.equal(result.code, 127);
      const notExecutable = await t.daemon.cli(['exec', 'target', '/etc']);
      assert.equal(notExecutable.code, 126, notExecutable.stderr);
      assert.match(result.stderr, /^gantry: .*\/no\/such\/binary.*\n$/);
    });

    it("top lists the container's processes (also as --json); stats --no-stream prints one sample", async () => {
      const top = await t.daemon.cli(['top', 'target']);
      assert.equal(top.code, 0, top.stderr);
      assert.match(top.stdout.split('\n')[0], /PID/);
      assert.match(top.stdout, /sleep 300/);
      const topJson = await t.daemon.cli(['top', '--json', 'target']);
      assert.equal(topJson.code, 0, topJson.stderr);
      const parsed = JSON.parse(topJson.stdout) as { titles: string[]; processes: string[][] };
      const pidColumn = parsed.titles.indexOf('PID');
      assert.ok(pidColumn >= 0, `a PID column in ${JSON.stringify(parsed.titles)}`);
      assert.ok(
        parsed.processes.some((p) => p.length === parsed.titles.length && /^\d+$/.test(p[pidColumn]) && p.join(' ').includes('sleep 300')),
        topJson.stdout,
      );
      const stats = await t.daemon.cli(['stats', '--no-stream', 'target']);
      assert.equal(stats.code, 0, stats.stderr);
      const [header, row] = stats.stdout.split('\n');
      assert.match(header, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +PIDS$/);
      assert.match(row, /^[0-9a-f]{12} +target +\d+\.\d\d% +[\d.]+[KMG]?i?B \/ [\d.]+[KMGTPE]?i?B +\d+\.\d\d% +1$/);
    });

    it('stats streams one table block per second into a pipe until Ctrl-C', async () => {
      const stats = startProcess(process.execPath, [GANTRY_JS, '--socket', t.daemon.socket, 'stats', 'target'], { name: 'gantry stats' });
      cleanup.defer(() => stats.stop(5_000));
      await stats.waitFor((p) => p.stdout.split('CONTAINER ID').length > 2, { what: 'two table blocks', timeout: 30_000 });
      assert.ok(!stats.stdout.includes('\x1b['), 'no screen control codes into a pipe');
      stats.kill('SIGINT');
      const status = await stats.waitForExit();
      assert.equal(status.code, 0, stats.stderr);
      for (const block of stats.stdout.split('\n\n').filter(Boolean)) {
        assert.match(block, /^CONTAINER ID .*\n[0-9a-f]{12} +target /);
      }
    });

    it('stats on a terminal redraws in place until Ctrl-C', async () => {
      const line = 'exec "$NODE" "$GANTRY" --socket "$SOCK" stats target';
      const proc = startProcess('script', ['-qec', line, '/dev/null'], {
        name: 'script gantry stats',
        stdin: true,
        env: { ...process.env, NODE: process.execPath, GANTRY: GANTRY_JS, SOCK: t.daemon.socket },
      });
      cleanup.defer(() => proc.stop(5_000));
      await proc.waitFor((p) => p.stdout.split('\x1b[2J\x1b[H').length > 2, { what: 'two redraws', timeout: 30_000 });
      proc.child.stdin!.write('\x03'); // Ctrl-C on the terminal: SIGINT to gantry
      const status = await proc.waitForExit();
      assert.equal(status.code, 0, proc.stdout);
      const frames = proc.stdout.split('\x1b[2J\x1b[H').slice(1);
      assert.match(frames[0], /^CONTAINER ID .*\r?\n[0-9a-f]{12} +target /);
    });

    it('inspect finds containers and images by name, and says which names match nothing', async () => {
      const both = await t.daemon.cli(['inspect', 'target', t.image]);
      assert.equal(both.code, 0, both.stderr);
      const [container, img] = JSON.parse(both.stdout) as InspectJson[];
      assert.equal(container.name, 'target');
      assert.equal(container.status, 'running');
      assert.deepEqual(container.spec?.process?.args, ['sleep', '300']);
      assert.ok(img.manifest, 'the image record has its manifest');
      const missing = await t.daemon.cli(['inspect', 'target', 'nothing-by-this-name']);
      assert.equal(missing.code, 1);
      assert.equal((JSON.parse(missing.stdout) as InspectJson[]).length, 1);
      assert.match(missing.stderr, /^gantry: no such container; no such image: nothing-by-this-name; no such network\n$/);
      const typed = await t.daemon.cli(['container', 'inspect', t.image]);
      assert.equal(typed.code, 1, 'container inspect does not fall back to images');
    });
  });
});
