// The files service against real containers (runc, overlayfs): read and
// write a running container's files and see them with exec at once; edit a
// stopped one and see the change when it starts; browse an image with no
// shell at all; links that point at the host's files resolve inside the
// container; new files belong to the container's user.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { FileType } from '../../../runtime/client/index';
import { execStdout } from '../../helpers/containerExec';
import { pushLayers } from '../../helpers/fixtures';
import { buildTar, MEDIA, sha256 } from '../../helpers/tarBuilder';
import { suiteCleanup } from '../../helpers/tmp';
import { containerWorld, eventually, mountsUnder, type ContainerWorld } from '../containers/harness';

describe('files: a container filesystem through the daemon', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
  });

  const running = async (config: Record<string, unknown> = {}) => {
    const c = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '300'], network: 'none', ...config });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    await world.client.containers.start(c.id);
    return c;
  };

  it('reads and writes a running container: exec sees a write at once; new files belong to the container user', async () => {
    const c = await running({ user: '1000:1001' });
    const target = { container: c.id };
    const names = (await world.client.files.readDirectory(target, '/')).map((e) => e.name);
    for (const n of ['bin', 'etc', 'proc']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
    // The names-and-types listing (the editor's) agrees with the full one on a live overlay, links included.
    await execStdout(world.client, c.id, ['sh', '-c', 'ln -s /etc /tmp/to-etc && ln -s /nowhere /tmp/dangling && mkfifo /tmp/pipe']);
    for (const dir of ['/', '/etc', '/tmp']) {
      const full = await world.client.files.readDirectory(target, dir);
      const typed = await world.client.files.readDirectoryTypes(target, dir);
      const key = (e: { name: string; type: FileType; targetType: FileType }) => `${e.name} ${e.type} ${e.targetType}`;
      assert.deepEqual(typed.map(key).sort(), full.map(key).sort(), dir);
    }
    const tmp = new Map((await world.client.files.readDirectoryTypes(target, '/tmp')).map((e) => [e.name, e]));
    assert.equal(tmp.get('to-etc')?.targetType, FileType.FILE_TYPE_DIRECTORY);
    assert.equal(tmp.get('dangling')?.targetType, FileType.FILE_TYPE_UNSPECIFIED);
    assert.equal(tmp.get('pipe')?.type, FileType.FILE_TYPE_OTHER);
    await execStdout(world.client, c.id, ['rm', '/tmp/to-etc', '/tmp/dangling', '/tmp/pipe']);
    const hostname = await world.client.files.readFile(target, '/etc/hostname');
    assert.equal(hostname.data.toString(), await execStdout(world.client, c.id, ['cat', '/etc/hostname']));
    assert.equal(hostname.info.type, FileType.FILE_TYPE_FILE);

    const info = await world.client.files.writeFile(target, '/tmp/note.txt', Buffer.from('written by gantryd\n'));
    assert.equal(info.uid, 1000);
    assert.equal(info.gid, 1001);
    assert.equal(await execStdout(world.client, c.id, ['cat', '/tmp/note.txt']), 'written by gantryd\n');
    assert.equal(await execStdout(world.client, c.id, ['stat', '-c', '%u:%g %a', '/tmp/note.txt']), '1000:1001 644\n');

    await world.client.files.createDirectory(target, '/tmp/a/b', { parents: true });
    await world.client.files.rename(target, '/tmp/note.txt', '/tmp/a/b/moved.txt');
    assert.equal(await execStdout(world.client, c.id, ['cat', '/tmp/a/b/moved.txt']), 'written by gantryd\n');
    await world.client.files.delete(target, '/tmp/a', { recursive: true });
    assert.equal(await execStdout(world.client, c.id, ['sh', '-c', 'ls /tmp/a 2>&1 || true']), 'ls: /tmp/a: No such file or directory\n');
  });

  it("links to host paths resolve inside the container: its passwd, never the host's; loops and special files are clear errors", async () => {
    const c = await running();
    const target = { container: c.id };
    const script =
      'ln -s ../../../../../etc/passwd /tmp/climb && ln -s /etc/passwd /tmp/abs && ln -s /tmp/loop /tmp/loop && mkfifo /tmp/fifo';
    await execStdout(world.client, c.id, ['sh', '-c', script]);
    const theirs = await execStdout(world.client, c.id, ['cat', '/etc/passwd']);
    assert.notEqual(theirs, fs.readFileSync('/etc/passwd', 'utf8'), 'the fixture passwd differs from the host one');
    assert.equal((await world.client.files.readFile(target, '/tmp/climb')).data.toString(), theirs);
    assert.equal((await world.client.files.readFile(target, '/tmp/abs')).data.toString(), theirs);
    assert.equal((await world.client.files.stat(target, '/tmp/climb')).realPath, '/etc/passwd');
    const link = await world.client.files.stat(target, '/tmp/abs', { noFollow: true });
    assert.equal(link.info.type, FileType.FILE_TYPE_SYMLINK);
    assert.equal(link.info.linkTarget, '/etc/passwd');
    await assert.rejects(world.client.files.readFile(target, '/tmp/loop'), (e: Error) => {
      assert.equal(kindOf(e), 'InvalidArgument');
      assert.match(e.message, /too many levels of symbolic links/);
      return true;
    });
    await assert.rejects(world.client.files.readFile(target, '/tmp/fifo'), /a named pipe; only regular files can be read/);
    await assert.rejects(world.client.files.readFile(target, 'etc/passwd'), (e) => kindOf(e) === 'InvalidArgument');
    await assert.rejects(world.client.files.readFile(target, '/nope'), (e) => kindOf(e) === 'NotFound');
  });

  it('edits a created and an exited container: the change is there when it starts; an exited one is left unmounted', async () => {
    const c = await world.client.containers.create('', { image: world.image, cmd: ['cat', '/etc/motd'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    const startAndRead = async () => {
      let out = '';
      for await (const m of world.client.containers.attach({ id: c.id, start: true, stdin: false }).responses()) {
        if (m.kind?.$case === 'output') out += Buffer.from(m.kind.value.data).toString();
      }
      return out;
    };
    await world.client.files.writeFile({ container: c.id }, '/etc/motd', Buffer.from('edited before the first start\n'));
    assert.equal(await startAndRead(), 'edited before the first start\n');
    await eventually('the exited container unmounted', async () => (mountsUnder(c.id).length === 0 ? true : undefined));
    await world.client.files.writeFile({ container: c.id }, '/etc/motd', Buffer.from('edited while exited\n'));
    assert.deepEqual(mountsUnder(c.id), [], 'the files call unmounted what it mounted');
    assert.equal(await startAndRead(), 'edited while exited\n');
  });

  it('browses and edits an image with no shell and no coreutils (one static binary)', async () => {
    const busybox = fs.readFileSync('/bin/busybox');
    const tar = buildTar([
      { name: 'busybox', content: busybox, mode: 0o755 },
      { name: 'etc/', type: 'dir' },
      { name: 'etc/app.conf', content: 'level=1\n' },
    ]);
    await pushLayers(world.registry, 'gantry-test/shellless:latest', [{ blob: tar, mediaType: MEDIA.tar, diffId: sha256(tar) }]);
    const image = `${world.registry.host}/gantry-test/shellless:latest`;
    for await (const _ of world.client.images.pull({ reference: image })) {
      // progress is not under test here
    }
    const c = await world.client.containers.create('', { image, cmd: ['/busybox', 'sleep', '300'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    await world.client.containers.start(c.id);
    const target = { container: c.id };
    const names = (await world.client.files.readDirectory(target, '/')).map((e) => e.name).sort();
    assert.ok(names.includes('busybox') && names.includes('etc') && !names.includes('bin'), names.join(','));
    assert.equal((await world.client.files.readFile(target, '/etc/app.conf')).data.toString(), 'level=1\n');
    await world.client.files.writeFile(target, '/etc/app.conf', Buffer.from('level=2\n'), { mustExist: true });
    assert.equal(await execStdout(world.client, c.id, ['/busybox', 'cat', '/etc/app.conf']), 'level=2\n');
  });

  it('a container swapping a directory and a link to a host path in a tight loop: 1,000 reads and writes never touch the host', async () => {
    const canary = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-canary-'));
    cleanup.defer(() => fs.rmSync(canary, { recursive: true, force: true }));
    fs.writeFileSync(path.join(canary, 'file'), 'host canary\n');
    // The link's target is the canary's host path: followed by the kernel
    // from the host's side, it would be the canary itself.
    const script = `mkdir /r && echo inside > /r/file && while :; do mv /r /h; ln -s ${canary} /r; rm /r; mv /h /r; done`;
    const c = await running({ cmd: ['sh', '-c', script] });
    const target = { container: c.id };
    await eventually('the swapping loop running', async () =>
      (await world.client.files.stat(target, '/r/file').catch(() => undefined)) ? true : undefined,
    );
    const outcomes = { ok: 0, failed: 0 };
    for (let i = 0; i < 500; i++) {
      const results = await Promise.allSettled([
        world.client.files.readFile(target, '/r/file').then((r) => assert.match(r.data.toString(), /^(inside|w\d+)\n$/)),
        world.client.files.writeFile(target, '/r/file', Buffer.from(`w${i}\n`)),
      ]);
      for (const r of results) {
        if (r.status === 'fulfilled') outcomes.ok++;
        else {
          assert.ok(['NotFound', 'FailedPrecondition'].includes(kindOf(r.reason)), String(r.reason));
          outcomes.failed++;
        }
      }
    }
    assert.equal(fs.readFileSync(path.join(canary, 'file'), 'utf8'), 'host canary\n');
    assert.deepEqual(fs.readdirSync(canary), ['file']);
    assert.ok(outcomes.ok > 0 && outcomes.failed > 0, `both states were met: ${JSON.stringify(outcomes)}`);
  });

  it('streams a large file both ways intact, and reads a range', async () => {
    const c = await running();
    const target = { container: c.id };
    const data = randomBytes(24 * 1024 * 1024 + 17);
    await world.client.files.writeFile(target, '/tmp/big.bin', data);
    const digest = createHash('sha256').update(data).digest('hex');
    assert.equal((await execStdout(world.client, c.id, ['sha256sum', '/tmp/big.bin'])).split(' ')[0], digest);
    const back = await world.client.files.readFile(target, '/tmp/big.bin');
    assert.equal(createHash('sha256').update(back.data).digest('hex'), digest);
    let range = Buffer.alloc(0);
    for await (const chunk of world.client.files.read(target, '/tmp/big.bin', { offset: 1000, length: 100 })) {
      range = Buffer.concat([range, Buffer.from(chunk.data)]);
    }
    assert.deepEqual(range, data.subarray(1000, 1100));
  });
});
