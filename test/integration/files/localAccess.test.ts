// Local access (docs/files.md, "Local access"): gantryd resolves a path in
// the container's root, opens it and names its descriptor; a client on the
// same machine that may open gantryd's descriptors reads that very file
// itself. Proven against a real daemon and containers: reads and names-and-
// types listings come through it (with ReadFile and ReadDirectory made to
// fail, they still succeed), bytes and ranges are intact, gantryd closes its
// descriptor when the call ends, a handle that is not gantryd's or not the
// file it named is never used, a client that may not open gantryd's
// descriptors (another user) falls back for good, and what cannot be held
// past a call (a stopped container's tree) is refused and read the old way.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { FilesClient, FileType, type LocalHandle } from '../../../runtime/api/gen/gantry/v1/files';
import { RuntimeClient } from '../../../runtime/client/client';
import { LocalAccessUnavailable, openLocalHandle } from '../../../runtime/client/localFiles';
import { stream } from '../../../runtime/client/rpc';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { suiteCleanup } from '../../helpers/tmp';
import { containerWorld, type ContainerWorld } from '../containers/harness';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The gRPC client under a RuntimeClient's files API, to break its methods (tests only). */
function grpcFilesOf(client: RuntimeClient): FilesClient {
  return (client.files as unknown as { files: FilesClient }).files;
}

/** Makes `method` of the client's gRPC files client fail; returns how many times it was called. */
function breakMethod(client: RuntimeClient, method: 'readFile' | 'readDirectory'): { calls: number } {
  const counter = { calls: 0 };
  const files = grpcFilesOf(client) as unknown as Record<string, unknown>;
  files[method] = () => {
    counter.calls++;
    throw new Error(`${method} was called`);
  };
  return counter;
}

/** The descriptors of process `pid` that lead to `file`. */
function descriptorsOn(pid: number, file: string): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).endsWith(file);
    } catch {
      return false;
    }
  });
}

describe('files: local access', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;
  let grpc: FilesClient;

  before(async () => {
    world = await containerWorld(cleanup);
    grpc = new FilesClient(`unix:${world.daemon.socket}`, credentials.createInsecure());
    cleanup.defer(() => grpc.close());
  });

  const running = async () => {
    const c = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '300'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    await world.client.containers.start(c.id);
    return c;
  };
  const fresh = () => {
    const client = RuntimeClient.forSocket(world.daemon.socket);
    cleanup.defer(() => client.close());
    return client;
  };
  const handleOf = async (container: string, p: string, directory = false): Promise<{ handle: LocalHandle; end: () => void }> => {
    const call = grpc.openLocal({ target: { container, volume: '', layer: undefined }, path: p, directory });
    const messages = stream<LocalHandle>(call);
    const first = await messages.next();
    assert.ok(!first.done);
    return { handle: first.value, end: () => void messages.return(undefined) };
  };

  it('reads come from the file itself: whole and ranges intact with ReadFile broken; gantryd closes its descriptor when the call ends', async () => {
    const c = await running();
    const target = { container: c.id };
    const data = randomBytes(9 * 1024 * 1024 + 13);
    await world.client.files.writeFile(target, '/tmp/local.bin', data);
    await world.client.files.writeFile(target, '/tmp/empty', Buffer.alloc(0));

    const client = fresh();
    const readFile = breakMethod(client, 'readFile');
    const back = await client.files.readFile(target, '/tmp/local.bin');
    assert.equal(sha(back.data), sha(data));
    assert.equal(back.info.size, data.length);
    const range = async (offset: number, length: number) => {
      const parts: Buffer[] = [];
      for await (const chunk of client.files.read(target, '/tmp/local.bin', { offset, length })) parts.push(Buffer.from(chunk.data));
      return Buffer.concat(parts);
    };
    assert.deepEqual(await range(1000, 5 * 1024 * 1024), data.subarray(1000, 1000 + 5 * 1024 * 1024));
    assert.deepEqual(await range(data.length - 7, 0), data.subarray(data.length - 7));
    assert.deepEqual(await range(data.length - 7, 100), data.subarray(data.length - 7));
    const empty = await client.files.readFile(target, '/tmp/empty');
    assert.equal(empty.data.length, 0);
    assert.equal(empty.info.size, 0);
    // The daemon's errors are its own, with no second call.
    await assert.rejects(client.files.readFile(target, '/nope'), (e) => kindOf(e) === 'NotFound');
    assert.equal(readFile.calls, 0, 'no ReadFile call was made');
    // Not a regular file: the ordinary call reports it (and is made).
    await assert.rejects(client.files.readFile(target, '/tmp'), /ReadFile was called|readFile was called/);

    // gantryd holds the file only while the call is open.
    const pid = world.daemon.process.pid;
    const { handle, end } = await handleOf(c.id, '/tmp/local.bin');
    assert.match(handle.path, new RegExp(`^/proc/${pid}/fd/\\d+$`));
    assert.equal(descriptorsOn(pid, '/tmp/local.bin').length, 1);
    const fd = openLocalHandle(handle, false);
    try {
      const head = Buffer.alloc(16);
      fs.readSync(fd, head, 0, 16, 0);
      assert.deepEqual(head, data.subarray(0, 16));
    } finally {
      fs.closeSync(fd);
    }
    end();
    for (let i = 0; i < 100 && descriptorsOn(pid, '/tmp/local.bin').length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(descriptorsOn(pid, '/tmp/local.bin'), [], 'gantryd closed its descriptor');
  });

  it('names-and-types listings come from the directory itself; a directory holding a link is listed by gantryd (links resolve in the root)', async () => {
    const c = await running();
    const target = { container: c.id };
    await world.client.files.createDirectory(target, '/tmp/plain/sub', { parents: true });
    for (const name of ['a', 'b', 'c']) await world.client.files.writeFile(target, `/tmp/plain/${name}`, Buffer.from(name));
    const client = fresh();
    const readDirectory = breakMethod(client, 'readDirectory');
    const entries = await client.files.readDirectoryTypes(target, '/tmp/plain');
    assert.deepEqual(entries.map((e) => [e.name, e.type]).sort(), [
      ['a', FileType.FILE_TYPE_FILE],
      ['b', FileType.FILE_TYPE_FILE],
      ['c', FileType.FILE_TYPE_FILE],
      ['sub', FileType.FILE_TYPE_DIRECTORY],
    ]);
    assert.equal(readDirectory.calls, 0);
    // /bin of busybox is links to /bin/busybox: gantryd's listing, with where they lead.
    await assert.rejects(client.files.readDirectoryTypes(target, '/bin'), /readDirectory was called/);
    const bin = await fresh().files.readDirectoryTypes(target, '/bin');
    const sh = bin.find((e) => e.name === 'sh');
    assert.equal(sh?.type, FileType.FILE_TYPE_SYMLINK);
    assert.equal(sh?.targetType, FileType.FILE_TYPE_FILE);
  });

  it("a handle is used only if it is gantryd's and names what was opened", async () => {
    const c = await running();
    await world.client.files.writeFile({ container: c.id }, '/tmp/x', Buffer.from('x'));
    const { handle, end } = await handleOf(c.id, '/tmp/x');
    try {
      const refused = (h: LocalHandle, lasting: boolean) =>
        assert.throws(
          () => openLocalHandle(h, false),
          (e) => e instanceof LocalAccessUnavailable && e.lasting === lasting,
        );
      refused({ ...handle, bootId: '00000000-0000-0000-0000-000000000000' }, true); // another machine
      refused({ ...handle, startTime: '1' }, true); // another process with that pid
      refused({ ...handle, path: '/etc/passwd' }, true);
      refused({ ...handle, ino: String(BigInt(handle.ino) + 1n) }, false); // not the file gantryd opened
      refused({ ...handle, dev: '0' }, false);
      const fd = openLocalHandle(handle, false);
      fs.closeSync(fd);
      // Asked for a directory, a file's handle does not open.
      assert.throws(
        () => openLocalHandle(handle, true),
        (e) => e instanceof LocalAccessUnavailable,
      );
    } finally {
      end();
    }
  });

  it("another user, who may not open a root gantryd's descriptors, gets a lasting refusal", async function () {
    if (process.getuid?.() !== 0) this.skip();
    const c = await running();
    await world.client.files.writeFile({ container: c.id }, '/tmp/y', Buffer.from('y'), { mode: 0o644 });
    const { handle, end } = await handleOf(c.id, '/tmp/y');
    try {
      const module = path.resolve(__dirname, '../../../runtime/client/localFiles.js');
      const script =
        `const { openLocalHandle } = require(${JSON.stringify(module)});` +
        `try { openLocalHandle(JSON.parse(process.argv[1]), false); console.log('opened'); }` +
        `catch (e) { console.log(e.constructor.name, e.lasting); }`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, JSON.stringify(handle)], { uid: 65534, gid: 65534 });
      assert.equal(stdout.trim(), 'LocalAccessUnavailable true');
    } finally {
      end();
    }
  });

  it("a stopped container's tree (mounted for each call) is not offered; reads and listings of it work the ordinary way", async () => {
    const c = await world.client.containers.create('', { image: world.image, cmd: ['true'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    const target = { container: c.id };
    await assert.rejects(handleOf(c.id, '/etc/passwd'), (e) => kindOf(e) === 'FailedPrecondition');
    const client = fresh();
    const passwd = await client.files.readFile(target, '/etc/passwd');
    assert.match(passwd.data.toString(), /^root:/);
    assert.ok((await client.files.readDirectoryTypes(target, '/etc')).some((e) => e.name === 'passwd'));
  });
});
