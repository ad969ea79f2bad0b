import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HandlerAdapter } from '../../../runtime/api/server';
import { credentialsOf, registryAuthOf, serverHost } from '../../../runtime/cri/auth';
import type { CriDeps } from '../../../runtime/cri/cri';
import { treeUsage } from '../../../runtime/cri/fsUsage';
import { ImageServiceService, RuntimeServiceService } from '../../../runtime/cri/gen/runtime/v1/api';
import { userOf } from '../../../runtime/cri/images';
import { criServices } from '../../../runtime/cri/server';
import { MISSING } from '../../../runtime/cri/unimplemented';
import { createLogger } from '../../../runtime/util/log';

const log = createLogger('error');

describe('cri/server', () => {
  it('has a handler for every RPC of both services; the runtime info, sandbox and container RPCs are served among RuntimeService', () => {
    const [runtime, images] = criServices(new HandlerAdapter(log), {
      log,
      runtime: {} as CriDeps['runtime'],
      images: {} as CriDeps['images'],
    });
    for (const key of Object.keys(RuntimeServiceService)) assert.equal(typeof runtime.implementation[key], 'function', key);
    for (const key of Object.keys(ImageServiceService)) assert.equal(typeof images.implementation[key], 'function', key);
    const served = Object.keys(RuntimeServiceService).filter((k) => !(k[0].toUpperCase() + k.slice(1) in MISSING));
    assert.deepEqual(served.sort(), [
      'attach',
      'containerStats',
      'containerStatus',
      'createContainer',
      'exec',
      'execSync',
      'getContainerEvents',
      'listContainerStats',
      'listContainers',
      'listPodSandbox',
      'listPodSandboxStats',
      'podSandboxStats',
      'podSandboxStatus',
      'portForward',
      'removeContainer',
      'removePodSandbox',
      'reopenContainerLog',
      'runPodSandbox',
      'runtimeConfig',
      'startContainer',
      'status',
      'stopContainer',
      'stopPodSandbox',
      'updateContainerResources',
      'updateRuntimeConfig',
      'version',
    ]);
  });
});

describe('cri/auth', () => {
  it('reads username/password, base64 auth and tokens', () => {
    assert.deepEqual(registryAuthOf({ username: 'u', password: 'p', auth: '', serverAddress: '', identityToken: '', registryToken: '' }), {
      username: 'u',
      password: 'p',
    });
    const auth = Buffer.from('alice:s3:cret').toString('base64');
    assert.deepEqual(registryAuthOf({ username: '', password: '', auth, serverAddress: '', identityToken: '', registryToken: '' }), {
      username: 'alice',
      password: 's3:cret',
    });
    assert.deepEqual(
      registryAuthOf({ username: '', password: '', auth: '', serverAddress: '', identityToken: 'idt', registryToken: 'rt' }),
      { identityToken: 'idt', registryToken: 'rt' },
    );
    assert.equal(
      registryAuthOf({ username: '', password: '', auth: '', serverAddress: 'x', identityToken: '', registryToken: '' }),
      undefined,
    );
    assert.throws(
      () =>
        registryAuthOf({
          username: '',
          password: '',
          auth: Buffer.from('nocolon').toString('base64'),
          serverAddress: '',
          identityToken: '',
          registryToken: '',
        }),
      /not base64 of "username:password"/,
    );
  });

  it('serves credentials only to the registry server_address names', async () => {
    assert.equal(serverHost('https://R.example:5000/v2/'), 'r.example:5000');
    assert.equal(serverHost('127.0.0.1:5000'), '127.0.0.1:5000');
    const base = { username: 'u', password: 'p', auth: '', identityToken: '', registryToken: '' };
    const scoped = credentialsOf({ ...base, serverAddress: '127.0.0.1:5000' })!;
    assert.deepEqual(await scoped('127.0.0.1:5000'), { username: 'u', password: 'p' });
    assert.equal(await scoped('127.0.0.1:5001'), undefined);
    const hub = credentialsOf({ ...base, serverAddress: 'https://index.docker.io/v1/' })!;
    assert.ok(await hub('docker.io'), "Docker Hub's names are one registry");
    const any = credentialsOf({ ...base, serverAddress: '' })!;
    assert.ok(await any('anything.example'));
    assert.equal(credentialsOf(undefined), undefined);
  });
});

describe('cri/images userOf', () => {
  it('gives a numeric USER as uid and a name as username, ignoring the group', () => {
    assert.deepEqual(userOf('1000'), { uid: 1000, username: '' });
    assert.deepEqual(userOf('1000:50'), { uid: 1000, username: '' });
    assert.deepEqual(userOf('nobody:nogroup'), { username: 'nobody' });
    assert.deepEqual(userOf(''), { username: '' });
    assert.deepEqual(userOf(undefined), { username: '' });
  });
});

describe('cri/fsUsage', () => {
  it('counts allocated blocks and inodes once per inode (hard links), like du', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crifs-'));
    try {
      fs.mkdirSync(path.join(dir, 'a'));
      fs.writeFileSync(path.join(dir, 'a', 'f'), Buffer.alloc(64 * 1024, 1));
      fs.linkSync(path.join(dir, 'a', 'f'), path.join(dir, 'a', 'g'));
      fs.symlinkSync('f', path.join(dir, 'a', 'l'));
      const usage = await treeUsage([dir, path.join(dir, 'a')]);
      assert.equal(usage.inodesUsed, 4, 'dir, a, f (= g), l');
      const blocks = [dir, path.join(dir, 'a'), path.join(dir, 'a', 'f'), path.join(dir, 'a', 'l')]
        .map((p) => fs.lstatSync(p).blocks * 512)
        .reduce((a, b) => a + b, 0);
      assert.equal(usage.usedBytes, blocks);
      assert.deepEqual(await treeUsage([path.join(dir, 'absent')]), { usedBytes: 0, inodesUsed: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
