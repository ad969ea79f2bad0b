/**
 * Where a container's files are, for the files service (runtime/files/):
 *
 * - running or paused: `/proc/<pid>/root` of its init process — the
 *   container's own view, its volumes and bind mounts included, reached
 *   through the kernel's link to its root (docs/files.md);
 * - created, exited: its snapshot mounted at the bundle's rootfs, as a start
 *   would mount it. Calls on the same container share the mount (counted);
 *   the last one unmounts it again if it mounted it and no task has started
 *   on it meanwhile, so the container is left as it was found.
 *
 * New files belong to the container's user (`--user`, else the image's),
 * looked up only when a call writes.
 */
import type { Ctx } from '../context';
import type { Container } from '../containers/containers';
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import type { FileRoot, FileRoots, FileTarget } from '../files/containerFiles';
import { isMountPoint } from '../mount/mounter';
import { userSpecOf } from '../oci/specgen/build';
import type { IdMap } from '../oci/specgen/privileges';
import { resolveUser } from '../oci/specgen/user';
import type { Logger } from '../util/log';

export interface ContainerRootsDeps {
  resolve(ref: string): Container;
  get(id: string): Container | undefined;
  mountRootfs(ctx: Ctx, container: Container): Promise<string>;
  unmountRootfs(id: string): Promise<void>;
  rootfsOf(id: string): string;
  readonly idMap?: IdMap;
  readonly log: Logger;
}

const LIVE = new Set(['running', 'paused']);
const MOUNTABLE = new Set(['created', 'exited']);

export class ContainerRoots implements FileRoots {
  /** Stopped containers mounted for file calls: users counted, and whether we made the mount. */
  private readonly mounts = new Map<string, { users: number; ours: boolean; ready: Promise<void> }>();

  constructor(private readonly deps: ContainerRootsDeps) {}

  async rootOf(ctx: Ctx, target: FileTarget): Promise<FileRoot> {
    if (!target.container) throw invalidArgument('no container named');
    const c = this.deps.resolve(target.container);
    const description = `container ${c.name || c.id.slice(0, 12)}`;
    if (LIVE.has(c.state.status) && c.state.pid > 0) {
      const path = `/proc/${c.state.pid}/root`;
      return { path, description, owner: () => this.ownerOf(c, path), release: async () => undefined };
    }
    if (!MOUNTABLE.has(c.state.status)) {
      throw failedPrecondition(`the files of ${description} cannot be reached while it is ${c.state.status}`);
    }
    await this.acquire(ctx, c);
    const path = this.deps.rootfsOf(c.id);
    return { path, description, owner: () => this.ownerOf(c, path), mountedForCall: true, release: () => this.release(c.id) };
  }

  private async acquire(ctx: Ctx, c: Container): Promise<void> {
    let entry = this.mounts.get(c.id);
    if (!entry) {
      const made = { users: 0, ours: false, ready: Promise.resolve() };
      made.ready = (async () => {
        made.ours = !(await isMountPoint(this.deps.rootfsOf(c.id)).catch(() => false));
        if (made.ours) await this.deps.mountRootfs(ctx, c);
      })();
      entry = made;
      this.mounts.set(c.id, entry);
    }
    entry.users++;
    try {
      await entry.ready;
    } catch (e) {
      await this.release(c.id);
      throw e;
    }
  }

  private async release(id: string): Promise<void> {
    const entry = this.mounts.get(id);
    if (!entry || --entry.users > 0) return;
    this.mounts.delete(id);
    const now = this.deps.get(id);
    // A task started meanwhile uses the mount: its teardown unmounts it.
    if (!entry.ours || !now || LIVE.has(now.state.status) || now.state.status === 'restarting') return;
    await this.deps
      .unmountRootfs(id)
      .catch((e: unknown) => this.deps.log.warn('files: unmounting a stopped container failed', { id, error: e }));
  }

  /** The container's user as numbers on the host (shifted under --userns-remap). */
  private async ownerOf(c: Container, root: string): Promise<{ uid: number; gid: number }> {
    const user = await resolveUser(root, userSpecOf(c.config, c.imageConfig)).catch(() => ({ uid: 0, gid: 0 }));
    const map = this.deps.idMap;
    return map ? { uid: map.uid + user.uid, gid: map.gid + user.gid } : { uid: user.uid, gid: user.gid };
  }
}
