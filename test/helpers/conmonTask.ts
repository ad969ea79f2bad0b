// Containers for the attach/exec tests, started the way gantryd starts them
// (docs/conmon.md §1–§3) but without the task service: conmon creates the
// container with --full-attach (socket at <bundle>/attach), the test runs
// `runc start`, and destroy() kills, waits for the exit file and deletes.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OutputFrame } from '../../runtime/tasks/frames';
import { busyboxRootfs, writeBundle } from './bundle';
import { pidAlive, runCommand, waitForPidGone } from './proc';
import { makeTempDir } from './tmp';
import { waitFor } from './waitFor';

export const RUNC = '/usr/sbin/runc';
export const CONMON = '/usr/bin/conmon';

let rootfsDir: Promise<string> | undefined;

/**
 * The busybox rootfs of this test process. busyboxRootfs() keeps the first
 * dir it is given for the whole process, so it gets one that no suite's
 * cleanup removes (the tmp helper removes it at exit).
 */
export function sharedBusyboxRootfs(): Promise<string> {
  rootfsDir ??= makeTempDir('gbb').then((d) => busyboxRootfs(d));
  return rootfsDir;
}

export interface ConmonTaskOptions {
  /** Parent dir: the bundle is <dir>/<id>, exit files go to <dir>/exits. */
  dir: string;
  id: string;
  rootfs: string;
  runcRoot: string;
  args: string[];
  tty?: boolean;
  /** conmon -i: the container's stdin is a pipe fed from attach clients. */
  stdin?: boolean;
  leaveStdinOpen?: boolean;
}

export interface ConmonTask {
  readonly id: string;
  readonly bundle: string;
  /** Container init pid. */
  readonly pid: number;
  readonly conmonPid: number;
  /** Resolves with the exit code conmon records (polls the exit file). */
  waitExit(timeoutMs?: number): Promise<number>;
  /** Kills (if running), waits for conmon to finish, `runc delete`s. Idempotent. */
  destroy(): Promise<void>;
}

export async function startConmonTask(opts: ConmonTaskOptions): Promise<ConmonTask> {
  const bundle = path.join(opts.dir, opts.id);
  const exitDir = path.join(opts.dir, 'exits');
  await fs.promises.mkdir(exitDir, { recursive: true });
  await writeBundle(bundle, { rootfs: opts.rootfs, args: opts.args, terminal: opts.tty ?? false });
  const args = [
    '--api-version',
    '1',
    '-c',
    opts.id,
    '-u',
    opts.id,
    '-r',
    RUNC,
    '-b',
    bundle,
    '-p',
    path.join(bundle, 'pidfile'),
    '-P',
    path.join(bundle, 'conmon.pid'),
    '-l',
    `k8s-file:${path.join(bundle, 'ctr.log')}`,
    '--exit-dir',
    exitDir,
    '--full-attach',
    '--runtime-arg',
    `--root=${opts.runcRoot}`,
  ];
  if (opts.tty) args.push('-t');
  if (opts.stdin) args.push('-i');
  if (opts.leaveStdinOpen) args.push('--leave-stdin-open');
  const child = spawn(CONMON, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' },
    detached: true,
    cwd: bundle,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    sync.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    sync.on('end', () => reject(new Error(`conmon closed the sync pipe without a result: ${stderr}`)));
    (child.stdio[4] as NodeJS.WritableStream).end(Buffer.from([0]));
  });
  sync.destroy();
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  const msg = JSON.parse(line) as { data: number; message?: string };
  if (msg.data <= 0) throw new Error(`conmon create ${opts.id} failed: ${msg.message ?? line}`);
  const conmonPid = Number(await fs.promises.readFile(path.join(bundle, 'conmon.pid'), 'utf8'));
  const runc = (...a: string[]) => runCommand(RUNC, ['--root', opts.runcRoot, ...a]);
  await runc('start', opts.id);

  const exitFile = path.join(exitDir, opts.id);
  const waitExit = async (timeoutMs = 20_000): Promise<number> => {
    const text = await waitFor(() => fs.promises.readFile(exitFile, 'utf8').catch(() => undefined), {
      what: `${opts.id}: the exit file`,
      timeoutMs,
    });
    return Number(text);
  };
  let destroyed: Promise<void> | undefined;
  const destroy = () =>
    (destroyed ??= (async () => {
      if (pidAlive(conmonPid)) {
        await runc('kill', opts.id, 'KILL').catch(() => undefined);
        await waitExit().catch(() => undefined);
      }
      await waitForPidGone(conmonPid, `conmon of ${opts.id}`);
      await runc('delete', '-f', opts.id).catch(() => undefined);
    })());
  return { id: opts.id, bundle, pid: msg.data, conmonPid, waitExit, destroy };
}

/** Pids of live processes whose argv mentions `needle` (conmon/runc leftovers of a test). */
export function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (argv.includes(needle) && pidAlive(pid)) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Collects a session's frames; `until` waits for a condition on what arrived. */
export class FrameCollector {
  readonly frames: OutputFrame[] = [];
  private readonly waiters = new Set<() => void>();
  /** Resolves when the output stream ends (every frame has been seen). */
  readonly ended: Promise<void>;
  constructor(session: { output: NodeJS.EventEmitter }) {
    this.ended = new Promise((resolve) => session.output.once('end', resolve));
    session.output.on('data', (f: OutputFrame) => {
      this.frames.push(f);
      for (const w of this.waiters) w();
    });
  }
  text(stream: 'stdout' | 'stderr'): string {
    return Buffer.concat(this.frames.filter((f) => f.stream === stream).map((f) => f.data)).toString();
  }
  async until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(pred, {
      what,
      timeoutMs,
      describe: () => `stdout=${JSON.stringify(this.text('stdout'))} stderr=${JSON.stringify(this.text('stderr'))}`,
      wake: (recheck) => {
        this.waiters.add(recheck);
        return () => this.waiters.delete(recheck);
      },
    });
  }
}
