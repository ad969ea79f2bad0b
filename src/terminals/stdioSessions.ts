/**
 * The daemon's two stdio calls (Containers.Exec and Containers.Attach) as
 * StdioConnections for StdioTerminal: the same terminal code serves Open
 * Shell and Run… attached.
 */
import type { AttachResponse, AttachStart, ExecResponse, ExecStart } from '../../runtime/api/gen/gantry/v1/containers';
import type { RuntimeClient } from '../../runtime/client/client';
import type { StdioSession } from '../../runtime/client/containersApi';
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
  return connectionOf(session, (response: ExecResponse) => {
    const kind = response.kind;
    if (kind?.$case === 'started') onStarted?.(kind.value.execId, kind.value.pid);
    return kind?.$case === 'output' ? { output: kind.value.data } : kind?.$case === 'exitCode' ? { exitCode: kind.value } : undefined;
  });
}

/** Joins the container's stdio (stdin, stdout, stderr). */
export function attachConnection(client: RuntimeClient, start: Partial<AttachStart> & { id: string }): StdioConnection {
  const session = client.containers.attach({ stdin: true, stdout: true, stderr: true, ...start });
  return connectionOf(session, (response: AttachResponse) => {
    const kind = response.kind;
    return kind?.$case === 'output' ? { output: kind.value.data } : kind?.$case === 'exitCode' ? { exitCode: kind.value } : undefined;
  });
}

/** The part of a StdioSession the terminal uses, whichever call it is. */
type Session<Res> = Pick<StdioSession<never, Res>, 'sendStdin' | 'resize' | 'cancel' | 'responses'>;

function connectionOf<Res>(session: Session<Res>, map: (r: Res) => StdioEvent | undefined): StdioConnection {
  async function* events(): AsyncGenerator<StdioEvent> {
    for await (const response of session.responses()) {
      const event = map(response);
      if (event) yield event;
    }
  }
  return {
    events: events(),
    sendStdin: (data) => void session.sendStdin(data),
    resize: (rows, cols) => session.resize(rows, cols),
    cancel: () => session.cancel(),
  };
}
