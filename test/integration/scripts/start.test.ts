// scripts/start.sh as a person runs it: a real gantryd and a real code-server,
// in private dirs (GANTRY_ROOT, GANTRY_STATE, GANTRY_SOCKET,
// GANTRY_WORKBENCH_DIR) on a free PORT, so it never touches /run/gantry, the
// repo's .cache/workbench or a user's daemon. --no-setup skips
// scripts/setup.sh (the build and code-server are already there).
//
// "Started from the UI" is the extension's own code (spawnDaemon.ts), run
// with the environment code-server's extension hosts inherit: what start.sh
// gave code-server, read from its /proc/PID/environ.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { daemonArgv, spawnDaemon } from '../../../src/commands/runtime/spawnDaemon';
import { TestDaemon, daemonVersion, removeLeftovers, requireBuild } from '../../helpers/daemon';
import { freePort } from '../../helpers/ports';
import { startProcess, type Proc } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const START_SH = path.join(REPO_ROOT, 'scripts', 'start.sh');

interface Started {
  readonly proc: Proc;
  readonly port: number;
  readonly socket: string;
  readonly root: string;
}

/** Whether `pid` runs (a zombie has exited). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function healthz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    http
      .get(`http://127.0.0.1:${port}/healthz`, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      })
      .on('error', () => resolve(false));
  });
}

/** The environment of process `pid`, as its children inherit it. */
function environOf(pid: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

describe('scripts/start.sh (real gantryd and code-server, private dirs)', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  const pidsToStop = new Set<number>();

  before(() => requireBuild());
  after(() => {
    // A failed test may have left daemons of its own.
    for (const pid of pidsToStop) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  async function start(dir: string): Promise<Started> {
    const port = await freePort();
    const root = path.join(dir, 'root');
    const state = path.join(dir, 'state');
    const socket = path.join(state, 'gantry.sock');
    const proc = startProcess('bash', [START_SH, '--no-setup'], {
      name: 'start.sh',
      env: {
        ...process.env,
        PORT: String(port),
        GANTRY_ROOT: root,
        GANTRY_STATE: state,
        GANTRY_SOCKET: socket,
        GANTRY_WORKBENCH_DIR: path.join(dir, 'wb'),
      },
    });
    cleanup.defer(() => proc.stop(30_000));
    await proc.waitFor((p) => p.stdout.includes('Gantry is running. Open:'), { what: 'start.sh to print the URL', timeout: 120_000 });
    return { proc, port, socket, root };
  }

  /** SIGINT to start.sh's process group, as Ctrl-C in its terminal; resolves with its output once it exited. */
  async function ctrlC(proc: Proc): Promise<string> {
    proc.kill('SIGINT');
    const status = await proc.waitForExit();
    assert.equal(status.code, 130, `exit ${JSON.stringify(status)}; stderr:\n${proc.stderr}`);
    return proc.stderr;
  }

  it('keeps VS Code up while gantryd exits and is started again from the UI; Ctrl-C stops both daemons and code-server', async () => {
    const dir = await makeTempDir('gss', cleanup);
    cleanup.defer(() => removeLeftovers(dir));
    const { proc, port, socket, root } = await start(dir);
    const first = await daemonVersion(socket);
    pidsToStop.add(first.pid);
    assert.equal(first.root, root, 'start.sh passes GANTRY_ROOT to gantryd');
    const csPid = Number(/code-server \(pid (\d+)\)/.exec(proc.stderr)?.[1]);
    assert.ok(alive(csPid), `code-server pid not found in:\n${proc.stderr}`);

    // gantryd goes away: start.sh says so and keeps code-server up.
    process.kill(first.pid, 'SIGKILL');
    await proc.waitFor((p) => p.stderr.includes(`gantryd (pid ${first.pid}) exited`), { what: 'start.sh to notice gantryd exited' });
    assert.equal(proc.exitStatus, undefined, `start.sh exited:\n${proc.stderr}`);
    assert.ok(await healthz(port), 'code-server no longer answers /healthz');

    // Start Runtime, as the extension host in that code-server runs it.
    const env = environOf(csPid);
    assert.equal(env.GANTRY_SOCKET, socket, 'code-server (and so the extension) gets the socket');
    assert.ok(env.GANTRY_DAEMON_PIDS_FILE, 'code-server gets the file to record started daemons in');
    const child = spawnDaemon(daemonArgv(REPO_ROOT, env.GANTRY_SOCKET, env), path.join(dir, 'ui-gantryd.log'), env);
    const uiPid = child.pid!;
    pidsToStop.add(uiPid);
    const second = await proc.waitFor(() => daemonVersion(socket).catch(() => undefined), {
      what: 'the daemon started from the UI to answer',
    });
    assert.equal(second.pid, uiPid);
    assert.equal(second.root, root, 'Start Runtime uses the GANTRY_ROOT start.sh was given');

    const output = await ctrlC(proc);
    assert.match(output, new RegExp(`stopping gantryd \\(pid ${uiPid}\\), started from VS Code`));
    assert.match(output, /stopping code-server/);
    assert.ok(output.includes(`no gantryd left running on ${socket}`), output);
    assert.ok(!alive(uiPid), `the daemon started from the UI (pid ${uiPid}) still runs`);
    assert.ok(!alive(csPid), `code-server (pid ${csPid}) still runs`);
    assert.equal(await healthz(port), false);
  });

  it('leaves a gantryd that was running before it, and says so', async () => {
    const dir = await makeTempDir('gss', cleanup);
    cleanup.defer(() => removeLeftovers(dir));
    const before = new TestDaemon(path.join(dir, 'root'), path.join(dir, 'state'));
    cleanup.defer(() => before.stop());
    await before.start();
    const { proc, socket } = await start(dir);
    assert.equal(socket, before.socket);
    const pid = before.process.pid;
    assert.match(proc.stderr, new RegExp(`using the gantryd already running on .* \\(pid ${pid}\\)`));

    const output = await ctrlC(proc);
    assert.ok(output.includes(`left running: gantryd (pid ${pid}) on ${socket}, which was running before start.sh began`), output);
    assert.ok(alive(pid), 'start.sh stopped a gantryd it did not start');
    assert.equal((await daemonVersion(socket)).pid, pid);
  });
});
