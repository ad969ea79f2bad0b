// What a command run in a container prints, for tests that check a
// container's view of something (a file written from outside, a mode).
import { stdioMessages, type RuntimeClient } from '../../runtime/client';

/** The stdout of `args` exec'd in container `id` (stderr and the exit code are not looked at). */
export async function execStdout(client: RuntimeClient, id: string, args: string[]): Promise<string> {
  let out = '';
  for await (const m of stdioMessages(client.containers.exec({ id, args }))) {
    if ('output' in m && m.stream === 'stdout') out += Buffer.from(m.output).toString();
  }
  return out;
}
