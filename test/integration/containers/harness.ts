// Shared set-up for the container tests: a registry with busybox, a daemon
// that pulled it, and `runAttached` — create, attach with start, collect the
// output and the exit code, as `gantry run` does.
import * as fs from 'node:fs';
import type { RuntimeClient } from '../../../runtime/client/client';
import { StdStream, type ContainerConfig, type ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, type ImageSpec } from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import type { Cleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

export interface ContainerWorld {
  registry: Registry;
  daemon: TestDaemon;
  client: RuntimeClient;
  /** The pulled busybox image's name. */
  image: string;
}

export async function containerWorld(cleanup: Cleanup, image: ImageSpec = {}, daemonArgs: string[] = []): Promise<ContainerWorld> {
  const registry = await startRegistry({ cleanup });
  await pushBusybox(registry, 'gantry-test/busybox:latest', { format: 'oci', image });
  const daemon = await startDaemon(cleanup, daemonArgs);
  const client = daemon.client();
  cleanup.defer(() => client.close());
  const name = `${registry.host}/gantry-test/busybox:latest`;
  for await (const _ of client.images.pull({ reference: name })) {
    // progress is not under test here
  }
  return { registry, daemon, client, image: name };
}

export interface RunResult {
  container: ContainerSummary;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** create → attach(start) → output and exit code. */
export async function runAttached(
  client: RuntimeClient,
  config: Partial<ContainerConfig> & { image: string },
  name = '',
  stdin?: string,
): Promise<RunResult> {
  const container = await client.containers.create(name, { ...config, openStdin: stdin !== undefined });
  const session = client.containers.attach({ id: container.id, start: true, stdin: stdin !== undefined });
  if (stdin !== undefined) {
    session.sendStdin(Buffer.from(stdin));
    session.closeStdin();
  }
  let stdout = '';
  let stderr = '';
  let exitCode = -1;
  for await (const message of session.responses()) {
    if (message.kind?.$case === 'output') {
      const text = Buffer.from(message.kind.value.data).toString();
      if (message.kind.value.stream === StdStream.STD_STREAM_STDERR) stderr += text;
      else stdout += text;
    } else if (message.kind?.$case === 'exitCode') {
      exitCode = message.kind.value;
    }
  }
  return { container, exitCode, stdout, stderr };
}

/** Polls `check` (test/helpers/waitFor.ts) until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  describe?: () => unknown,
): Promise<T> {
  const found = await waitFor(
    async () => {
      const value = await check();
      return value === undefined ? undefined : { value };
    },
    { what, timeoutMs, intervalMs: 100, describe },
  );
  return found.value;
}

/**
 * Mount points whose path contains `fragment` (from /proc/self/mountinfo),
 * but for the daemon's `<state>/netns` directory itself: it is a bind mount
 * of itself while gantryd runs (docs/networking.md). The namespaces mounted
 * in it (`netns/<id>`) count.
 */
export function mountsUnder(fragment: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint.includes(fragment) && !mountPoint.endsWith('/netns'));
}

/** PIDs of conmon processes whose argv mentions `fragment`. */
export function conmonsWith(fragment: string): number[] {
  const found: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (argv[0]?.endsWith('conmon') && argv.some((a) => a.includes(fragment)) && state !== 'Z') found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
