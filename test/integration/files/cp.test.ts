// `gantry cp` against real containers (runc, overlayfs), as a person runs
// it: Docker's rules for where a copy lands (dest existing or not, trailing
// `/` and `/.`), running and stopped containers, an image with no shell and
// no tar, ownership (the container's user, or the archive's with -a), -L,
// tar archives through `-`, links in the container that point at the
// host's files, and hostile archives refused with nothing written.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { execStdout } from '../../helpers/containerExec';
import { pushLayers } from '../../helpers/fixtures';
import { gantryBytes } from '../../helpers/gantryCp';
import { buildTar, MEDIA, sha256 } from '../../helpers/tarBuilder';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { containerWorld, type ContainerWorld } from '../containers/harness';

async function entriesOf(archive: Buffer): Promise<{ name: string; type: string; content?: string; linkname?: string }[]> {
  const out: { name: string; type: string; content?: string; linkname?: string }[] = [];
  const ex = tar.extract();
  Readable.from([archive]).pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({
      name: e.header.name.replace(/\/$/, ''),
      type: e.header.type,
      ...(e.header.type === 'file' ? { content: Buffer.concat(chunks).toString() } : {}),
      ...(e.header.linkname ? { linkname: e.header.linkname } : {}),
    });
  }
  return out;
}

describe('files: gantry cp', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;
  let host: string;
  let c: string;

  const cp = async (...args: string[]) => {
    const r = await gantryBytes(world.daemon.socket, ['cp', ...args]);
    assert.equal(r.code, 0, `gantry cp ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const cpFails = async (pattern: RegExp, ...args: string[]) => {
    const r = await gantryBytes(world.daemon.socket, ['cp', ...args]);
    assert.notEqual(r.code, 0, `gantry cp ${args.join(' ')} should fail`);
    assert.match(r.stderr, pattern);
    return r;
  };
  const sh = (id: string, script: string) => execStdout(world.client, id, ['sh', '-c', script]);
  const h = (...p: string[]) => path.join(host, ...p);

  before(async () => {
    world = await containerWorld(cleanup);
    const made = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sleep', '300'],
      network: 'none',
      user: '1000:1001',
    });
    c = made.id;
    cleanup.defer(() => world.client.containers.remove(c, true).catch(() => undefined));
    await world.client.containers.start(c);
    await execStdout(world.client, c, [
      'sh',
      '-c',
      [
        'mkdir -p /tmp/src/sub /tmp/empty',
        'printf one > /tmp/src/one.txt',
        'printf two > /tmp/src/sub/two.txt',
        'chmod 751 /tmp/src/sub',
        'ln -s one.txt /tmp/src/link',
        'printf file > /tmp/file.txt',
        'chmod 640 /tmp/file.txt',
        'ln -s /tmp/file.txt /tmp/file-link',
      ].join(' && '),
    ]);
  });

  beforeEach(async () => {
    host = await makeTempDir('gantry-cp', cleanup);
  });

  describe('out of a container', () => {
    it('a file to a new path, into an existing directory, over an existing file; modes kept', async () => {
      const r = await cp(`${c}:/tmp/file.txt`, h('new.txt'));
      assert.match(r.stderr, /^Successfully copied \d+(\.\d+)?k?B to .*new\.txt\n$/);
      assert.equal(fs.readFileSync(h('new.txt'), 'utf8'), 'file');
      assert.equal(fs.statSync(h('new.txt')).mode & 0o777, 0o640);
      fs.mkdirSync(h('dir'));
      await cp('-q', `${c}:/tmp/file.txt`, h('dir'));
      assert.equal(fs.readFileSync(h('dir/file.txt'), 'utf8'), 'file');
      fs.writeFileSync(h('existing'), 'old content that is longer');
      const quiet = await cp('-q', `${c}:/tmp/file.txt`, h('existing'));
      assert.equal(quiet.stderr, '');
      assert.equal(fs.readFileSync(h('existing'), 'utf8'), 'file');
      assert.deepEqual(fs.readdirSync(host).sort(), ['dir', 'existing', 'new.txt'], 'no staging directory left');
    });

    it('a directory: created when missing, copied into an existing one, its content with /.', async () => {
      await cp(`${c}:/tmp/src`, h('made'));
      assert.deepEqual(fs.readdirSync(h('made')).sort(), ['link', 'one.txt', 'sub']);
      assert.equal(fs.readFileSync(h('made/sub/two.txt'), 'utf8'), 'two');
      assert.equal(fs.statSync(h('made/sub')).mode & 0o777, 0o751);
      assert.equal(fs.readlinkSync(h('made/link')), 'one.txt');
      fs.mkdirSync(h('into'));
      await cp(`${c}:/tmp/src/`, h('into'));
      assert.deepEqual(fs.readdirSync(h('into')), ['src']);
      fs.mkdirSync(h('content'));
      await cp(`${c}:/tmp/src/.`, h('content'));
      assert.deepEqual(fs.readdirSync(h('content')).sort(), ['link', 'one.txt', 'sub']);
    });

    it("Docker's refusals: a file to a missing dir/, a directory onto a file, a file with a trailing slash, a missing source", async () => {
      await cpFails(/no such directory/, `${c}:/tmp/file.txt`, h('missing') + '/');
      assert.ok(!fs.existsSync(h('missing')));
      fs.writeFileSync(h('afile'), 'x');
      await cpFails(/cannot copy directory/, `${c}:/tmp/src`, h('afile'));
      await cpFails(/not a directory/, `${c}:/tmp/file.txt/`, h('x'));
      await cpFails(/could not find the file \/nope in container/, `${c}:/nope`, h('x'));
      await cpFails(/copying between containers is not supported/, `${c}:/a`, `${c}:/b`);
      await cpFails(/must specify at least one container source/, h('a'), h('b'));
    });

    it('-L follows a final link and keeps its name; without it the link is copied', async () => {
      await cp(`${c}:/tmp/file-link`, h('as-link'));
      assert.equal(fs.readlinkSync(h('as-link')), '/tmp/file.txt');
      await cp('-L', `${c}:/tmp/file-link`, host);
      assert.ok(fs.lstatSync(h('file-link')).isFile());
      assert.equal(fs.readFileSync(h('file-link'), 'utf8'), 'file');
    });

    it('- writes a tar archive to stdout, named by the last component', async () => {
      const r = await cp(`${c}:/tmp/src`, '-');
      const entries = await entriesOf(r.stdout);
      assert.deepEqual(entries.map((e) => e.name).sort(), ['src', 'src/link', 'src/one.txt', 'src/sub', 'src/sub/two.txt']);
      assert.equal(entries.find((e) => e.name === 'src/one.txt')?.content, 'one');
      assert.equal(entries.find((e) => e.name === 'src/link')?.linkname, 'one.txt');
    });
  });

  describe('into a container', () => {
    it("a file into a directory and to a new name: the container's user owns it; modes kept", async () => {
      fs.writeFileSync(h('in.txt'), 'from the host');
      fs.chmodSync(h('in.txt'), 0o600);
      fs.chownSync(h('in.txt'), 1234, 2345);
      const r = await cp(h('in.txt'), `${c}:/tmp/empty`);
      assert.match(r.stderr, /^Successfully copied .* to [0-9a-f]+:\/tmp\/empty\n$/);
      assert.equal(await sh(c, 'cat /tmp/empty/in.txt; echo; stat -c "%u:%g %a" /tmp/empty/in.txt'), 'from the host\n1000:1001 600\n');
      await cp(h('in.txt'), `${c}:/tmp/renamed.txt`);
      assert.equal(await sh(c, 'cat /tmp/renamed.txt'), 'from the host');
      await cp('-a', h('in.txt'), `${c}:/tmp/kept.txt`);
      assert.equal(await sh(c, 'stat -c "%u:%g" /tmp/kept.txt'), '1234:2345\n');
      assert.equal(await sh(c, 'ls -a /tmp/empty | grep -c gantry || true'), '0\n', 'no staging directory left');
    });

    it('a directory: created, copied into an existing one, its content with /.; the rules refuse as Docker does', async () => {
      fs.mkdirSync(h('tree/deep'), { recursive: true });
      fs.writeFileSync(h('tree/a'), 'a');
      fs.writeFileSync(h('tree/deep/b'), 'b');
      fs.symlinkSync('/etc/passwd', h('tree/pw'));
      await cp(h('tree'), `${c}:/tmp/tree-new`);
      assert.equal(await sh(c, 'cat /tmp/tree-new/deep/b; readlink /tmp/tree-new/pw'), 'b/etc/passwd\n');
      await sh(c, 'mkdir -p /tmp/into /tmp/content');
      await cp(h('tree'), `${c}:/tmp/into`);
      assert.equal(await sh(c, 'ls /tmp/into'), 'tree\n');
      await cp(h('tree') + '/.', `${c}:/tmp/content`);
      assert.equal(await sh(c, 'ls /tmp/content | sort | tr "\\n" " "'), 'a deep pw ');
      await cpFails(/cannot copy directory/, h('tree'), `${c}:/tmp/file.txt`);
      await cpFails(/no such directory/, h('tree/a'), `${c}:/tmp/not-there/`);
      await cpFails(/could not find the file|no such file/, h('tree/a'), `${c}:/no/such/dir/x`);
      await cpFails(/no such file or directory/, h('absent'), `${c}:/tmp`);
      // A file onto an existing directory of the same name inside the destination.
      await sh(c, 'mkdir -p /tmp/clash/a');
      await cpFails(/cannot overwrite directory/, h('tree/a'), `${c}:/tmp/clash`);
    });

    it("a link in the container to /etc/shadow is the container's /etc/shadow, read and written; the host's is untouched", async () => {
      const hostShadow = createHash('sha256').update(fs.readFileSync('/etc/shadow')).digest('hex');
      await sh(c, 'ln -sf /etc/shadow /tmp/shadow-link; ln -sf ../../../../../../../etc /tmp/climb');
      fs.writeFileSync(h('shadow'), 'root:written-by-cp:::::::\n');
      await cp(h('shadow'), `${c}:/tmp/shadow-link`);
      await cp(h('shadow'), `${c}:/tmp/climb/`);
      assert.equal(await sh(c, 'cat /etc/shadow'), 'root:written-by-cp:::::::\n');
      assert.equal(await sh(c, 'readlink /tmp/shadow-link'), '/etc/shadow\n', 'the link itself stays');
      await cp('-L', `${c}:/tmp/shadow-link`, h('out'));
      assert.equal(fs.readFileSync(h('out'), 'utf8'), 'root:written-by-cp:::::::\n');
      assert.equal(createHash('sha256').update(fs.readFileSync('/etc/shadow')).digest('hex'), hostShadow);
    });

    it('- extracts a tar archive from stdin into a directory; a hostile archive is refused and nothing is written', async () => {
      const good = buildTar([
        { name: 'piped/', type: 'dir', mode: 0o750 },
        { name: 'piped/f', content: 'via stdin', mode: 0o604 },
      ]);
      const r = await gantryBytes(world.daemon.socket, ['cp', '-', `${c}:/tmp`], good);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await sh(c, 'cat /tmp/piped/f; echo; stat -c "%a %u" /tmp/piped /tmp/piped/f'), 'via stdin\n750 1000\n604 1000\n');
      await sh(c, 'mkdir -p /tmp/victim');
      for (const [what, entries] of [
        [
          '..',
          [
            { name: 'first', content: 'x' },
            { name: '../../../escape', content: 'x' },
          ],
        ],
        [
          'absolute',
          [
            { name: 'first', content: 'x' },
            { name: '/etc/evil', content: 'x' },
          ],
        ],
        [
          'device',
          [
            { name: 'first', content: 'x' },
            { name: 'null', type: 'char', devmajor: 1, devminor: 3 },
          ],
        ],
      ] as const) {
        const bad = await gantryBytes(world.daemon.socket, ['cp', '-', `${c}:/tmp/victim`], buildTar(entries));
        assert.notEqual(bad.code, 0, `${what}: refused`);
        assert.match(bad.stderr, /path contains "\.\."|absolute path|device nodes/, what);
      }
      assert.equal(await sh(c, 'ls -A /tmp/victim; ls /escape /etc/evil 2>&1 | grep -c "No such" '), '2\n', 'nothing written anywhere');
      const notDir = await gantryBytes(world.daemon.socket, ['cp', '-', `${c}:/tmp/file.txt`], good);
      assert.match(notDir.stderr, /must be a directory/);
    });
  });

  it('a stopped container (created, then exited), both ways; it is left unmounted', async () => {
    const made = await world.client.containers.create('', { image: world.image, cmd: ['cat', '/etc/motd'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(made.id, true).catch(() => undefined));
    fs.writeFileSync(h('motd'), 'copied in before start\n');
    await cp(h('motd'), `${made.id}:/etc/motd`);
    await cp(`${made.id}:/etc/motd`, h('back'));
    assert.equal(fs.readFileSync(h('back'), 'utf8'), 'copied in before start\n');
    let out = '';
    for await (const m of world.client.containers.attach({ id: made.id, start: true, stdin: false }).responses()) {
      if (m.kind?.$case === 'output') out += Buffer.from(m.kind.value.data).toString();
    }
    assert.equal(out, 'copied in before start\n');
    fs.writeFileSync(h('motd'), 'copied in while exited\n');
    await cp(h('motd'), `${made.id}:/etc/`);
    await cp(`${made.id}:/etc/motd`, h('back2'));
    assert.equal(fs.readFileSync(h('back2'), 'utf8'), 'copied in while exited\n');
    const mounts = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(made.id));
    assert.deepEqual(mounts, [], 'no mount left behind');
  });

  it('container cp, into and out of an image with no shell and no tar (one static binary)', async () => {
    const busybox = fs.readFileSync('/bin/busybox');
    const layer = buildTar([
      { name: 'busybox', content: busybox, mode: 0o755 },
      { name: 'data/', type: 'dir' },
      { name: 'data/app.conf', content: 'level=1\n' },
    ]);
    await pushLayers(world.registry, 'gantry-test/cp-shellless:latest', [{ blob: layer, mediaType: MEDIA.tar, diffId: sha256(layer) }]);
    const image = `${world.registry.host}/gantry-test/cp-shellless:latest`;
    for await (const _ of world.client.images.pull({ reference: image })) {
      // progress is not under test here
    }
    const made = await world.client.containers.create('', { image, cmd: ['/busybox', 'sleep', '300'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(made.id, true).catch(() => undefined));
    await world.client.containers.start(made.id);
    const r = await gantryBytes(world.daemon.socket, ['container', 'cp', `${made.id}:/data`, h('data')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(h('data/app.conf'), 'utf8'), 'level=1\n');
    fs.writeFileSync(h('data/app.conf'), 'level=2\n');
    await cp(h('data/app.conf'), `${made.id}:/data/app.conf`);
    assert.equal(await execStdout(world.client, made.id, ['/busybox', 'cat', '/data/app.conf']), 'level=2\n');
  });
});
