// RootedFs against hostile trees: links to the host's files, relative
// links that climb above the root, loops, special files — and a tree that
// changes under us (a directory swapped for a link in a tight loop by
// another process), with a canary on the host that must never be touched.
import * as assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RootedFs } from '../../../runtime/files/index';
import { kindOf } from '../../../runtime/errdefs/errdefs';

describe('files/RootedFs', function () {
  this.timeout(60_000);
  let base: string;
  let root: string;
  let canary: string;
  let rfs: RootedFs;

  beforeEach(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-rootedfs-'));
    root = path.join(base, 'root');
    canary = path.join(base, 'canary');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(root, 'app/sub'), { recursive: true });
    fs.mkdirSync(canary);
    fs.writeFileSync(path.join(canary, 'file'), 'host canary\n');
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:container:/root:/bin/sh\n');
    fs.writeFileSync(path.join(root, 'app/run.sh'), '#!/bin/sh\n', { mode: 0o750 });
    fs.chmodSync(path.join(root, 'app/run.sh'), 0o750);
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs-passwd'));
    fs.symlinkSync('../../../../../../etc/passwd', path.join(root, 'app/climb'));
    fs.symlinkSync('/', path.join(root, 'app/to-root'));
    fs.symlinkSync(canary, path.join(root, 'app/host-canary'));
    fs.symlinkSync('/loop-b', path.join(root, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(root, 'loop-b'));
    execFileSync('mkfifo', [path.join(root, 'app/fifo')]);
    rfs = await RootedFs.open(root);
  });

  afterEach(async () => {
    await rfs.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  const text = async (p: string) => (await rfs.readFileBytes(p)).toString();
  const canaryIntact = () => assert.equal(fs.readFileSync(path.join(canary, 'file'), 'utf8'), 'host canary\n');

  it("resolves absolute and climbing links inside the root: the container's passwd, never the host's", async () => {
    const mine = 'root:x:0:0:container:/root:/bin/sh\n';
    assert.equal(await text('/abs-passwd'), mine);
    assert.equal(await text('/app/climb'), mine);
    assert.equal(await text('/app/to-root/etc/passwd'), mine);
    assert.equal(await text('/app/../../../etc/passwd'), mine);
    assert.equal(await rfs.realPath('/app/climb'), '/etc/passwd');
    assert.equal(await rfs.realPath('/app/to-root/app/sub/..'), '/app');
  });

  it('a link to a host path means that path inside the root: not found, and the host untouched', async () => {
    await assert.rejects(text('/app/host-canary/file'), (e) => kindOf(e) === 'NotFound');
    await assert.rejects(rfs.writeFile('/app/host-canary/file', Buffer.from('pwned')), (e) => kindOf(e) === 'NotFound');
    await assert.rejects(rfs.delete('/app/host-canary/file'), (e) => kindOf(e) === 'NotFound');
    canaryIntact();
  });

  it('a link loop is a clear error', async () => {
    await assert.rejects(text('/loop-a'), (e: Error) => {
      assert.equal(kindOf(e), 'InvalidArgument');
      assert.match(e.message, /\/loop-a: too many levels of symbolic links/);
      return true;
    });
  });

  it('special files are refused by name', async () => {
    await assert.rejects(text('/app/fifo'), (e: Error) => /cannot read \/app\/fifo: a named pipe; only regular files/.test(e.message));
    await assert.rejects(rfs.writeFile('/app/fifo', Buffer.from('x')), (e: Error) => /a named pipe/.test(e.message));
    await assert.rejects(text('/app'), (e: Error) => /a directory/.test(e.message));
  });

  it('stat and readDirectory describe links without following them', async () => {
    const entries = await rfs.readDirectory('/app');
    const byName = new Map(entries.map((e) => [e.name, e]));
    assert.deepEqual([...byName.keys()].sort(), ['climb', 'fifo', 'host-canary', 'run.sh', 'sub', 'to-root']);
    assert.equal(byName.get('climb')?.type, 'symlink');
    assert.equal(byName.get('climb')?.linkTarget, '../../../../../../etc/passwd');
    assert.equal(byName.get('fifo')?.type, 'other');
    // What each link leads to, inside the root: a folder, a file, nowhere.
    assert.equal(byName.get('to-root')?.targetType, 'directory');
    assert.equal(byName.get('climb')?.targetType, 'file');
    assert.equal(byName.get('host-canary')?.targetType, undefined);
    assert.equal(byName.get('run.sh')?.mode, 0o750);
    assert.equal((await rfs.stat('/abs-passwd')).type, 'file');
    assert.equal((await rfs.stat('/abs-passwd', false)).type, 'symlink');
    assert.equal((await rfs.stat('/')).type, 'directory');
  });

  it('a names-and-types listing gives the same names, types and link targets as a full one, without stats', async () => {
    const full = await rfs.listDirectory('/app', 'full');
    const types = await rfs.listDirectory('/app', 'types');
    assert.equal(types.stats, undefined);
    assert.equal(full.stats?.sizes.length, full.names.length);
    const byName = (l: typeof full) => Object.fromEntries(l.names.map((n, i) => [n, l.types[i]]));
    assert.deepEqual(byName(types), byName(full));
    assert.deepEqual(byName(types), {
      climb: 'symlink',
      fifo: 'other',
      'host-canary': 'symlink',
      'run.sh': 'file',
      sub: 'directory',
      'to-root': 'symlink',
    });
    // Links are resolved inside the root in both modes: a folder, a file, nowhere.
    const links = (l: typeof full) => Object.fromEntries(l.links.map((k) => [l.names[k.index], [k.target, k.targetType]]));
    assert.deepEqual(links(types), links(full));
    assert.deepEqual(links(types), {
      climb: ['../../../../../../etc/passwd', 'file'],
      'host-canary': [canary, undefined],
      'to-root': ['/', 'directory'],
    });
    canaryIntact();
  });

  it('writes atomically, keeping the replaced file’s mode; through a link it writes the target in the root', async () => {
    await rfs.writeFile('/app/run.sh', Buffer.from('#!/bin/sh\necho new\n'));
    assert.equal(fs.readFileSync(path.join(root, 'app/run.sh'), 'utf8'), '#!/bin/sh\necho new\n');
    assert.equal(fs.statSync(path.join(root, 'app/run.sh')).mode & 0o7777, 0o750);
    await rfs.writeFile('/app/climb', Buffer.from('edited\n'));
    assert.equal(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8'), 'edited\n');
    assert.ok(fs.lstatSync(path.join(root, 'app/climb')).isSymbolicLink(), 'the link stays a link');
    await rfs.writeFile('/app/new.txt', Buffer.from('n'), { mode: 0o600 });
    assert.equal(fs.statSync(path.join(root, 'app/new.txt')).mode & 0o777, 0o600);
    await assert.rejects(rfs.writeFile('/app/new.txt', Buffer.from('n'), { exclusive: true }), (e) => kindOf(e) === 'AlreadyExists');
    await assert.rejects(rfs.writeFile('/app/none.txt', Buffer.from('n'), { mustExist: true }), (e) => kindOf(e) === 'NotFound');
    assert.deepEqual(
      fs.readdirSync(path.join(root, 'app')).filter((n) => n.includes('.tmp')),
      [],
      'no temporary file is left',
    );
  });

  it('deletes recursively without following links out of the tree', async () => {
    fs.symlinkSync(canary, path.join(root, 'app/sub/outside'));
    fs.writeFileSync(path.join(root, 'app/sub/f'), 'x');
    await rfs.delete('/app', { recursive: true });
    assert.equal(fs.existsSync(path.join(root, 'app')), false);
    canaryIntact();
    await assert.rejects(rfs.delete('/etc'), (e) => kindOf(e) === 'FailedPrecondition');
    await assert.rejects(rfs.delete('/'), (e) => kindOf(e) === 'InvalidArgument');
  });

  it('creates directories (with parents) and renames entries, links moved as links', async () => {
    await rfs.createDirectory('/a/b/c', { recursive: true });
    assert.ok(fs.statSync(path.join(root, 'a/b/c')).isDirectory());
    await assert.rejects(rfs.createDirectory('/a'), (e) => kindOf(e) === 'AlreadyExists');
    await rfs.rename('/app/climb', '/a/moved-link');
    assert.equal(fs.readlinkSync(path.join(root, 'a/moved-link')), '../../../../../../etc/passwd');
    await assert.rejects(rfs.rename('/app/run.sh', '/etc/passwd'), (e) => kindOf(e) === 'AlreadyExists');
    await rfs.rename('/app/run.sh', '/etc/passwd', { overwrite: true });
    assert.equal(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8'), '#!/bin/sh\n');
  });

  it('a directory swapped for a link to the host in a tight loop never lets an operation reach the host', async () => {
    const race = path.join(root, 'race');
    fs.mkdirSync(race);
    fs.writeFileSync(path.join(race, 'file'), 'inside\n');
    // Another process plays the container: `race` is a directory, then a
    // link to the host's canary dir, then the directory again, forever.
    const swapper = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const [race, hold, target] = process.argv.slice(1);
         for (;;) { try { fs.renameSync(race, hold); fs.symlinkSync(target, race); fs.unlinkSync(race); fs.renameSync(hold, race); } catch {} }`,
        race,
        path.join(root, 'hold'),
        canary,
      ],
      { stdio: 'ignore' },
    );
    const outcomes = { read: 0, wrote: 0, notFound: 0 };
    try {
      for (let i = 0; i < 1000; i++) {
        const attempts: Promise<unknown>[] = [
          text('/race/file').then((t) => {
            assert.ok(t === 'inside\n' || t.startsWith('w'), `read ${JSON.stringify(t)}`);
            outcomes.read++;
          }),
          rfs.writeFile('/race/file', Buffer.from(`w${i}\n`)).then(() => outcomes.wrote++),
        ];
        for (const r of await Promise.allSettled(attempts)) {
          if (r.status === 'rejected') {
            const kind = kindOf(r.reason);
            assert.ok(kind === 'NotFound' || kind === 'FailedPrecondition', String(r.reason));
            outcomes.notFound++;
          }
        }
        canaryIntact();
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    canaryIntact();
    assert.deepEqual(fs.readdirSync(canary), ['file'], 'nothing was created on the host');
    // Both states were met, so the race was really run.
    assert.ok(outcomes.read + outcomes.wrote > 0 && outcomes.notFound > 0, JSON.stringify(outcomes));
  });
});
