/**
 * Extended attributes of a whole tree in one `getfattr -R` run (Node has no
 * getxattr): what the change walker needs to see opaque directories in an
 * overlay upper dir, and what layer and export tars carry per entry.
 */
import { runTool, ToolMissingError } from '../mount/mounter';

/** Relative path ('' for the root) → attribute name → value. */
export type XattrMap = Map<string, Map<string, Buffer>>;

/** Attributes overlayfs keeps for itself: never part of a layer. */
export function isOverlayPrivate(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

/**
 * Every attribute under `dir` (links' own, never through them). An empty map
 * when getfattr is missing: the tree then reads as having none, and
 * `onMissing` says so once.
 */
export async function dumpXattrs(dir: string, signal?: AbortSignal, onMissing?: () => void): Promise<XattrMap> {
  let out: Buffer;
  try {
    out = (await runTool('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '.'], { cwd: dir, signal })).stdout;
  } catch (e) {
    if (e instanceof ToolMissingError) {
      onMissing?.();
      return new Map();
    }
    throw e;
  }
  return parseXattrDump(out.toString('latin1'));
}

/** Parses `getfattr -d -e hex` output (names octal-escaped, as getfattr writes them). */
export function parseXattrDump(text: string): XattrMap {
  const map: XattrMap = new Map();
  let current: Map<string, Buffer> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      let rel = unescapeName(line.slice('# file: '.length));
      if (rel === '.') rel = '';
      else if (rel.startsWith('./')) rel = rel.slice(2);
      current = new Map();
      map.set(rel, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq <= 0) continue;
    const value = line.slice(eq + 1);
    current.set(line.slice(0, eq), value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, '')));
  }
  return map;
}

/** getfattr writes bytes outside printable ASCII, and backslash, as \ooo; the result is the name's UTF-8. */
function unescapeName(escaped: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    if (escaped[i] === '\\' && /^[0-7]{3}$/.test(escaped.slice(i + 1, i + 4))) {
      bytes.push(parseInt(escaped.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(escaped.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes).toString('utf8');
}
