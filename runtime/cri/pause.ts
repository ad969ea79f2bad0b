/**
 * The pod's infra ("pause") root filesystem, made by gantryd itself so a pod
 * starts with no registry reachable: a committed snapshot holding only a
 * static `catatonit` (Debian's package, scripts/install-system-deps.sh),
 * which sits as PID 1 holding the pod's namespaces and reaps zombies. With
 * `--sandbox-image` the named image is used instead, as containerd's
 * `sandbox_image` (pulled when missing). docs/cri.md, "Pod sandboxes".
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import type { ContainerBase } from '../containers/service';
import { failedPrecondition, isNotFound } from '../errdefs/errdefs';
import { mount, unmount } from '../mount/mounter';
import type { Snapshotter } from '../snapshots/snapshots';
import { KeyedMutex } from '../util/keyedMutex';

/** Where Debian's catatonit package puts its static binary. */
export const DEFAULT_PAUSE_BINARY = '/usr/bin/catatonit';

/** Inside the pause rootfs; `-P`: pause mode, no child to run. */
const PAUSE_PATH = '/catatonit';
export const PAUSE_ARGS: readonly string[] = [PAUSE_PATH, '-P'];

/** The active snapshot being filled: transient (the snapshotter's start-up cleanup removes one a crash left). */
export const PAUSE_BUILD_PREFIX = 'cri-pause-build-';

export interface PauseRootfsDeps {
  readonly snapshotter: Pick<Snapshotter, 'stat' | 'prepare' | 'commit' | 'remove'>;
  /** The static binary to copy in. */
  readonly binary: string;
  /** A directory for the temporary mount while the snapshot is filled. */
  readonly scratch: string;
}

export class PauseRootfs {
  private readonly lock = new KeyedMutex();
  /** The snapshot of the current binary, once known: kept from collection (snapshotRoots). */
  private current: string | undefined;
  /** The binary's digest and the file identity it was read from: base() reads and hashes it again only when the file changed. */
  private known: { identity: string; digest: string } | undefined;

  constructor(private readonly deps: PauseRootfsDeps) {}

  /**
   * Pinned, as containerd pins its sandbox image: no image names this
   * snapshot, so without this root every prune would collect it between
   * pods — and a collection running between base() and the sandbox's own
   * snapshot being prepared on it would fail RunPodSandbox. For the
   * collector's snapshot roots (runtime/gc/gc.ts).
   */
  snapshotRoots(): string[] {
    return this.current ? [this.current] : [];
  }

  /**
   * Learns the snapshot's name (the binary's digest) without making it, so
   * the pin holds from start-up, before any collection can run. A missing
   * binary is reported by base(), when a pod needs it.
   */
  async prime(): Promise<void> {
    try {
      this.current = snapshotName(
        createHash('sha256')
          .update(await fs.promises.readFile(this.deps.binary))
          .digest('hex'),
      );
    } catch {
      // base() names the fix.
    }
  }

  /**
   * The committed snapshot (made once per binary content, again if it was
   * collected) and the runtime config to run it with.
   */
  base(ctx: Ctx): Promise<ContainerBase> {
    return this.lock.run('pause', async () => {
      const missing = (e: unknown) =>
        failedPrecondition(
          `the pod infra binary ${this.deps.binary} is missing (${(e as Error).message}): install catatonit (apt install catatonit) or set --sandbox-image`,
        );
      // Every RunPodSandbox comes here: a stat instead of reading and hashing the binary (~0.7 MB) each time. An upgraded
      // package replaces the file (another inode, size or times), and that is read again. docs/performance.md.
      let identity: string;
      try {
        identity = fileIdentity(await fs.promises.stat(this.deps.binary, { bigint: true }));
      } catch (e) {
        throw missing(e);
      }
      let binary: Buffer | undefined;
      if (this.known?.identity !== identity) {
        try {
          binary = await fs.promises.readFile(this.deps.binary);
        } catch (e) {
          throw missing(e);
        }
        this.known = { identity, digest: createHash('sha256').update(binary).digest('hex') };
      }
      const digest = this.known.digest;
      const name = snapshotName(digest);
      // Pinned before it is looked at or made: see snapshotRoots().
      this.current = name;
      const { snapshotter } = this.deps;
      try {
        await snapshotter.stat(ctx, name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        // Made again (it was removed): the file is the one hashed, its identity says so.
        binary ??= await fs.promises.readFile(this.deps.binary).catch((err: unknown) => {
          throw missing(err);
        });
        await this.make(ctx, name, binary);
      }
      return {
        name: 'gantry/pause (catatonit)',
        id: `sha256:${digest}`,
        chainId: name,
        config: { Entrypoint: [...PAUSE_ARGS], Env: [], WorkingDir: '/' },
      };
    });
  }

  private async make(ctx: Ctx, name: string, binary: Buffer): Promise<void> {
    const { snapshotter } = this.deps;
    const key = `${PAUSE_BUILD_PREFIX}${randomBytes(8).toString('hex')}`;
    const target = path.join(this.deps.scratch, key);
    const mounts = await snapshotter.prepare(ctx, key, '');
    try {
      await fs.promises.mkdir(target, { recursive: true, mode: 0o700 });
      await mount(mounts, target);
      try {
        await fs.promises.writeFile(path.join(target, PAUSE_PATH), binary, { mode: 0o755 });
        for (const dir of ['dev', 'proc', 'sys', 'etc']) await fs.promises.mkdir(path.join(target, dir), { mode: 0o755 });
      } finally {
        await unmount(target);
        await fs.promises.rm(target, { recursive: true, force: true });
      }
      await snapshotter.commit(ctx, name, key);
    } catch (e) {
      await snapshotter.remove(ctx, key).catch(() => undefined);
      throw e;
    }
  }
}

/** One snapshot per binary content (`digest`, its sha256): an upgraded catatonit gets a new one. */
function snapshotName(digest: string): string {
  return `cri-pause-${digest.slice(0, 24)}`;
}

/** What changes when the file is replaced or rewritten: device, inode, size, modification and change times (ns). */
function fileIdentity(st: fs.BigIntStats): string {
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
}
