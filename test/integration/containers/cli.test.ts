// The container commands of the `gantry` CLI against a real gantryd (runc +
// conmon) and a real registry holding a busybox image: run, the lifecycle
// verbs and bad input, with exit codes, output streams and what `ps` shows
// afterwards, as a Docker user would check them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GANTRY_JS } from '../../helpers/daemon';
import { startProcess } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { CliSuite, FULL_ID } from './cliSuite';

describe('gantry run and the lifecycle commands (real daemon, runc, conmon)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  const t = new CliSuite(cleanup);

  describe('run', () => {
    it("exits with the container's code, stdout and stderr kept apart, and --rm leaves nothing", async () => {
      const result = await t.daemon.cli(['run', '--rm', t.image, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(result.stdout, 'out\n');
      assert.equal(result.stderr, 'err\n');
      assert.deepEqual(await t.ps('-a'), []);
    });

    it('passes options after IMAGE to the command (run IMAGE ls -l)', async () => {
      const result = await t.daemon.cli(['run', '--rm', t.image, 'ls', '-l', '/hello.txt']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^-rw.* \/hello\.txt\n$/);
    });

    it('forwards stdin with -i', async () => {
      const result = await t.daemon.cli(['run', '--rm', '-i', t.image, 'sh', '-c', 'tr a-z A-Z; echo done'], { input: 'piped text\n' });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'PIPED TEXT\ndone\n');
    });

    it("-it on a terminal: the container gets a TTY of the terminal's size", async () => {
      // util-linux `script` gives gantry a real pty; the values travel in the
      // environment, the shell line itself is fixed.
      // The size arrives as a resize just after the start (AttachStart has no
      // initial size), so the container waits for it, a bounded number of times.
      const inner =
        'i=0; while [ $i -lt 100 ] && [ "$(stty size 2>/dev/null)" != "40 100" ]; do sleep 0.1; i=$((i+1)); done; stty size; tty; exit 3';
      const line = 'stty rows 40 cols 100; exec "$NODE" "$GANTRY" --socket "$SOCK" run --rm -it "$IMAGE" sh -c "$INNER"';
      const proc = startProcess('script', ['-qec', line, '/dev/null'], {
        name: 'script gantry run -it',
        stdin: true,
        env: { ...process.env, NODE: process.execPath, GANTRY: GANTRY_JS, SOCK: t.daemon.socket, IMAGE: t.image, INNER: inner },
      });
      const status = await proc.waitForExit();
      assert.equal(status.code, 3, proc.stdout + proc.stderr);
      // The container's pty turns \n into \r\n, and libuv's raw mode keeps ONLCR on the local one.
      assert.match(proc.stdout, /40 100\r+\n\/dev\/pts\/\d+\r+\n/);
    });

    it('maps flags into the container: env, workdir, user, hostname, labels, read-only, mounts', async () => {
      const dir = await makeTempDir('gvol', cleanup);
      fs.chmodSync(dir, 0o755); // the container runs as nobody
      fs.writeFileSync(path.join(dir, 'from-host'), 'host file\n', { mode: 0o644 });
      const result = await t.daemon.cli([
        'run',
        '--rm',
        '-e',
        'GREETING=hi',
        '-w',
        '/tmp',
        '-u',
        '65534:65534',
        '--hostname',
        'box1',
        '--read-only',
        '-v',
        `${dir}:/data:ro`,
        '--tmpfs',
        '/scratch',
        t.image,
        'sh',
        '-c',
        'echo "$GREETING $(pwd) $(id -u):$(id -g) $(hostname)"; cat /data/from-host; touch /x 2>/dev/null || echo ro-root; touch /data/y 2>/dev/null || echo ro-data; touch /scratch/z && echo tmpfs-ok',
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'hi /tmp 65534:65534 box1\nhost file\nro-root\nro-data\ntmpfs-ok\n');
    });

    it('-d prints the full ID and ps shows the container Up', async () => {
      const id = await t.runDetached('--name', 'up1', '-l', 'team=cli', t.image, 'sleep', '300');
      const table = await t.daemon.cli(['ps']);
      assert.equal(table.code, 0, table.stderr);
      const [header, row] = table.stdout.split('\n');
      assert.match(header, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
      assert.ok(row.startsWith(id.slice(0, 12)), row);
      assert.match(row, /"sleep 300"/);
      assert.match(row, / Up (Less than a second|\d+ seconds?|About a minute) +up1$/);
      const listed = await t.ps('--filter', 'label=team=cli');
      assert.deepEqual(
        listed.map((c) => [c.id, c.name, c.status]),
        [[id, 'up1', 'running']],
      );
      assert.deepEqual(await t.ps('--filter', 'label=team=other'), []);
    });

    it('pulls a missing image first, progress on stderr', async () => {
      const result = await t.daemon.cli(['run', '--rm', `${t.registry.host}/test/busybox:unpulled`, 'cat', '/etc/gantry-fixture']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'unpulled\n');
      assert.match(result.stderr, /Unable to find image .* locally/);
      assert.match(result.stderr, /Status: Downloaded newer image/);
    });
  });

  describe('lifecycle', () => {
    it('stop -t 1 kills a container that ignores SIGTERM: Exited (137)', async () => {
      await t.runDetached('--name', 'stubborn', t.image, 'sh', '-c', 'trap "echo got TERM" TERM; echo ready; while true; do sleep 1; done');
      await t.waitForLog('stubborn', 'ready');
      const stop = await t.daemon.cli(['stop', '-t', '1', 'stubborn']);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(stop.stdout, 'stubborn\n');
      const table = await t.daemon.cli(['ps', '-a']);
      assert.match(table.stdout, /Exited \(137\) .* stubborn\n/);
      assert.deepEqual(
        (await t.ps('-a')).map((c) => [c.name, c.status, c.exitCode]),
        [['stubborn', 'exited', 137]],
      );
      assert.deepEqual(await t.ps(), [], 'ps without -a lists only running containers');
    });

    it('wait prints the exit code; start and kill report each container', async () => {
      await t.runDetached('--name', 'five', t.image, 'sh', '-c', 'sleep 1; exit 5');
      const wait = await t.daemon.cli(['wait', 'five']);
      assert.equal(wait.code, 0, wait.stderr);
      assert.equal(wait.stdout, '5\n');
      const start = await t.daemon.cli(['start', 'five']);
      assert.equal(start.code, 0, start.stderr);
      assert.equal(start.stdout, 'five\n');
      const kill = await t.daemon.cli(['kill', '-s', 'KILL', 'five']);
      assert.equal(kill.code, 0, kill.stderr);
      assert.equal((await t.daemon.cli(['wait', 'five'])).stdout, '137\n');
    });

    it("start -a attaches and exits with the container's code", async () => {
      const create = await t.daemon.cli(['create', '--name', 'later', t.image, 'sh', '-c', 'echo started; exit 7']);
      assert.equal(create.code, 0, create.stderr);
      assert.match(create.stdout, FULL_ID);
      assert.deepEqual(
        (await t.ps('-a')).map((c) => c.status),
        ['created'],
      );
      const start = await t.daemon.cli(['start', '-a', 'later']);
      assert.equal(start.code, 7, start.stderr);
      assert.equal(start.stdout, 'started\n');
    });

    it('pause, unpause and restart', async () => {
      await t.runDetached('--name', 'frozen', t.image, 'sleep', '300');
      assert.equal((await t.daemon.cli(['pause', 'frozen'])).code, 0);
      const table = await t.daemon.cli(['ps']);
      assert.match(table.stdout, /Up .* \(Paused\) +frozen\n/);
      assert.equal((await t.daemon.cli(['unpause', 'frozen'])).code, 0);
      assert.deepEqual(
        (await t.ps()).map((c) => c.status),
        ['running'],
      );
      const before = JSON.parse((await t.daemon.cli(['inspect', 'frozen'])).stdout)[0] as { pid: number };
      const restart = await t.daemon.cli(['restart', '-t', '1', 'frozen']);
      assert.equal(restart.code, 0, restart.stderr);
      assert.equal(restart.stdout, 'frozen\n');
      const after = JSON.parse((await t.daemon.cli(['inspect', 'frozen'])).stdout)[0] as { pid: number; status: string };
      assert.equal(after.status, 'running');
      assert.notEqual(after.pid, before.pid, 'a new process');
    });

    it('rm -f removes a running container; a failure among several is reported and exits 1', async () => {
      await t.runDetached('--name', 'doomed', t.image, 'sleep', '300');
      const plain = await t.daemon.cli(['rm', 'doomed']);
      assert.equal(plain.code, 1);
      assert.match(plain.stderr, /^gantry: .*/);
      const rm = await t.daemon.cli(['rm', '-f', 'doomed', 'no-such-container']);
      assert.equal(rm.code, 1);
      assert.equal(rm.stdout, 'doomed\n');
      assert.match(rm.stderr, /^gantry: .*no-such-container.*\n$/);
      assert.deepEqual(await t.ps('-a'), []);
    });

    it('container prune -f removes the stopped containers only', async () => {
      const running = await t.runDetached('--name', 'keeper', t.image, 'sleep', '300');
      const done1 = await t.daemon.cli(['run', '--name', 'done1', t.image, 'true']);
      const done2 = await t.daemon.cli(['create', '--name', 'done2', t.image, 'true']);
      assert.equal(done1.code, 0, done1.stderr);
      assert.equal(done2.code, 0, done2.stderr);
      const prune = await t.daemon.cli(['container', 'prune', '-f']);
      assert.equal(prune.code, 0, prune.stderr);
      assert.match(prune.stdout, /^Deleted Containers:\n([0-9a-f]{64}\n){2}$/);
      assert.ok(prune.stdout.includes(done2.stdout.trim()));
      assert.deepEqual(
        (await t.ps('-a')).map((c) => c.id),
        [running],
      );
    });

    it('container prune without -f asks, and does nothing unless told yes', async () => {
      await t.daemon.cli(['create', '--name', 'idle', t.image, 'true']);
      const no = await t.daemon.cli(['container', 'prune'], { input: 'n\n' });
      assert.equal(no.code, 0, no.stderr);
      assert.match(no.stderr, /Are you sure you want to continue\? \[y\/N\]/);
      assert.equal((await t.ps('-a')).length, 1);
      const yes = await t.daemon.cli(['container', 'prune'], { input: 'y\n' });
      assert.equal(yes.code, 0, yes.stderr);
      assert.deepEqual(await t.ps('-a'), []);
    });
  });

  describe("bad input: a clear error and Docker's exit code", () => {
    async function refused(args: string[], code: number, message: RegExp): Promise<void> {
      const result = await t.daemon.cli(args);
      assert.equal(result.code, code, `exit code of gantry ${args.join(' ')}; stderr: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /^([^\n]*\n)*gantry: [^\n]+\n$/, 'ends with one gantry: line');
    }

    it('unknown image: 125', async () => {
      await refused(['run', '--rm', `${t.registry.host}/test/nope:latest`], 125, /gantry: .*(not found|unknown|nope)/i);
      await refused(['run', '--rm', '--pull', 'never', `${t.registry.host}/test/nope:latest`], 125, /gantry: .*nope/);
      assert.deepEqual(await t.ps('-a'), []);
    });

    it('invalid and duplicate names: 125', async () => {
      await refused(['run', '--name', 'bad name!', t.image, 'true'], 125, /invalid container name/);
      await t.runDetached('--name', 'dup', t.image, 'sleep', '300');
      await refused(['run', '--name', 'dup', t.image, 'true'], 125, /dup/);
      assert.equal((await t.ps('-a')).length, 1);
    });

    it('unknown user: 125', async () => {
      await refused(['run', '--rm', '-u', 'nobody123', t.image, 'true'], 125, /unable to find user nobody123/);
      assert.deepEqual(await t.ps('-a'), []);
    });

    it('a command that is not there: 127; one that cannot be executed: 126', async () => {
      await refused(['run', '--rm', t.image, '/nonexistent'], 127, /\/nonexistent/);
      await refused(['run', '--rm', '--entrypoint', '/no/entrypoint', t.image], 127, /\/no\/entrypoint/);
      await refused(['run', '--rm', t.image, '/hello.txt'], 126, /hello\.txt/);
      assert.deepEqual(await t.ps('-a'), [], '--rm also removes a container that failed to start');
    });

    it('bad -v sources: 125', async () => {
      // `relative:/x` is a named volume now (docs/volumes.md); a path that is neither a name nor absolute is refused.
      await refused(['run', '--rm', '-v', './relative:/x', t.image, 'true'], 125, /neither a volume name nor an absolute host path/);
      await refused(['run', '--rm', '-v', '/no/such/host/dir:/x', t.image, 'true'], 125, /\/no\/such\/host\/dir/);
    });

    it('usage mistakes: 2', async () => {
      await refused(['run', '--rm'], 2, /run needs an image/);
      await refused(['run', '--bogus', t.image], 2, /bogus/);
      await refused(['ps', '--filter', 'nonsense'], 2, /bad filter/);
      await refused(['logs', '--since', 'whenever', 'x'], 2, /invalid time/);
      await refused(['stop', '-t', 'soon', 'x'], 2, /invalid timeout/);
    });

    it('-it with stdin from a pipe: 1, and nothing is created', async () => {
      const result = await t.daemon.cli(['run', '--rm', '-it', t.image, 'true'], { input: '' });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^gantry: the input device is not a TTY/);
      assert.deepEqual(await t.ps('-a'), []);
    });

    it('operations on a missing container: 1', async () => {
      await refused(['stop', 'ghost'], 1, /ghost/);
      await refused(['logs', 'ghost'], 1, /ghost/);
      await refused(['exec', 'ghost', 'true'], 1, /ghost/);
      await refused(['wait', 'ghost'], 1, /ghost/);
    });
  });
});
