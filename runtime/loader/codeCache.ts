/**
 * The first lines of dist/gantry.js: runs the bundle (embedded as a string
 * by esbuild.js) through V8 with a code cache, so a CLI call does not parse
 * and compile 3 MB of JavaScript each time — most of a short command's
 * start-up otherwise (docs/performance.md).
 *
 * The cache is per user, `$XDG_CACHE_HOME/gantry/` (else `~/.cache/gantry/`),
 * one file per bundle hash and Node version; it is written once, after the
 * first run that found none, with the functions that run compiled. It holds
 * code that will be executed, so it is read only from a directory and a file
 * that belong to the user and that nobody else may write; anything else, and
 * any failure, just runs without it. GANTRY_CODE_CACHE=0 turns it off.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

declare const GANTRY_BUNDLE: { readonly hash: string; readonly source: string };
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

/** The caches earlier builds at the same place left (an update replaces the bundle, never the cache). */
function removeStale(file: string, place: string): void {
  const dir = path.dirname(file);
  for (const name of fs.readdirSync(dir)) {
    if (name !== path.basename(file) && name.startsWith('cli-') && name.includes(`-${place}-`))
      fs.rmSync(path.join(dir, name), { force: true });
  }
}

function writeCache(file: string, data: Buffer, place: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (!trusted(fs.lstatSync(path.dirname(file)))) return;
    // Beside it, then renamed: a concurrent reader sees the old or the new file.
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
    fs.renameSync(temp, file);
    removeStale(file, place);
  } catch {
    // A read-only home or a full disk only costs the next start-up its speed.
  }
}

function run(): void {
  const dir = cacheDir();
  // Per place too: V8 keeps the file name of the run that made the cache in
  // the code it caches, and stack traces should name this copy's file.
  const place = createHash('sha256').update(__filename).digest('hex').slice(0, 8);
  const file = dir && path.join(dir, `cli-${GANTRY_BUNDLE.hash}-${place}-${process.version}-${process.arch}.v8cache`);
  const cachedData = file ? readCache(file) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${GANTRY_BUNDLE.source}\n})`, {
    filename: __filename,
    cachedData,
  });
  if (file && (!cachedData || script.cachedDataRejected)) {
    // At exit, so the functions this run compiled are in it.
    process.once('exit', () => writeCache(file, script.createCachedData(), place));
  }
  const bundle = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: NodeJS.Module, f: string, d: string) => void;
  bundle.call(module.exports, module.exports, require, module, __filename, __dirname);
}

run();
