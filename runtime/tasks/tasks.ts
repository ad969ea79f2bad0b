/**
 * Tasks: the running side of a container — one process tree run by runc and
 * supervised by one conmon, so that gantryd can die and restart without
 * touching it.
 *
 * Terms
 * - A *task* is what `runc` knows under a container ID: an init process in
 *   its own namespaces and cgroups. Its state lives in runc's state dir
 *   (`runc --root <root>`), not in gantryd's memory.
 * - The *monitor* is the task's conmon. It is the parent of `runc create`,
 *   daemonises (own session, reparented to PID 1), holds the container's
 *   stdio, writes the k8s-file log, serves `<bundle>/attach`, reads
 *   `<bundle>/ctl`, reaps the init process and records its exit code in
 *   `<exitDir>/<id>` and `<persistDir>/exit` (plus `<persistDir>/oom`).
 * - The *bundle* is the task's directory: `config.json`, and the files conmon
 *   leaves there (`attach`, `ctl`, `winsz`, `pidfile`, `conmon.pid`).
 *
 * States (runc's, read with `runc state`; there is no other source of truth)
 *
 *     createTask ──► created ──start──► running ◄──resume── paused
 *                       │                 │   └────pause────►  │
 *                       │                 ▼ (exit, kill)       │
 *                       └─────────────► stopped ◄──────────────┘ (kill -9)
 *                                         │
 *                              delete ──► (gone)   delete -f: from any state
 *
 *   Operation  allowed in            otherwise
 *   start      created               FailedPrecondition
 *   pause      created, running      FailedPrecondition
 *   resume     paused                FailedPrecondition
 *   kill       created, running, paused (stopped only with `all`)
 *   delete     created, stopped      (force: any)   a missing task is fine
 *   ps, state  any                   state(): undefined when missing
 *   Any operation on a task runc does not know is NotFound (except delete).
 *
 * Creating a task (the gantryd ↔ conmon ↔ runc handshake, conmon.ts)
 *
 *   gantryd                        conmon (parent → daemon)          runc
 *     │ spawn conmon, cwd=bundle,      │                               │
 *     │ fd3=_OCI_SYNCPIPE,             │                               │
 *     │ fd4=_OCI_STARTPIPE ──────────► │ blocks in read(fd4)           │
 *     │ (optional: move conmon's PID   │                               │
 *     │  into a cgroup here)           │                               │
 *     │ start byte on fd4 ───────────► │ fork; parent writes           │
 *     │ ◄── parent exits 0 ─────────── │ conmon.pid and exits          │
 *     │     (NOT success)              │ daemon: setsid, stdio→/dev/null
 *     │                                │ runc create --bundle … id ──► │ sets up
 *     │                                │                               │ namespaces,
 *     │                                │ ◄── exit, pidfile written ─── │ init waits
 *     │ ◄── {"data": <init pid>}\n ─── │ (fd3)                         │ on exec fifo
 *     │   or {"data": -1,              │                               │
 *     │       "message": <runc stderr>}│                               │
 *     │ destroy fd3/fd4, unref child   │ keeps running, owns stdio     │
 *     │ runc start id ──────────────────────────────────────────────► │ exec user
 *     │                                │                               │ process
 *     │   … container runs, gantryd may die and restart …              │
 *     │                                │ waitpid(init) → exit code     │
 *     │ ◄── fs.watch: <exitDir>/<id> ─ │ (temp + rename), removes      │
 *     │ runc delete id ─────────────────────────────────────────────► │ `attach`, exits
 *
 *   EOF on fd3 without a line means conmon died before reporting (its stderr,
 *   if any, says why). The parent's exit status is meaningless once the start
 *   byte was sent. Once the line is read, closing fd3 is safe.
 *
 * Rules
 * - The exit file is the only record of how a task ended. It is removed
 *   (ExitWatcher.clear) only after the container record has stored the code.
 * - Never SIGKILL a monitor: its task keeps running unmonitored and its exit
 *   code is lost for good. Signal the task (runc kill) or SIGTERM the monitor
 *   (conmon forwards it).
 * - After a task stops, runc keeps its state until `runc delete`.
 * - Recovery after a daemon restart needs only files: `conmon.pid`,
 *   `pidfile`, `runc state`, and the exit dir (ExitWatcher.scan()).
 */

/** runc's own status names. */
export type TaskStatus = 'created' | 'running' | 'paused' | 'stopped';

/** `runc state <id>` / one entry of `runc list --format json`. */
export interface RuncState {
  readonly id: string;
  /** Init process PID (0 once stopped). */
  readonly pid: number;
  readonly status: TaskStatus;
  readonly bundle: string;
  readonly rootfs: string;
  /** RFC 3339 with nanoseconds, as runc prints it. */
  readonly created: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface CreateTaskOptions {
  /** runc container ID; also the exit file's name. `[A-Za-z0-9_+-]`, dots allowed but not a trailing `.XXXXXX`. */
  readonly id: string;
  /** Absolute dir holding config.json; conmon runs there and creates `attach`, `ctl`, `winsz`, `pidfile`, `conmon.pid`. */
  readonly bundle: string;
  /** Absolute path of the conmon binary. */
  readonly conmonPath: string;
  /** Absolute path of the runc binary. */
  readonly runcPath: string;
  /** runc `--root` state dir (the same one Runc uses). */
  readonly runcRoot: string;
  /** The k8s-file log, created by conmon (mode 0600, appended to). */
  readonly logPath: string;
  /** Rotate (truncate) the log above this many bytes; 0 = no limit. */
  readonly logSizeMax: number;
  /** Shared dir of exit files, one per task, named by ID. Created if missing. */
  readonly exitDir: string;
  /** Per-task dir; conmon writes `exit` and `oom` there. Created if missing. */
  readonly persistDir: string;
  /** Allocate a pty (config.json's process.terminal must be true as well). */
  readonly tty: boolean;
  /** Give the container a stdin pipe fed from the attach socket. */
  readonly stdin: boolean;
  /** Keep stdin open when an attached client disconnects. */
  readonly leaveStdinOpen?: boolean;
  /** Give up (DeadlineExceeded, everything cleaned up) after this long; default 60 s. */
  readonly timeoutMs?: number;
  /**
   * Runs while conmon waits for its start byte, before it forks and before
   * runc creates anything: the moment to move `monitorPid` into a cgroup (the
   * container's cgroups are made under conmon's). A throw aborts the create.
   */
  readonly beforeStart?: (monitorPid: number) => Promise<void>;
}

export interface CreatedTask {
  /** The container's init process (status `created` until `runc start`). */
  readonly pid: number;
  /** The daemonised conmon (not gantryd's child). */
  readonly monitorPid: number;
}

/** Called once per exit file: the task's exit code (128+n when killed by signal n). */
export type ExitHandler = (id: string, exitCode: number) => void;
