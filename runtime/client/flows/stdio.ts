/**
 * Attach and exec as the CLI (`run`, `start -a`, `attach`, `exec`) and the
 * extension's terminals (Run… attached, Open Shell) use them: what comes back
 * on an attach or exec call, read once into StdioMessages, and the attach
 * that starts the container in the same call so no output is missed
 * (docs/architecture.md, "Flow 2: run", attach before start). How the bytes
 * reach a person (the CLI's stdio, a VS Code pseudoterminal) is the caller's.
 */
import { StdStream, type AttachResponse, type AttachStart, type ExecResponse, type TerminalSize } from '../../api/gen/gantry/v1/containers';
import type { RuntimeClient } from '../client';

export type StdioMessage =
  | { readonly output: Uint8Array; readonly stream: 'stdout' | 'stderr' }
  | { readonly exitCode: number }
  | { readonly started: { readonly execId: string; readonly pid: number } };

/** The responses of an attach or exec session, as StdioMessages; ends when the daemon ends the call. */
export async function* stdioMessages(session: {
  responses(): AsyncGenerator<AttachResponse | ExecResponse>;
}): AsyncGenerator<StdioMessage> {
  for await (const response of session.responses()) {
    const kind = response.kind;
    if (kind?.$case === 'output') {
      yield { output: kind.value.data, stream: kind.value.stream === StdStream.STD_STREAM_STDERR ? 'stderr' : 'stdout' };
    } else if (kind?.$case === 'exitCode') {
      yield { exitCode: kind.value };
    } else if (kind?.$case === 'started') {
      yield { started: { execId: kind.value.execId, pid: kind.value.pid } };
    }
  }
}

export interface AttachStartOptions {
  /** Forward stdin (`-i`; the extension's terminal always does). */
  readonly stdin: boolean;
  /** The pty's size before the process runs (later changes go as resizes). */
  readonly size?: TerminalSize;
}

/** Joins the stdio of the created container `id` and starts it in the same call (`run` without -d, `start -a`, Run… attached). */
export function attachAndStart(client: RuntimeClient, id: string, options: AttachStartOptions, signal?: AbortSignal) {
  const start: Partial<AttachStart> & { id: string } = {
    id,
    stdin: options.stdin,
    stdout: true,
    stderr: true,
    start: true,
    size: options.size,
  };
  return client.containers.attach(start, signal);
}
