// dist/gantry.js's loader (runtime/loader/): it runs the CLI's or the
// daemon's bundle, each with its own V8 code cache. The first run
// writes a V8 code cache under $XDG_CACHE_HOME/gantry, the next ones read
// it (and leave it as it is); a cache somebody else could have written is
// never read, a corrupt one is replaced, GANTRY_CODE_CACHE=0 writes none,
// and a build at the same place replaces the older build's cache. Every run
// must still do its job: `gantry --help` prints the usage.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_BUNDLE, LOADER_FILE, RUNTIME_FILES } from '../../../runtime/loader/bundles';
import { REPO_ROOT } from '../../helpers/codeServer';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const GANTRY_JS = path.join(REPO_ROOT, 'dist/gantry.js');

describe('dist/gantry.js code cache', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();

  const run = async (cacheHome: string, extra: Record<string, string> = {}, loader = GANTRY_JS) => {
    const r = await runCommand(process.execPath, [loader, '--help'], { env: { ...process.env, XDG_CACHE_HOME: cacheHome, ...extra } });
    assert.match(r.stdout, /^Usage: gantry /);
    return r;
  };
  const caches = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.v8cache')) : []);

  it('is written by the first run, private to the user, and read (not rewritten) by the next', async () => {
    const home = await makeTempDir('gantry-cache-', cleanup);
    await run(home);
    const dir = path.join(home, 'gantry');
    const [file] = caches(dir);
    assert.ok(file, 'a cache file');
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, file)).mode & 0o777, 0o600);
    const before = fs.statSync(path.join(dir, file)).mtimeMs;
    const ino = fs.statSync(path.join(dir, file)).ino;
    await run(home);
    const after = fs.statSync(path.join(dir, file));
    assert.equal(after.ino, ino, 'the same file: not written again');
    assert.equal(after.mtimeMs, before);
  });

  it('a corrupt cache is rejected by V8 and replaced; the run is unaffected', async () => {
    const home = await makeTempDir('gantry-cache-', cleanup);
    await run(home);
    const dir = path.join(home, 'gantry');
    const file = path.join(dir, caches(dir)[0]);
    fs.writeFileSync(file, Buffer.alloc(4096, 7), { mode: 0o600 });
    await run(home);
    assert.notDeepEqual(fs.readFileSync(file).subarray(0, 16), Buffer.alloc(16, 7), 'replaced by a good one');
  });

  it('a cache dir others may write to is neither read nor written', async () => {
    const home = await makeTempDir('gantry-cache-', cleanup);
    const dir = path.join(home, 'gantry');
    fs.mkdirSync(dir, { mode: 0o777 });
    fs.chmodSync(dir, 0o777);
    // Planted by "someone else": garbage that would crash V8 if it were ever trusted as code is not the point —
    // that it is not even opened is: it stays exactly as planted, and no cache is written beside it.
    const planted = path.join(dir, 'planted.v8cache');
    fs.writeFileSync(planted, 'x');
    await run(home);
    assert.deepEqual(caches(dir), ['planted.v8cache']);
  });

  it('GANTRY_CODE_CACHE=0 writes none', async () => {
    const home = await makeTempDir('gantry-cache-', cleanup);
    await run(home, { GANTRY_CODE_CACHE: '0' });
    assert.deepEqual(caches(path.join(home, 'gantry')), []);
  });

  /** A copy of the runtime's files (runtime/loader/bundles.ts), so a test may change one. */
  const copyRuntime = async (names: readonly string[] = RUNTIME_FILES) => {
    const dir = await makeTempDir('gantry-dist-', cleanup);
    for (const name of names) fs.copyFileSync(path.join(path.dirname(GANTRY_JS), name), path.join(dir, name));
    return path.join(dir, 'gantry.js');
  };

  it("a rebuilt bundle at the same place gets a new cache, which replaces the older build's", async () => {
    const home = await makeTempDir('gantry-cache-', cleanup);
    const loader = await copyRuntime();
    await run(home, {}, loader);
    const dir = path.join(home, 'gantry');
    const [first] = caches(dir);
    assert.match(first, /^gantry-cli-[0-9a-f]+-/);
    // Same length, different code: V8 alone would take the old cache for it.
    const bundle = path.join(path.dirname(loader), CLI_BUNDLE);
    const source = fs.readFileSync(bundle, 'utf8');
    fs.writeFileSync(bundle, source.replaceAll('Usage: gantry ', 'Usage: GANTRY '));
    const r = await runCommand(process.execPath, [loader, '--help'], { env: { ...process.env, XDG_CACHE_HOME: home } });
    assert.match(r.stdout, /^Usage: GANTRY /, 'the new code ran, not the cached old one');
    const [second, ...more] = caches(dir);
    assert.deepEqual(more, []);
    assert.notEqual(second, first);
  });

  it("removes the cache a one-file build of the same gantry.js left (cli-<hash>-<place of gantry.js>-…), not another place's", async () => {
    const home = await makeTempDir('gantry-cache-', cleanup);
    const loader = await copyRuntime();
    const dir = path.join(home, 'gantry');
    fs.mkdirSync(dir, { mode: 0o700 });
    const place = (file: string) => createHash('sha256').update(file).digest('hex').slice(0, 8);
    const ours = `cli-00112233445566778-${place(loader)}-${process.version}-${process.arch}.v8cache`;
    const elsewhere = `cli-00112233445566778-${place('/elsewhere/gantry.js')}-${process.version}-${process.arch}.v8cache`;
    for (const name of [ours, elsewhere]) fs.writeFileSync(path.join(dir, name), 'one-file build', { mode: 0o600 });
    await run(home, {}, loader);
    const left = caches(dir);
    assert.ok(!left.includes(ours), left.join());
    assert.ok(left.includes(elsewhere), left.join());
  });

  it('a copy of gantry.js without its bundles names the missing file', async () => {
    const loader = await copyRuntime([LOADER_FILE]);
    const env = { ...process.env, XDG_CACHE_HOME: await makeTempDir('gantry-cache-', cleanup) };
    await assert.rejects(
      runCommand(process.execPath, [loader, 'version'], { env }),
      /\(code 1\)[^]*cannot read .*gantry-cli\.js \(ENOENT\): gantry\.js runs the bundles beside it/,
    );
  });

  it('the CLI reads only its own bundle, and the daemon its own cache', async () => {
    const home = await makeTempDir('gantry-cache-', cleanup);
    // Without gantryd.js: the CLI does not need the daemon's half of the runtime.
    await run(home, {}, await copyRuntime([LOADER_FILE, CLI_BUNDLE]));
    const daemonHelp = await runCommand(process.execPath, [GANTRY_JS, 'daemon', '--help'], {
      env: { ...process.env, XDG_CACHE_HOME: home },
    });
    assert.match(daemonHelp.stdout, /^Usage: gantry daemon /);
    const names = caches(path.join(home, 'gantry'));
    assert.equal(names.filter((n) => n.startsWith('gantry-cli-')).length, 1, names.join());
    assert.equal(names.filter((n) => n.startsWith('gantryd-')).length, 1, names.join());
  });
});
