// Docker config.json credentials: file entries in every spelling Docker
// writes, credential helpers (a fake docker-credential-* written here that
// speaks the real protocol), and atomic 0600 rewrites that keep other keys.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isFailedPrecondition, isInvalidArgument, kindOf } from '../../../runtime/errdefs/errdefs';
import {
  credentialLookup,
  CredentialStoreOptions,
  dockerConfigPath,
  getCredentials,
  removeCredentials,
  storeCredentials,
} from '../../../runtime/distribution/credentials';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const b64 = (s: string) => Buffer.from(s).toString('base64');

// Speaks the docker-credential-helpers protocol over a JSON file beside it, and logs every call.
const FAKE_HELPER = `
const fs = require('fs'), path = require('path');
const db = path.join(__dirname, 'store.json'), log = path.join(__dirname, 'calls.log');
const data = fs.existsSync(db) ? JSON.parse(fs.readFileSync(db, 'utf8')) : {};
const action = process.argv[2];
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  fs.appendFileSync(log, JSON.stringify({ action, input }) + '\\n');
  const missing = () => { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); };
  if (action === 'get') {
    const e = data[input.trim()];
    if (!e) missing();
    process.stdout.write(JSON.stringify({ ServerURL: input.trim(), ...e }));
  } else if (action === 'store') {
    const c = JSON.parse(input);
    data[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
    fs.writeFileSync(db, JSON.stringify(data));
  } else if (action === 'erase') {
    if (!data[input.trim()]) missing();
    delete data[input.trim()];
    fs.writeFileSync(db, JSON.stringify(data));
  } else process.exit(2);
});
`;

describe('distribution/credentials', () => {
  const cleanup = suiteCleanup();
  let dir: string;
  let bin: string;
  let opts: CredentialStoreOptions;
  const configFile = () => path.join(dir, 'config.json');
  const writeConfig = (doc: unknown) => fs.writeFileSync(configFile(), JSON.stringify(doc));
  const readConfig = () => JSON.parse(fs.readFileSync(configFile(), 'utf8'));
  const helperCalls = () =>
    fs.existsSync(path.join(bin, 'calls.log'))
      ? fs
          .readFileSync(path.join(bin, 'calls.log'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { action: string; input: string })
      : [];
  const seedHelper = (data: Record<string, { Username: string; Secret: string }>) =>
    fs.writeFileSync(path.join(bin, 'store.json'), JSON.stringify(data));

  beforeEach(async () => {
    dir = await makeTempDir('gcred', cleanup);
    bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const helper = path.join(bin, 'docker-credential-fake');
    fs.writeFileSync(helper, `#!${process.execPath}\n${FAKE_HELPER}`, { mode: 0o755 });
    opts = { env: { DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH}` } };
  });

  it('finds the config via DOCKER_CONFIG, else ~/.docker', () => {
    assert.equal(dockerConfigPath({ env: { DOCKER_CONFIG: '/x/y' } }), '/x/y/config.json');
    assert.equal(dockerConfigPath({ env: { HOME: '/home/u' } }), '/home/u/.docker/config.json');
    assert.equal(dockerConfigPath({ configPath: '/a.json', env: { DOCKER_CONFIG: '/x' } }), '/a.json');
  });

  it('no file, no entry → anonymous', async () => {
    assert.equal(await getCredentials('ghcr.io', opts), undefined);
    writeConfig({ auths: { 'quay.io': { auth: b64('a:b') } } });
    assert.equal(await getCredentials('ghcr.io', opts), undefined);
  });

  it('reads auths in every form Docker writes', async () => {
    writeConfig({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'https://ghcr.io': { username: 'gh', password: 'ghp' },
        'http://127.0.0.1:5000/v2/': { auth: b64('local:pw') },
        'id.example.com': { identitytoken: 'refresh' },
        'rt.example.com': { registrytoken: 'bearer-as-is' },
      },
    });
    const hub = { username: 'hubuser', password: 'hub:pass' };
    for (const h of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/']) {
      assert.deepEqual(await getCredentials(h, opts), hub, h);
    }
    assert.deepEqual(await getCredentials('ghcr.io', opts), { username: 'gh', password: 'ghp' });
    assert.deepEqual(await getCredentials('127.0.0.1:5000', opts), { username: 'local', password: 'pw' });
    assert.deepEqual(await getCredentials('id.example.com', opts), { identityToken: 'refresh' });
    assert.deepEqual(await getCredentials('rt.example.com', opts), { registryToken: 'bearer-as-is' });
    assert.deepEqual(await credentialLookup(opts)('ghcr.io'), { username: 'gh', password: 'ghp' });
  });

  it('rejects a malformed file or auth entry with InvalidArgument', async () => {
    fs.writeFileSync(configFile(), '{ not json');
    await assert.rejects(getCredentials('ghcr.io', opts), (e: Error) => isInvalidArgument(e) && e.message.includes(configFile()));
    writeConfig({ auths: { 'ghcr.io': { auth: b64('no-colon') } } });
    await assert.rejects(getCredentials('ghcr.io', opts), (e: Error) => isInvalidArgument(e));
  });

  it('stores into auths atomically with mode 0600, keeping other keys', async () => {
    writeConfig({
      auths: { 'quay.io': { auth: b64('q:q') }, 'https://ghcr.io/': { auth: b64('old:old') } },
      proxies: { default: { httpProxy: 'http://p' } },
      currentContext: 'x',
    });
    fs.chmodSync(configFile(), 0o644);
    await storeCredentials('ghcr.io', { username: 'new', password: 'secret' }, opts);
    const doc = readConfig();
    assert.deepEqual(doc.auths, { 'quay.io': { auth: b64('q:q') }, 'ghcr.io': { auth: b64('new:secret') } });
    assert.deepEqual(doc.proxies, { default: { httpProxy: 'http://p' } });
    assert.equal(doc.currentContext, 'x');
    assert.equal(fs.statSync(configFile()).mode & 0o777, 0o600);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    assert.deepEqual(await getCredentials('ghcr.io', opts), { username: 'new', password: 'secret' });

    await storeCredentials('docker.io', { username: 'me', password: 'pw' }, opts);
    assert.deepEqual(readConfig().auths['https://index.docker.io/v1/'], { auth: b64('me:pw') });
  });

  it('creates the directory and file when missing', async () => {
    const nested = path.join(dir, 'new', 'config.json');
    await storeCredentials('127.0.0.1:5000', { username: 'u', password: 'p' }, { ...opts, configPath: nested });
    assert.equal(fs.statSync(nested).mode & 0o777, 0o600);
    assert.deepEqual(await getCredentials('127.0.0.1:5000', { ...opts, configPath: nested }), { username: 'u', password: 'p' });
  });

  it('writes through a symlinked config.json', async () => {
    const real = path.join(dir, 'real.json');
    fs.writeFileSync(real, JSON.stringify({ keep: 1 }));
    fs.symlinkSync(real, configFile());
    await storeCredentials('ghcr.io', { username: 'u', password: 'p' }, opts);
    assert.ok(fs.lstatSync(configFile()).isSymbolicLink());
    assert.equal(JSON.parse(fs.readFileSync(real, 'utf8')).keep, 1);
  });

  it('removes every spelling of a host; false when there was nothing', async () => {
    writeConfig({
      auths: { 'ghcr.io': { auth: b64('a:b') }, 'https://ghcr.io': { auth: b64('c:d') }, 'quay.io': { auth: b64('q:q') } },
      other: true,
    });
    assert.equal(await removeCredentials('ghcr.io', opts), true);
    assert.deepEqual(readConfig(), { auths: { 'quay.io': { auth: b64('q:q') } }, other: true });
    assert.equal(await removeCredentials('ghcr.io', opts), false);
    assert.equal(await removeCredentials('nowhere.example', { ...opts, configPath: path.join(dir, 'none.json') }), false);
  });

  describe('credential helpers', () => {
    it('credHelpers[host] is asked with the host; "<token>" means an identity token', async () => {
      writeConfig({ credHelpers: { 'ghcr.io': 'fake', 'tok.example.com': 'fake' } });
      seedHelper({ 'ghcr.io': { Username: 'gh', Secret: 's3cret' }, 'tok.example.com': { Username: '<token>', Secret: 'refresh' } });
      assert.deepEqual(await getCredentials('ghcr.io', opts), { username: 'gh', password: 's3cret' });
      assert.deepEqual(await getCredentials('tok.example.com', opts), { identityToken: 'refresh' });
      assert.deepEqual(helperCalls(), [
        { action: 'get', input: 'ghcr.io' },
        { action: 'get', input: 'tok.example.com' },
      ]);
    });

    it('credsStore serves Docker Hub under https://index.docker.io/v1/; not found falls back to auths', async () => {
      writeConfig({ credsStore: 'fake', auths: { 'quay.io': { auth: b64('q:w') } } });
      seedHelper({ 'https://index.docker.io/v1/': { Username: 'hub', Secret: 'pw' } });
      assert.deepEqual(await getCredentials('docker.io', opts), { username: 'hub', password: 'pw' });
      assert.deepEqual(await getCredentials('quay.io', opts), { username: 'q', password: 'w' });
      assert.equal(await getCredentials('ghcr.io', opts), undefined);
      assert.deepEqual(
        helperCalls().map((c) => c.input),
        ['https://index.docker.io/v1/', 'quay.io', 'ghcr.io'],
      );
    });

    it('store and erase go through the helper, leaving an empty auths entry as Docker does', async () => {
      writeConfig({ credsStore: 'fake', auths: { 'ghcr.io': { auth: b64('stale:stale') } } });
      await storeCredentials('ghcr.io', { username: 'u', password: 'p' }, opts);
      assert.deepEqual(readConfig(), { credsStore: 'fake', auths: { 'ghcr.io': {} } });
      assert.deepEqual(JSON.parse(helperCalls()[0].input), { ServerURL: 'ghcr.io', Username: 'u', Secret: 'p' });
      assert.deepEqual(await getCredentials('ghcr.io', opts), { username: 'u', password: 'p' });

      await storeCredentials('id.example.com', { identityToken: 'rt' }, opts);
      assert.deepEqual(await getCredentials('id.example.com', opts), { identityToken: 'rt' });

      assert.equal(await removeCredentials('ghcr.io', opts), true);
      assert.equal(readConfig().auths['ghcr.io'], undefined);
      assert.equal(await getCredentials('ghcr.io', opts), undefined);
      assert.equal(await removeCredentials('ghcr.io', opts), false);
    });

    it('a configured helper that is not installed is FailedPrecondition', async () => {
      writeConfig({ credHelpers: { 'ghcr.io': 'missing' } });
      await assert.rejects(getCredentials('ghcr.io', opts), (e: Error) => {
        assert.ok(isFailedPrecondition(e));
        assert.match(e.message, /docker-credential-missing/);
        return true;
      });
    });

    it('a helper that never answers is killed: DeadlineExceeded', async () => {
      fs.writeFileSync(path.join(bin, 'docker-credential-hang'), `#!${process.execPath}\nsetInterval(() => undefined, 1000);\n`, {
        mode: 0o755,
      });
      writeConfig({ credsStore: 'hang' });
      await assert.rejects(getCredentials('ghcr.io', { ...opts, timeoutMs: 300 }), (e: Error) => kindOf(e) === 'DeadlineExceeded');
    });

    it('refuses helper names that would be paths', async () => {
      writeConfig({ credsStore: '../../bin/sh' });
      await assert.rejects(getCredentials('ghcr.io', opts), (e: Error) => isInvalidArgument(e));
    });
  });
});
