/**
 * Following a container's log, for `gantry logs` and the extension's log
 * document. A LogCursor remembers the timestamp of the last entry it handed
 * out and how many entries shared that millisecond, so a follow that starts
 * again after a dropped link or a restart of the container asks for the
 * lines since then and skips those already shown (the daemon sends the
 * lines of that millisecond again). A fresh cursor asks with the caller's
 * options (tail, since, until) and skips nothing.
 */
import type { LogEntry } from '../../api/gen/gantry/v1/containers';
import type { RuntimeClient } from '../client';
import type { LogsOptions } from '../containersApi';

export class LogCursor {
  private lastTime: number | undefined;
  private sameTimeCount = 0;

  /** Whether an entry with a timestamp has been handed out (a follow now resumes after it). */
  get resuming(): boolean {
    return this.lastTime !== undefined;
  }

  /**
   * The entries of container `id`: the first time with `first`, later ones
   * resuming (`follow`, since the last entry's time). Ends when the daemon
   * ends the call or `signal` aborts; failures are GantryErrors.
   */
  async *entries(client: RuntimeClient, id: string, first: LogsOptions, signal?: AbortSignal): AsyncGenerator<LogEntry> {
    const resumeFrom = this.lastTime;
    let skip = resumeFrom !== undefined ? this.sameTimeCount : 0;
    const options = resumeFrom !== undefined ? { follow: true, since: new Date(resumeFrom) } : first;
    for await (const entry of client.containers.logs(id, options, signal)) {
      const at = entry.timestamp?.getTime();
      // Resuming: the daemon sends again the lines of the last millisecond shown (or earlier ones): skip those.
      if (resumeFrom !== undefined && at !== undefined && this.lastTime !== undefined) {
        if (at < this.lastTime) continue;
        if (at === this.lastTime && skip > 0) {
          skip--;
          continue;
        }
      }
      if (at !== undefined) {
        this.sameTimeCount = at === this.lastTime ? this.sameTimeCount + 1 : 1;
        this.lastTime = at;
      }
      yield entry;
    }
  }
}

/** One pass over a container's log with `options` (`gantry logs`, `logs -f`). */
export function readLogs(client: RuntimeClient, id: string, options: LogsOptions, signal?: AbortSignal): AsyncGenerator<LogEntry> {
  return new LogCursor().entries(client, id, options, signal);
}
