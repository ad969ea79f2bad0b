/**
 * Persistent network namespaces: one file per container, `<state>/netns/<id>`,
 * with the namespace bind-mounted on it. The namespace lives as long as the
 * mount does — without any process in it — so it survives a gantryd restart,
 * and recovery finds it again by listing the directory.
 *
 * Created with util-linux `unshare --net=<file>` (which binds the new
 * namespace onto the file before it runs its command), running
 * `ip link set lo up` inside, so loopback works as it does in a namespace runc
 * makes itself. Removed with umount + unlink.
 *
 * Mount propagation: the netns directory is made a bind mount of its own,
 * first private (so the namespace mounts do not spread into the peer group of
 * the filesystem it sits on), then shared: a mount namespace copied from ours
 * later (`ip netns exec`, `unshare -m`, as a slave) receives our unmounts too,
 * so it never keeps a removed namespace alive. iproute2 does the same for
 * /run/netns. See docs/networking.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { alreadyExists, internal, invalidArgument } from '../errdefs/errdefs';
import { run, runOk } from '../util/exec';

export interface NetnsEntry {
  readonly id: string;
  readonly path: string;
  /** False for a stale file whose namespace is no longer mounted (after a reboot). */
  readonly mounted: boolean;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The mount points in our mount namespace (mountinfo field 5, octal escapes undone). */
export async function mountPoints(): Promise<Set<string>> {
  const text = await fs.promises.readFile('/proc/self/mountinfo', 'utf8');
  const points = new Set<string>();
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field) points.add(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return points;
}

/** Makes `dir` exist and be a private-then-shared bind mount of itself (idempotent). */
export async function prepareNetnsDir(dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o755 });
  const real = await fs.promises.realpath(dir);
  if ((await mountPoints()).has(real)) return;
  try {
    await runOk('mount', ['--bind', real, real]);
    await runOk('mount', ['--make-private', real]);
    await runOk('mount', ['--make-shared', real]);
  } catch (e) {
    throw internal(`preparing the network namespace directory ${real}: ${(e as Error).message}`, e);
  }
}

/** Unmounts the netns directory's own bind mount (at shutdown when it holds no namespace, and in test teardown). */
export async function releaseNetnsDir(dir: string): Promise<void> {
  const real = await fs.promises.realpath(dir).catch(() => dir);
  if ((await mountPoints()).has(real)) await runOk('umount', [real]);
}

export function netnsPath(dir: string, id: string): string {
  if (!ID.test(id)) throw invalidArgument(`invalid network namespace id ${JSON.stringify(id)}`);
  return path.join(dir, id);
}

/** Creates the namespace `<dir>/<id>` with loopback up; AlreadyExists when it is there. */
export function createNetns(dir: string, id: string): Promise<string> {
  return mountNetnsFile(dir, id, 'creating network namespace', (file) =>
    runOk('unshare', [`--net=${file}`, 'ip', 'link', 'set', 'lo', 'up']),
  );
}

/** Binds an existing namespace (`/proc/PID/ns/net`) on `<dir>/<id>`; AlreadyExists when the file is there. */
export function bindNetns(dir: string, id: string, source: string): Promise<string> {
  return mountNetnsFile(dir, id, `binding network namespace ${source} on`, (file) => runOk('mount', ['--bind', source, file]));
}

/**
 * Makes the file `<dir>/<id>` (exclusively: a second caller gets
 * AlreadyExists) and has `mount` put a namespace on it; when that fails the
 * file goes again, so nothing is left half-made.
 */
async function mountNetnsFile(dir: string, id: string, doing: string, mount: (file: string) => Promise<unknown>): Promise<string> {
  const file = netnsPath(dir, id);
  try {
    await (await fs.promises.open(file, 'wx', 0o444)).close();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(`network namespace ${file} already exists`);
    throw e;
  }
  try {
    await mount(file);
  } catch (e) {
    await removeNetns(file).catch(() => undefined);
    throw internal(`${doing} ${file}: ${(e as Error).message}`, e);
  }
  return file;
}

/** Unmounts and unlinks a namespace file; a no-op for one that is gone (idempotent). */
export async function removeNetns(file: string): Promise<void> {
  const dir = await fs.promises.realpath(path.dirname(file)).catch(() => path.dirname(file));
  const real = path.join(dir, path.basename(file));
  if ((await mountPoints()).has(real)) {
    const r = await run('umount', [real]);
    // Busy should not happen (nothing opens the file), but a lazy unmount
    // still frees the name so the container can be removed.
    if (r.code !== 0) await runOk('umount', ['--lazy', real]);
  }
  await fs.promises.rm(file, { force: true });
}

/** Every namespace file in `dir`, mounted or stale. */
export async function listNetns(dir: string): Promise<NetnsEntry[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const points = await mountPoints();
  const real = await fs.promises.realpath(dir);
  return names
    .filter((n) => ID.test(n))
    .sort()
    .map((id) => ({ id, path: path.join(dir, id), mounted: points.has(path.join(real, id)) }));
}
