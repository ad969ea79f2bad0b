// dist/gantry.js's loader (runtime/loader/codeCache.ts): the first run
// writes a V8 code cache under $XDG_CACHE_HOME/gantry, the next ones read
// it (and leave it as it is); a cache somebody else could have written is
// never read, a corrupt one is replaced, GANTRY_CODE_CACHE=0 writes none,
// and a build at the same place replaces the older build's cache. Every run
// must still do its job: `gantry --help` prints the usage.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../helpers/codeServer';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const GANTRY_JS = path.join(REPO_ROOT, 'dist/gantry.js');

describe('dist/gantry.js code cache', function () {
  this.timeout(60_000);
  const cleanup = suiteCleanup();

  const run = async (cacheHome: string, extra: Record<string, string> = {}) => {
    const r = await runCommand(process.execPath, [GANTRY_JS, '--help'], { env: { ...process.env, XDG_CACHE_HOME: cacheHome, ...extra } });
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

  it("a newer build at the same place replaces the older build's cache", async () => {
    const home = await makeTempDir('gantry-cache-', cleanup);
    await run(home);
    const dir = path.join(home, 'gantry');
    const [current] = caches(dir);
    const stale = current.replace(/^cli-[0-9a-f]+-/, 'cli-0000000000000000-');
    fs.writeFileSync(path.join(dir, stale), 'old build', { mode: 0o600 });
    fs.rmSync(path.join(dir, current));
    await run(home);
    assert.deepEqual(caches(dir), [current]);
  });
});
