// Helpers for the layer-applier tests: full listings of a tree (to compare
// whole trees, not spot checks), overlay mounts, OCI layouts built with umoci,
// and applying a layout's layers with the applier under test.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { TarApplier } from '../../runtime/unpack/applier';
import type { Mount } from '../../runtime/mount/mount';
import { runCommand } from './proc';
import type { Cleanup } from './tmp';

export const ctx = { signal: new AbortController().signal };

// ---- listings ----

export interface ListOptions {
  /** Leave out directory mtimes (they depend on the order children were written). */
  dirMtimes?: boolean;
  /** Leave out the root directory's own line. */
  root?: boolean;
  /**
   * Directory mtimes at or after this time (ms) print as "recent": they were
   * set by the clock while applying, not by a layer, and differ between two
   * tools by the time between their runs.
   */
  recentAfter?: number;
}

/**
 * One line per path below `root`: type, mode, owner, size, content digest,
 * link target, device numbers, mtime, xattrs (except security.selinux) and,
 * for hardlinked files, the other names of the inode. Never follows symlinks.
 */
export async function listTree(root: string, opts: ListOptions = {}): Promise<string[]> {
  const xattrs = await readXattrs(root);
  const lines: string[] = [];
  const inodes = new Map<string, string[]>();
  const stats: [string, fs.Stats][] = [];
  const walk = (rel: string) => {
    const abs = rel === '' ? root : path.join(root, rel);
    const st = fs.lstatSync(abs);
    stats.push([rel, st]);
    if (!st.isDirectory() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      inodes.set(key, [...(inodes.get(key) ?? []), rel]);
    }
    if (st.isDirectory()) for (const name of fs.readdirSync(abs).sort()) walk(rel === '' ? name : `${rel}/${name}`);
  };
  walk('');
  for (const [rel, st] of stats) {
    if (rel === '' && opts.root === false) continue;
    const abs = rel === '' ? root : path.join(root, rel);
    const parts = [`/${rel}`, typeOf(st), (st.mode & 0o7777).toString(8).padStart(4, '0'), `${st.uid}:${st.gid}`];
    if (st.isFile())
      parts.push(`size=${st.size}`, `sha256=${createHash('sha256').update(fs.readFileSync(abs)).digest('hex').slice(0, 16)}`);
    if (st.isSymbolicLink()) parts.push(`-> ${fs.readlinkSync(abs)}`);
    if (st.isCharacterDevice() || st.isBlockDevice()) parts.push(`dev=${Math.floor(st.rdev / 256)},${st.rdev % 256}`);
    if (st.isDirectory() && opts.recentAfter !== undefined && st.mtimeMs >= opts.recentAfter) parts.push('mtime=recent');
    else if (!st.isDirectory() || opts.dirMtimes !== false) parts.push(`mtime=${Math.floor(st.mtimeMs / 1000)}`);
    const x = xattrs.get(abs);
    if (x) parts.push(`xattrs={${x.join(',')}}`);
    if (!st.isDirectory() && st.nlink > 1) {
      // (In an overlay's merged view nlink also counts names hidden by whiteouts: list only visible ones.)
      const others = inodes.get(`${st.dev}:${st.ino}`)!.filter((p) => p !== rel);
      if (others.length > 0) parts.push(`links=[${others.join(',')}]`);
    }
    lines.push(parts.join(' '));
  }
  return lines;
}

function typeOf(st: fs.Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

async function readXattrs(root: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let text: string;
  try {
    text = (await runCommand('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', root])).stdout;
  } catch (e) {
    // getfattr exits 1 when some files have no xattrs support; keep what it printed.
    text = String((e as Error).message);
  }
  let file: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      file = unescapeOctal(line.slice(8));
      continue;
    }
    const eq = line.indexOf('=');
    if (!file || eq < 0) continue;
    const name = line.slice(0, eq);
    if (name === 'security.selinux') continue;
    out.set(file, [...(out.get(file) ?? []), `${name}=${line.slice(eq + 1)}`].sort());
  }
  return out;
}

function unescapeOctal(s: string): string {
  return Buffer.from(
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
    'latin1',
  ).toString('utf8');
}

/** A readable diff of two listings ('' when equal). */
export function diffListings(a: readonly string[], b: readonly string[], names = ['a', 'b']): string {
  const key = (l: string) => l.slice(0, l.indexOf(' '));
  const am = new Map(a.map((l) => [key(l), l]));
  const bm = new Map(b.map((l) => [key(l), l]));
  const out: string[] = [];
  for (const k of [...new Set([...am.keys(), ...bm.keys()])].sort()) {
    const x = am.get(k);
    const y = bm.get(k);
    if (x === y) continue;
    out.push(`${names[0]}: ${x ?? '(missing)'}\n${names[1]}: ${y ?? '(missing)'}`);
  }
  return out.join('\n');
}

/** A digest of a whole tree's listing: for "nothing outside the target changed". */
export async function treeDigest(root: string): Promise<string> {
  return createHash('sha256')
    .update((await listTree(root)).join('\n'))
    .digest('hex');
}

// ---- mounts ----

export function bindMount(dir: string): Mount[] {
  return [{ type: 'bind', source: dir, options: ['rbind', 'rw'] }];
}

/** The mount an overlay snapshotter would return for an active snapshot over `lowers` (top first). */
export function overlayMount(upper: string, work: string, lowers: readonly string[]): Mount[] {
  const options = ['index=off', `upperdir=${upper}`, `workdir=${work}`];
  if (lowers.length > 0) options.push(`lowerdir=${lowers.join(':')}`);
  return [{ type: 'overlay', source: 'overlay', options }];
}

/** Mounts a read-only overlay of `lowers` (top first; at least two) at `target`. */
export async function mountLowers(lowers: readonly string[], target: string): Promise<void> {
  await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', `ro,index=off,lowerdir=${lowers.join(':')}`, target]);
}

/** Mounts a writable overlay at `target`. */
export async function mountOverlay(upper: string, work: string, lowers: readonly string[], target: string): Promise<void> {
  await runCommand('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `index=off,lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`,
    target,
  ]);
}

export async function umount(target: string): Promise<void> {
  await runCommand('umount', [target]);
}

// ---- OCI layouts ----

export interface LayoutLayer {
  /** Path of the blob in the layout. */
  blob: string;
  mediaType: string;
  diffId: string;
}

/** The layers of `layout:tag`, bottom first, with their DiffIDs from the config. */
export function readLayout(layout: string, tag: string): LayoutLayer[] {
  const blob = (digest: string) => path.join(layout, 'blobs', ...digest.split(':'));
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!desc) throw new Error(`no tag ${tag} in ${layout}`);
  const manifest = JSON.parse(fs.readFileSync(blob(desc.digest), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string; mediaType: string }[];
  };
  const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
  return manifest.layers.map((l, i) => ({ blob: blob(l.digest), mediaType: l.mediaType, diffId: config.rootfs.diff_ids[i] }));
}

/** Applies every layer into one plain directory, in order (the native snapshotter's way). */
export async function applyNative(layers: readonly LayoutLayer[], dir: string, applier = new TarApplier()): Promise<void> {
  for (const l of layers) {
    await applier.apply(ctx, bindMount(dir), fs.createReadStream(l.blob), { mediaType: l.mediaType, diffId: l.diffId });
  }
}

/**
 * Applies each layer into its own upperdir with the previous ones as
 * lowerdirs (the overlay snapshotter's way); returns the layer dirs, top first.
 */
export async function applyOverlay(layers: readonly LayoutLayer[], base: string, applier = new TarApplier()): Promise<string[]> {
  const dirs: string[] = [];
  for (const [i, l] of layers.entries()) {
    const upper = path.join(base, `${i}`, 'fs');
    const work = path.join(base, `${i}`, 'work');
    fs.mkdirSync(upper, { recursive: true });
    fs.mkdirSync(work, { recursive: true });
    await applier.apply(ctx, overlayMount(upper, work, [...dirs].reverse()), fs.createReadStream(l.blob), {
      mediaType: l.mediaType,
      diffId: l.diffId,
    });
    dirs.push(upper);
  }
  return dirs.reverse();
}

export function readableOf(data: Buffer, chunk = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
  return Readable.from(parts);
}

// ---- fixture images built with umoci ----

/** Runs `sh -c script` in `cwd` (fixture building only; the script is the test's own). */
async function sh(script: string, cwd: string): Promise<void> {
  await runCommand('sh', ['-euc', script], { cwd });
}

/**
 * An image built the way users build them — by changing a real root
 * filesystem and letting umoci compute each layer (its own whiteouts,
 * hardlink and xattr encoding). Three layers: a base with every kind of
 * entry, then deletions, replacements and metadata changes, then
 * re-creations. Returns the layout path and tag.
 */
export async function buildUmociImage(dir: string): Promise<{ layout: string; tag: string }> {
  const layout = path.join(dir, 'oci');
  const bundle = path.join(dir, 'bundle');
  const tag = 'umoci-made';
  await runCommand('umoci', ['init', '--layout', layout]);
  await runCommand('umoci', ['new', '--image', `${layout}:${tag}`]);
  await runCommand('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  const rootfs = path.join(bundle, 'rootfs');
  const repack = () => runCommand('umoci', ['repack', '--refresh-bundle', '--image', `${layout}:${tag}`, bundle]);
  await sh(
    `
    mkdir -p bin etc usr/bin usr/lib home/user tmp var/tmp dev opt/doomed/sub srv/www lib64 data
    cp /bin/busybox bin/busybox
    ln -s busybox bin/sh; ln -s /bin/busybox bin/ls; ln -s /no/such/file dangling; ln -s usr/lib lib
    printf 'root:x:0:0::/root:/bin/sh\\nuser:x:1000:1000::/home/user:/bin/sh\\n' > etc/passwd
    printf 'root:*::0:::::\\n' > etc/shadow; chgrp 42 etc/shadow; chmod 0640 etc/shadow
    printf 'hello\\n' > etc/motd
    printf 'sudo' > usr/bin/sudo; chmod 4755 usr/bin/sudo
    printf 'wall' > usr/bin/wall; chgrp 5 usr/bin/wall; chmod 2755 usr/bin/wall
    printf 'ping' > usr/bin/ping; chmod 0755 usr/bin/ping
    setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 usr/bin/ping
    setfattr -n user.comment -v 'a user xattr' etc/motd
    setfattr -n user.dir -v 'on a directory' srv
    setfattr -n trusted.fixture -v 0x00ff10 usr/bin/sudo
    printf 'libc' > usr/lib/libc.so.6
    printf 'same inode' > usr/bin/one; ln usr/bin/one usr/bin/two; ln usr/bin/one etc/three
    chmod 1777 tmp var/tmp
    chown -R 1000:1000 home/user; chmod 0700 home/user
    printf 'mine' > home/user/notes; chown 1000:1000 home/user/notes; chmod 0600 home/user/notes
    mknod dev/null c 1 3; chmod 0666 dev/null; mknod dev/sda b 8 0; mkfifo dev/initctl
    for i in $(seq 1 40); do mkdir -p data/d$((i % 7)); head -c $((i * 97)) /bin/busybox > data/d$((i % 7))/f$i; done
    printf 'x' > opt/doomed/a; printf 'y' > opt/doomed/sub/b
    printf 'index' > srv/www/index.html
    touch -h -d @1600000000 bin/sh dangling; touch -d @1600000001 etc/motd usr/bin/one
    `,
    rootfs,
  );
  await repack();
  await sh(
    `
    rm etc/shadow
    rm -r opt/doomed
    chmod 0600 etc/motd; chown 7:8 usr/lib/libc.so.6
    rm etc/motd; mkdir etc/motd; printf 'now a dir' > etc/motd/README
    rm -r srv; printf 'srv is a file now' > srv
    ln usr/bin/sudo usr/bin/sudo-again
    rm bin/ls; ln -s busybox bin/ls
    printf 'rewritten' > usr/bin/two.new; mv usr/bin/two.new usr/bin/two
    rm -r data/d3
    printf 'more' > data/d1/more
    setfattr -x user.dir home 2>/dev/null || true
    setfattr -n user.added -v later data/d2
    `,
    rootfs,
  );
  await repack();
  await sh(
    `
    mkdir -p opt/doomed; printf 'back' > opt/doomed/again
    rm -r data/d1; mkdir data/d1; printf 'fresh' > data/d1/only
    rm dangling; printf 'no longer a symlink' > dangling
    chmod 0755 home/user
    `,
    rootfs,
  );
  await repack();
  return { layout, tag };
}

/**
 * Hand-made layers appended with `umoci raw add-layer` on top of a base:
 * opaque markers anywhere in their directory, whiteouts followed by
 * re-creations, entries without their parents, hardlink chains.
 */
export async function addRawLayers(layout: string, fromTag: string, tag: string, layers: readonly Buffer[], dir: string): Promise<void> {
  await runCommand('umoci', ['tag', '--image', `${layout}:${fromTag}`, tag]);
  for (const [i, tar] of layers.entries()) {
    const file = path.join(dir, `raw-${i}.tar`);
    fs.writeFileSync(file, tar);
    await runCommand('umoci', ['raw', 'add-layer', '--image', `${layout}:${tag}`, file]);
  }
}

/** `umoci unpack` of `layout:tag` into `bundle`; returns the rootfs. */
export async function umociUnpack(layout: string, tag: string, bundle: string): Promise<string> {
  await runCommand('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  return path.join(bundle, 'rootfs');
}

// ---- small filesystems ----

/**
 * Mounts a fresh tmpfs of `size` (e.g. "64m") at `dir` — a filesystem a test
 * may fill, never the machine's disk — optionally with few inodes. `cleanup`
 * unmounts it (lazily when something still holds it).
 */
export async function mountTmpfs(dir: string, size: string, cleanup: Cleanup, inodes?: number): Promise<void> {
  const options = [`size=${size}`, 'mode=0755', ...(inodes ? [`nr_inodes=${inodes}`] : [])].join(',');
  await runCommand('mount', ['-t', 'tmpfs', '-o', options, 'gantry-test', dir]);
  cleanup.defer(() => runCommand('umount', [dir]).catch(() => runCommand('umount', ['-l', dir])));
}
