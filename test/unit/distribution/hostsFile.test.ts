// hosts.toml (containerd's certs.d layout): every key, the errors with their
// lines, the order of endpoints a registry gets, and the fetcher going
// through them by capability against local fake registries.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isInvalidArgument, kindOf } from '../../../runtime/errdefs/errdefs';
import type { Registry } from '../../../runtime/distribution/distribution';
import { parseHostsFile, parseDuration } from '../../../runtime/distribution/hostsFile';
import { parseReference } from '../../../runtime/distribution/reference';
import { createRegistry } from '../../../runtime/distribution/registry';
import { dockerMirror, hostDirNames, RegistryHosts } from '../../../runtime/distribution/registryHosts';
import { MediaTypes } from '../../../runtime/oci/descriptor';
import { FakeServer, json, startFakeServer } from './fakeServer';

const FILE = '/etc/gantry/certs.d/docker.io/hosts.toml';

function refusal(text: string): string {
  try {
    parseHostsFile(FILE, text);
  } catch (e) {
    assert.ok(isInvalidArgument(e), String(e));
    return (e as Error).message;
  }
  assert.fail('accepted');
}

describe('distribution/hostsFile (hosts.toml)', () => {
  it('reads every key of the server and of each host, hosts in file order', () => {
    const f = parseHostsFile(
      FILE,
      [
        'server = "https://registry-1.docker.io"',
        'capabilities = ["pull", "resolve", "push"]',
        'ca = "up.pem"',
        'dial_timeout = "2s"',
        '[header]',
        '  x-up = "1"',
        '',
        '[host."https://b.example:5000/prefix"]',
        '  capabilities = ["pull"]',
        '  ca = ["/abs/ca1.pem", "rel/ca2.pem"]',
        '  client = [["c.cert", "c.key"], ["both.pem", ""]]',
        '  skip_verify = true',
        '  override_path = true',
        '  dial_timeout = "500ms"',
        '  [host."https://b.example:5000/prefix".header]',
        '    x-one = "a"',
        '    X-Two = ["b", "c"]',
        '',
        '[host."http://a.example"]',
        '[host."c.example"]',
        '  client = "client.pem"',
      ].join('\n'),
    );
    assert.equal(f.server?.url.toString(), 'https://registry-1.docker.io/');
    assert.deepEqual([...f.server.capabilities], ['pull', 'resolve', 'push']);
    assert.deepEqual(f.server.ca, ['/etc/gantry/certs.d/docker.io/up.pem']);
    assert.equal(f.server.dialTimeoutMs, 2000);
    assert.deepEqual(f.server.headers, { 'x-up': ['1'] });

    assert.deepEqual(
      f.hosts.map((h) => h.url.toString()),
      ['https://b.example:5000/prefix', 'http://a.example/', 'https://c.example/'],
      'file order; no scheme means https',
    );
    const [b, a, c] = f.hosts;
    assert.deepEqual([...b.capabilities], ['pull']);
    assert.deepEqual(b.ca, ['/abs/ca1.pem', '/etc/gantry/certs.d/docker.io/rel/ca2.pem']);
    assert.deepEqual(b.client, [
      { cert: '/etc/gantry/certs.d/docker.io/c.cert', key: '/etc/gantry/certs.d/docker.io/c.key' },
      { cert: '/etc/gantry/certs.d/docker.io/both.pem', key: '' },
    ]);
    assert.equal(b.skipVerify, true);
    assert.equal(b.overridePath, true);
    assert.equal(b.dialTimeoutMs, 500);
    assert.deepEqual(b.headers, { 'x-one': ['a'], 'x-two': ['b', 'c'] });
    assert.deepEqual([...a.capabilities].sort(), ['pull', 'resolve'], 'a host without capabilities may pull and resolve, never push');
    assert.equal(a.skipVerify, false);
    assert.deepEqual(c.client, [{ cert: '/etc/gantry/certs.d/docker.io/client.pem', key: '' }]);
  });

  it('without server, the upstream keeps every capability unless the top level says otherwise', () => {
    assert.equal(parseHostsFile(FILE, '').server, undefined);
    assert.deepEqual([...parseHostsFile(FILE, '').serverDefaults.capabilities], ['pull', 'resolve', 'push']);
    assert.deepEqual([...parseHostsFile(FILE, 'capabilities = ["pull"]').serverDefaults.capabilities], ['pull']);
  });

  it('refuses bad files with the file, the line and the reason', () => {
    assert.match(refusal('server = "https://x"\n\n[host."https://m"\n'), /^\/etc\/gantry\/certs\.d\/docker\.io\/hosts\.toml:3:\d+: /);
    assert.match(refusal('server = "https://x"\nmirrors = ["a"]\n'), /hosts\.toml:2: unknown key "mirrors"/);
    assert.match(
      refusal('[host."https://m"]\n  capabilities = ["pull"]\n  skip_verfy = true\n'),
      /hosts\.toml:3: unknown key "skip_verfy" in \[host\."https:\/\/m"\]/,
    );
    assert.match(refusal('\n[host."https://m"]\ncapabilities = ["pull", "fetch"]\n'), /hosts\.toml:3: unknown capability "fetch"/);
    assert.match(refusal('server = 5\n'), /hosts\.toml:1: "server" must be a string, not integer/);
    assert.match(refusal('[host."https://m"]\nskip_verify = "yes"\n'), /hosts\.toml:2: "skip_verify" must be true or false, not string/);
    assert.match(refusal('[host."https://m"]\n\n\nca = 1\n'), /hosts\.toml:4: "ca" must be a path or an array of paths/);
    assert.match(refusal('[host."https://m"]\nclient = [["a", "b", "c"]]\n'), /hosts\.toml:2: "client" entries must be/);
    assert.match(refusal('[host."https://m"]\ndial_timeout = "soon"\n'), /hosts\.toml:2: "dial_timeout" must be a duration/);
    assert.match(refusal('[host."ftp://m"]\n'), /hosts\.toml:1: host URL "ftp:\/\/m" must be http/);
    assert.match(refusal('[host."https://m?x=1"]\n'), /hosts\.toml:1: .*nothing else/);
    assert.match(refusal('proxy = "http://p:8080"\n'), /hosts\.toml:1: "proxy" is not supported/);
    assert.match(refusal('[host."https://m"]\n  [host."https://m".header]\n  x = 1\n'), /hosts\.toml:3: header "x" must be a string/);
    assert.match(refusal('[host."https://m"]\nserver = "https://n"\n'), /hosts\.toml:2: "server" is not allowed inside/);
  });

  it('parses Go-style durations of one unit', () => {
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0s'), undefined);
    assert.equal(parseDuration('5'), undefined);
  });
});

describe('distribution/registryHosts (endpoint order)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certsd-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (ns: string, text: string) => {
    fs.mkdirSync(path.join(dir, ns), { recursive: true });
    fs.writeFileSync(path.join(dir, ns, 'hosts.toml'), text);
  };

  it('looks in host_port_, host:port, then _default', () => {
    assert.deepEqual(hostDirNames('r.example:5000'), ['r.example_5000_', 'r.example:5000', '_default']);
    assert.deepEqual(hostDirNames('docker.io'), ['docker.io', '_default']);
  });

  it('Docker mirrors, then hosts in order, then the upstream; mirrors flagged', async () => {
    write('docker.io', '[host."http://m1:5000"]\n[host."https://m2/cache"]\n  capabilities = ["pull"]\n');
    const hosts = new RegistryHosts({ configDir: dir, dockerMirrors: ['https://hub-mirror.example'] });
    const eps = await hosts.endpoints('docker.io');
    assert.deepEqual(
      eps.map((e) => [e.origin ?? `(probe) ${e.host}`, e.apiRoot, [...e.capabilities].sort().join(','), e.mirror]),
      [
        ['https://hub-mirror.example', '/v2', 'pull,resolve', true],
        ['http://m1:5000', '/v2', 'pull,resolve', true],
        ['https://m2', '/cache/v2', 'pull', true],
        ['(probe) registry-1.docker.io', '/v2', 'pull,push,resolve', false],
      ],
    );
  });

  it('a server replaces the upstream; _default serves registries without their own file', async () => {
    write('_default', 'server = "http://cache.local:5000"\n');
    write('quay.io', '[host."https://m"]\n  override_path = true\n');
    const hosts = new RegistryHosts({ configDir: dir });
    const eps = await hosts.endpoints('registry.k8s.io');
    assert.deepEqual(
      eps.map((e) => [e.origin, e.host, e.mirror]),
      [['http://cache.local:5000', 'cache.local:5000', true]],
      'no fallback to registry.k8s.io itself',
    );
    const quay = await hosts.endpoints('quay.io');
    assert.deepEqual(
      quay.map((e) => [e.host, e.apiRoot]),
      [
        ['m', ''],
        ['quay.io', '/v2'],
      ],
    );
  });

  it('no file: the registry itself, as without mirrors', async () => {
    const eps = await new RegistryHosts({ configDir: dir }).endpoints('127.0.0.1:5000');
    assert.deepEqual(
      eps.map((e) => [e.host, e.origin, e.mirror]),
      [['127.0.0.1:5000', undefined, false]],
    );
  });

  it('refuses a bad Docker mirror URL', () => {
    assert.throws(() => dockerMirror('ftp://x'), /invalid registry mirror/);
    assert.equal(dockerMirror('mirror.example:5000').origin, 'https://mirror.example:5000');
  });
});

describe('distribution/fetcher through mirrors (local fake registries)', () => {
  const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const ctx = () => ({ signal: new AbortController().signal });
  const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: {}, layers: [] }));
  const BLOB = Buffer.from('blob bytes');
  const servers: FakeServer[] = [];
  let registry: Registry | undefined;
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certsd-'))));
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
    await Promise.all(servers.splice(0).map((s) => s.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** A registry holding MANIFEST as a/b:1 and BLOB. */
  const full = async () => {
    const s = await startFakeServer((req, res) => {
      const url = req.url ?? '';
      if (url.includes('/manifests/')) {
        res.writeHead(200, {
          'content-type': MediaTypes.ociManifest,
          'docker-content-digest': sha256(MANIFEST),
          'content-length': MANIFEST.length,
        });
        res.end(req.method === 'HEAD' ? undefined : MANIFEST);
      } else if (url.includes('/blobs/')) res.writeHead(200, { 'content-length': BLOB.length }).end(BLOB);
      else json(res, 404, { errors: [{ code: 'NAME_UNKNOWN' }] });
    });
    servers.push(s);
    return s;
  };
  const setup = (ns: string, toml: string, creds?: Record<string, { username: string; password: string }>) => {
    fs.mkdirSync(path.join(dir, ns), { recursive: true });
    fs.writeFileSync(path.join(dir, ns, 'hosts.toml'), toml);
    registry = createRegistry(
      { certsDir: dir, maxRetries: 1, registryConfigDir: dir, mirrorCredentials: (h) => creds?.[h] },
      { backoff: { baseMs: 5, maxMs: 10 } },
    );
    return registry;
  };

  it('resolves a tag only on hosts that may resolve; fetches by digest from a pull-only mirror', async () => {
    const [pullOnly, upstream] = [await full(), await full()];
    const r = setup(upstream.host, `[host."http://${pullOnly.host}"]\n  capabilities = ["pull"]\n`);
    const f = r.fetcher(() => ({ username: 'up', password: 'secret' }));
    const ref = parseReference(`${upstream.host}/a/b:1`);
    const desc = await f.resolve(ctx(), ref);
    assert.equal(desc.digest, sha256(MANIFEST));
    assert.ok(!pullOnly.requests.some((q) => q.url?.includes('/manifests/1')), 'the pull-only mirror never named the digest');
    // A new fetcher (a new pull) starts with the first host again; within one, the host that answered comes first.
    await r.fetcher().fetchManifest(ctx(), ref, desc);
    assert.ok(pullOnly.requests.some((q) => q.url === `/v2/a/b/manifests/${desc.digest}?ns=${encodeURIComponent(upstream.host)}`));
  });

  it('a host with no capability for the operation leaves none to try: FailedPrecondition', async () => {
    const up = await full();
    const r = setup(up.host, `server = "http://${up.host}"\ncapabilities = ["push"]\n`);
    await assert.rejects(r.fetcher().resolve(ctx(), parseReference(`${up.host}/a/b:1`)), (e) => kindOf(e) === 'FailedPrecondition');
  });

  it("a mirror gets the daemon's login for its own host, the upstream the caller's", async () => {
    const up = await full();
    const mirror = await startFakeServer((_req, res) => json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] }));
    servers.push(mirror);
    const r = setup(up.host, `[host."http://${mirror.host}"]\n`, { [mirror.host]: { username: 'm', password: 'mirror-pw' } });
    await r.fetcher(() => ({ registryToken: 'caller-token' })).resolve(ctx(), parseReference(`${up.host}/a/b:1`));
    assert.ok(mirror.requests.length > 0);
    assert.ok(
      mirror.requests.every((q) => q.headers.authorization !== 'Bearer caller-token'),
      'no caller token at the mirror',
    );
    assert.ok(
      up.requests.some((q) => q.headers.authorization === 'Bearer caller-token'),
      'the caller token at the upstream',
    );
  });
});
