/**
 * The daemon's two stdio calls (Containers.Exec and Containers.Attach) as
 * StdioConnections for StdioTerminal: the same terminal code serves Open
 * Shell and Run… attached. Reading the calls' responses (stdioMessages) and
 * the attach that starts the container (attachAndStart) are the client
 * package's flows, which the CLI's `run` and `start -a` use too.
 */
import {
  attachAndStart,
  type AttachResponse,
  type ExecResponse,
  type ExecStart,
  type RuntimeClient,
  stdioMessages,
  type StdioSession,
} from '../../runtime/client';
import type { Dimensions, StdioConnection, StdioEvent } from './stdioTerminal';

/** Runs `args` in the running container `id`, with a TTY of the terminal's size and stdin open. */
export function execConnection(
  client: RuntimeClient,
  start: Partial<ExecStart> & { id: string; args: string[] },
  dimensions: Dimensions | undefined,
  onStarted?: (execId: string, pid: number) => void,
): StdioConnection {
  const session = client.containers.exec({
    tty: true,
    stdin: true,
    size: dimensions ? { rows: dimensions.rows, cols: dimensions.columns } : undefined,
    ...start,
  });
  return connectionOf(session, onStarted);
}

/** Joins the stdio (stdin, stdout, stderr) of the created container `id` and starts it in the same call. */
export function attachAndStartConnection(client: RuntimeClient, id: string): StdioConnection {
  return connectionOf(attachAndStart(client, id, { stdin: true }));
}

/** The part of a StdioSession the terminal uses, whichever call it is. */
type Session<Res> = Pick<StdioSession<never, Res>, 'sendStdin' | 'resize' | 'cancel' | 'responses'>;

function connectionOf(session: Session<AttachResponse | ExecResponse>, onStarted?: (execId: string, pid: number) => void): StdioConnection {
  async function* events(): AsyncGenerator<StdioEvent> {
    for await (const message of stdioMessages(session)) {
      if ('started' in message) onStarted?.(message.started.execId, message.started.pid);
      else if ('output' in message) yield { output: message.output };
      else yield { exitCode: message.exitCode };
    }
  }
  return {
    events: events(),
    sendStdin: (data) => void session.sendStdin(data),
    resize: (rows, cols) => session.resize(rows, cols),
    cancel: () => session.cancel(),
  };
}
