/**
 * Special files of a layer — device nodes, fifos, overlay whiteouts (char
 * 0/0) and hardlinks to any of them — created together at the end of the
 * layer by one `tar -x` (Node has no mknod/mkfifo; one process per layer
 * instead of one per node). The applier has already checked every path
 * (parents are real directories, nothing is in the way), so tar gets plain
 * relative names it cannot misread.
 */
import { once } from 'node:events';
import * as tar from 'tar-stream';
import { runWithInput } from './xattrs';
import { invalidArgument } from '../errdefs/errdefs';

export type NodeKind = 'character-device' | 'block-device' | 'fifo';

export type NodeSpec =
  | {
      readonly kind: NodeKind;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
      readonly mtime: Date;
      readonly major: number;
      readonly minor: number;
    }
  | { readonly kind: 'link'; readonly target: string };

/** Pending nodes by relative path, in the order the layer created them. */
/** How many nodes one layer may queue (see NodeBatch.set). */
export const NODE_LAYER_MAX = 262_144;

export class NodeBatch {
  private readonly nodes = new Map<string, NodeSpec>();

  get size(): number {
    return this.nodes.size;
  }

  has(rel: string): boolean {
    return this.nodes.has(rel);
  }

  get(rel: string): NodeSpec | undefined {
    return this.nodes.get(rel);
  }

  set(rel: string, spec: NodeSpec): void {
    // Nodes wait in memory for the end of the layer: a layer of millions of
    // fifos must not make gantryd hold them all. Real images have a handful.
    if (this.nodes.size >= NODE_LAYER_MAX && !this.nodes.has(rel)) {
      throw invalidArgument(
        `layer entry ${JSON.stringify(rel)}: more than ${NODE_LAYER_MAX} device nodes, fifos, whiteouts and links to them in one layer; refusing the layer`,
      );
    }
    this.nodes.delete(rel); // re-insert: a replacement is created in its new place in the order
    this.nodes.set(rel, spec);
  }

  /**
   * Drop `rel` and, when `subtree`, everything below it. A hardlink to a
   * dropped node keeps the inode alive, so the first such link becomes the
   * node and later links point at it.
   */
  drop(rel: string, subtree: boolean): void {
    // Links always name a node of the batch, so nothing links to a path that is not in it.
    if (!subtree && !this.nodes.has(rel)) return;
    const prefix = rel === '' ? '' : rel + '/';
    const gone = (p: string) => p === rel || (subtree && p.startsWith(prefix));
    const removed = new Map<string, NodeSpec>();
    for (const [p, spec] of this.nodes) {
      if (gone(p)) removed.set(p, spec);
    }
    if (removed.size === 0) return;
    for (const p of removed.keys()) this.nodes.delete(p);
    const movedTo = new Map<string, string>();
    for (const [p, spec] of this.nodes) {
      if (spec.kind !== 'link') continue;
      const holder = movedTo.get(spec.target);
      if (holder !== undefined) {
        this.nodes.set(p, { kind: 'link', target: holder });
        continue;
      }
      const original = removed.get(spec.target);
      if (original) {
        this.nodes.set(p, original);
        movedTo.set(spec.target, p);
      }
    }
  }

  /** A tar stream holding the nodes (ownership, mode, mtime included). */
  async archive(): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    const ended = once(pack, 'end');
    for (const [name, spec] of this.nodes) {
      if (spec.kind === 'link') {
        pack.entry({ name, type: 'link', linkname: spec.target, size: 0 });
      } else {
        pack.entry({
          name,
          type: spec.kind,
          mode: spec.mode,
          uid: spec.uid,
          gid: spec.gid,
          mtime: spec.mtime,
          devmajor: spec.major,
          devminor: spec.minor,
          size: 0,
        });
      }
    }
    pack.finalize();
    await ended;
    return Buffer.concat(chunks);
  }

  /**
   * Creates every pending node under `root` with GNU tar (as root keeping
   * the numeric owners and exact modes; rootless keeping neither owner nor
   * set-id bits, as an unprivileged tar would).
   */
  async commit(root: string, rootless: boolean, signal: AbortSignal, tarCmd = 'tar'): Promise<void> {
    if (this.nodes.size === 0) return;
    const owner = rootless ? ['--no-same-owner'] : ['--same-owner', '--numeric-owner'];
    const args = ['-x', '-f', '-', '-C', root, '--same-permissions', ...owner, '--no-overwrite-dir'];
    await runWithInput(tarCmd, args, await this.archive(), signal, 'create device nodes, fifos and whiteouts', {
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
    this.nodes.clear();
  }
}
