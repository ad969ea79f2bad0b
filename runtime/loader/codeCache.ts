/**
 * Runs one of the runtime's bundles (runtime/loader/bundles.ts) through V8
 * with a code cache, so a CLI call does not parse and compile a megabyte of
 * JavaScript each time — most of a short command's start-up otherwise
 * (docs/performance.md, "CLI start-up").
 *
 * The cache is per user, `$XDG_CACHE_HOME/gantry/` (else `~/.cache/gantry/`),
 * one file per bundle file, place and Node version; it is written once, after
 * the first run that found none, with the functions that run compiled. It
 * holds code that will be executed, so it is read only from a directory and a
 * file that belong to the user and that nobody else may write; anything
 * else, and any failure, just runs without it. GANTRY_CODE_CACHE=0 turns it
 * off.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** The loader's own `module` and `require` (esbuild keeps them as they are: the file's). */
declare const module: NodeJS.Module;
declare const require: NodeJS.Require;

function cacheDir(): string | undefined {
  if (process.env.GANTRY_CODE_CACHE === '0') return undefined;
  const home = os.homedir();
  const base = process.env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : '');
  return base ? path.join(base, 'gantry') : undefined;
}

/** Ours and writable by nobody else, or not to be trusted. */
function trusted(st: fs.Stats): boolean {
  return st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

function readCache(file: string): Buffer | undefined {
  try {
    if (!trusted(fs.lstatSync(path.dirname(file)))) return undefined;
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      return trusted(fs.fstatSync(fd)) ? fs.readFileSync(fd) : undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** The caches earlier builds of the same bundle at the same place left (an update replaces the bundle, never the cache). */
function removeStale(file: string, prefix: string, place: string): void {
  const dir = path.dirname(file);
  // Builds of one file (the whole runtime inside gantry.js) named theirs `cli-<hash>-<place of gantry.js>-…`.
  const onefilePlace = placeOf(__filename);
  for (const name of fs.readdirSync(dir)) {
    const stale = name.startsWith(prefix) ? name.includes(`-${place}-`) : name.startsWith('cli-') && name.includes(`-${onefilePlace}-`);
    if (name !== path.basename(file) && stale) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** A short hash of a file's path, for the cache names of one copy of the runtime. */
function placeOf(file: string): string {
  return createHash('sha256').update(file).digest('hex').slice(0, 8);
}

function writeCache(file: string, data: Buffer, prefix: string, place: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (!trusted(fs.lstatSync(path.dirname(file)))) return;
    // Beside it, then renamed: a concurrent reader sees the old or the new file.
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
    fs.renameSync(temp, file);
    removeStale(file, prefix, place);
  } catch {
    // A read-only home or a full disk only costs the next start-up its speed.
  }
}

/**
 * The cache file for the bundle `st` describes. V8 checks little more than
 * the source's length before it trusts a cache, so the key is the file
 * itself as it is now (device, inode, size, modification time): a rebuilt
 * or replaced bundle gets a new key. The place (its path) is in the name
 * too, because V8 keeps the file name of the run that made the cache in the
 * code it caches, and stack traces should name this copy's file.
 */
function cacheFile(dir: string, prefix: string, bundlePath: string, st: fs.BigIntStats): { file: string; place: string } {
  const place = placeOf(bundlePath);
  const build = createHash('sha256').update(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`).digest('hex').slice(0, 16);
  return { file: path.join(dir, `${prefix}${build}-${place}-${process.version}-${process.arch}.v8cache`), place };
}

/**
 * Runs `dist/<name>` as if it were this file: it gets the loader's module,
 * require, __filename and __dirname, so process.argv[1], native addons and
 * the deploy's bundle dir are the same as for one file.
 */
export function runBundle(name: string): void {
  const bundlePath = path.join(__dirname, name);
  let fd: number;
  try {
    fd = fs.openSync(bundlePath, 'r');
  } catch (e) {
    // A copy of gantry.js alone (an old install script, a partial upload): say what is missing, not a stack trace.
    process.stderr.write(
      `gantry: cannot read ${bundlePath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): gantry.js runs the bundles beside it; copy dist/ whole\n`,
    );
    process.exit(1);
  }
  let source: string;
  let st: fs.BigIntStats;
  try {
    st = fs.fstatSync(fd, { bigint: true });
    source = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  const prefix = `${name.replace(/\.js$/, '')}-`;
  const dir = cacheDir();
  const cache = dir ? cacheFile(dir, prefix, bundlePath, st) : undefined;
  const cachedData = cache ? readCache(cache.file) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundlePath,
    cachedData,
  });
  if (cache && (!cachedData || script.cachedDataRejected)) {
    // At exit, so the functions this run compiled are in it.
    process.once('exit', () => writeCache(cache.file, script.createCachedData(), prefix, cache.place));
  }
  const bundle = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: NodeJS.Module, f: string, d: string) => void;
  bundle.call(module.exports, module.exports, require, module, __filename, __dirname);
}
