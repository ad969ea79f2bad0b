/**
 * Exit codes from conmon's exit dir: the only way gantryd learns that a task
 * ended, live or after a restart (it is never the monitor's parent, so it
 * cannot waitpid).
 *
 * conmon writes `<exitDir>/<id>` holding the decimal code (no newline; 128+n
 * when the task died of signal n) by creating `<id>.XXXXXX` and renaming it
 * over `<id>`. inotify shows the temp name first, then the final one
 * (`rename r1.5Z8EZ3`, `change r1.5Z8EZ3`, `rename r1.5Z8EZ3`, `rename r1`).
 *
 * Lifecycle
 *   new ExitWatcher(dir, onExit)  starts watching at once, so nothing written
 *                                 from here on is missed
 *   await scan()                  reports files already there (exits that
 *                                 happened while gantryd was down); safe to
 *                                 call again at any time (e.g. as a periodic
 *                                 safety net)
 *   onExit(id, code)              once per exit file: a file is identified by
 *                                 inode and ctime, so a task re-created under
 *                                 the same ID is reported again for its new
 *                                 file (removing the file by other means than
 *                                 clear() is fine too)
 *   await clear(id)               after the caller has recorded the code:
 *                                 removes the file (idempotent)
 *   close()                       stops watching (idempotent); in-flight reads
 *                                 report nothing after it
 *
 * Robustness: an event may arrive before the rename (temp names are
 * ignored), a name may be gone by the time it is read (ENOENT: a later event
 * or scan() reports it), and a file whose content does not parse is skipped
 * until it is rewritten. Reports are asynchronous and in file-arrival order
 * only per ID.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExitHandler } from './tasks';

/** conmon's mkstemp names: `<id>.` + six characters. Task IDs never end like this (conmon.ts refuses them). */
const TEMP_NAME_RE = /\.[A-Za-z0-9]{6}$/;

export interface ExitWatcherOptions {
  readonly onExit: ExitHandler;
  /**
   * fs.watch failures (the watcher is closed after one: the directory was
   * removed), unreadable exit files, and throws from onExit.
   */
  readonly onError?: (err: Error) => void;
}

export class ExitWatcher {
  private readonly watcher: fs.FSWatcher;
  /** id → identity (inode + ctime) of the file last reported, so each file is reported once. */
  private readonly reported = new Map<string, string>();
  /** ids being read now, and whether another event came meanwhile. */
  private readonly reading = new Map<string, boolean>();
  private closed = false;

  /** Watches `exitDir` (created if missing) right away. */
  constructor(
    readonly exitDir: string,
    private readonly opts: ExitWatcherOptions,
  ) {
    fs.mkdirSync(exitDir, { recursive: true });
    this.watcher = fs.watch(exitDir, { persistent: false }, (_event, name) => {
      if (name) void this.check(name.toString()); // check() reports its errors through onError
    });
    this.watcher.on('error', (err) => {
      this.close();
      this.opts.onError?.(err);
    });
  }

  /** Reports every exit file present now (not yet reported); resolves once all are read. */
  async scan(): Promise<void> {
    const names = await fs.promises.readdir(this.exitDir);
    await Promise.all(names.map((n) => this.check(n)));
  }

  /** The recorded exit code of `id`, or undefined when there is no (complete) exit file. */
  readExit(id: string): Promise<number | undefined> {
    return readExitCode(path.join(this.exitDir, id));
  }

  /** Removes `id`'s exit file once its code is recorded; a missing file is fine. */
  async clear(id: string): Promise<void> {
    await fs.promises.rm(path.join(this.exitDir, id), { force: true });
    this.reported.delete(id);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
  }

  private async check(name: string): Promise<void> {
    if (this.closed || name.startsWith('.') || TEMP_NAME_RE.test(name)) return;
    if (this.reading.has(name)) {
      this.reading.set(name, true); // read again when the current read is done
      return;
    }
    this.reading.set(name, false);
    try {
      do {
        this.reading.set(name, false);
        await this.readOnce(name);
      } while (this.reading.get(name) && !this.closed);
    } catch (e) {
      this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.reading.delete(name);
    }
  }

  private async readOnce(id: string): Promise<void> {
    const file = path.join(this.exitDir, id);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // Gone (removed, or not renamed in yet): a later event or scan() tells.
      // Forget what was reported, so a new file is never mistaken for it.
      this.reported.delete(id);
      return;
    }
    let identity: string;
    let text: string;
    try {
      // Read through one open file, so the identity and the content belong
      // together. An inode alone can be reused by the next exit file once
      // the old one is deleted; with the ctime it cannot. The stat comes
      // after the read: a file written in place changes its ctime at the
      // truncate and again at the write, and the content read here is at
      // least as new as the ctime seen after it — so the second event finds
      // the identity it already reported.
      text = await handle.readFile('utf8');
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) return;
      identity = `${st.ino}:${st.ctimeNs}`;
    } finally {
      await handle.close();
    }
    const code = parseExitCode(text);
    if (code === undefined || this.closed || this.reported.get(id) === identity) return;
    this.reported.set(id, identity);
    try {
      this.opts.onExit(id, code);
    } catch (e) {
      this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }
}

/** Reads an exit file (`<exitDir>/<id>` or `<persistDir>/exit`); undefined when missing or not a number. */
export async function readExitCode(file: string): Promise<number | undefined> {
  try {
    return parseExitCode(await fs.promises.readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** conmon's persisted exit code in a task's persist dir (kept after the exit dir's file is cleared). */
export function readPersistedExit(persistDir: string): Promise<number | undefined> {
  return readExitCode(path.join(persistDir, 'exit'));
}

/** True when conmon saw an OOM kill in the task's memory cgroup (it creates `<persistDir>/oom`). */
export async function wasOomKilled(persistDir: string): Promise<boolean> {
  try {
    await fs.promises.access(path.join(persistDir, 'oom'));
    return true;
  } catch {
    return false;
  }
}

function parseExitCode(text: string): number | undefined {
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) return undefined;
  return Number(t);
}
