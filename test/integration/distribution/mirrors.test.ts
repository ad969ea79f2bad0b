// Registry mirrors (docs/registries.md "Mirrors"): a gantryd whose registry
// config directory (certs.d layout) names real test registries as mirrors,
// each behind a fault proxy that records what reached it. docker.io and
// registry.k8s.io are unreachable here, so a pull of their names that
// succeeds was served by a mirror; the proxies say which.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { criClient, type CriClient } from '../../helpers/criClient';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { startFaultProxy, type FaultProxy } from '../../helpers/faultProxy';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { freePort } from '../../helpers/ports';
import { startRegistry, type Registry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A registry that has nothing: 404 for every /v2/ request but the base. */
async function emptyMirror(): Promise<{ host: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/' || req.url?.startsWith('/v2/?')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    res.writeHead(404, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { host: `127.0.0.1:${port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function writeHosts(dir: string, namespace: string, text: string): void {
  fs.mkdirSync(path.join(dir, namespace), { recursive: true });
  fs.writeFileSync(path.join(dir, namespace, 'hosts.toml'), text);
}

describe('registry mirrors (certs.d hosts.toml) for Docker-style and CRI pulls', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  let registry: Registry; // plain: holds library/busybox and pause
  let locked: Registry; // htpasswd: a mirror that needs its own login and lacks the image
  let mirror: FaultProxy; // → registry
  let lockedProxy: FaultProxy; // → locked
  let upstream: FaultProxy; // → registry, under a name of its own: a reachable "upstream"
  let empty: Awaited<ReturnType<typeof emptyMirror>>;
  let deadPort: number;
  let busybox: PushedImage;
  let pause: PushedImage;
  let configDir: string;
  let daemon: TestDaemon;
  let cri: CriClient;
  let clientEnv: NodeJS.ProcessEnv;

  before(async () => {
    [registry, locked] = await Promise.all([
      startRegistry({ cleanup }),
      startRegistry({ auth: 'htpasswd', users: { mirroruser: 'mirror-secret' }, cleanup }),
    ]);
    busybox = await pushBusybox(registry, 'library/busybox:latest', { format: 'oci' });
    pause = await pushBusybox(registry, 'pause:3.10', { format: 'v2s2', image: { user: '65535' } });
    mirror = await startFaultProxy(registry.port);
    lockedProxy = await startFaultProxy(locked.port);
    upstream = await startFaultProxy(registry.port);
    cleanup.defer(() => Promise.all([mirror.close(), lockedProxy.close(), upstream.close()]));
    empty = await emptyMirror();
    cleanup.defer(() => empty.close());
    deadPort = await freePort(); // nothing listens there

    configDir = await makeTempDir('certsd', cleanup);
    // docker.io: a mirror that wants a login (and lacks the image), then the good one.
    writeHosts(
      configDir,
      'docker.io',
      `[host."http://${lockedProxy.host}"]\n  capabilities = ["pull", "resolve"]\n\n[host."http://${mirror.host}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    // registry.k8s.io: one mirror down, one that 404s, then the good one.
    writeHosts(
      configDir,
      'registry.k8s.io',
      [
        `[host."http://127.0.0.1:${deadPort}"]`,
        `  capabilities = ["pull", "resolve"]`,
        `[host."http://${empty.host}"]`,
        `  capabilities = ["pull", "resolve"]`,
        `[host."http://${mirror.host}"]`,
        `  capabilities = ["pull", "resolve"]`,
        '',
      ].join('\n'),
    );
    // A reachable upstream with a mirror: pulls go to the mirror, pushes to the upstream.
    writeHosts(
      configDir,
      upstream.host,
      `server = "http://${upstream.host}"\n[host."http://${mirror.host}"]\n  capabilities = ["pull", "resolve"]\n`,
    );

    // The daemon user's login: for the locked mirror only.
    const daemonConfig = await makeTempDir('dcfg', cleanup);
    fs.writeFileSync(
      path.join(daemonConfig, 'config.json'),
      JSON.stringify({ auths: { [lockedProxy.host]: { auth: Buffer.from('mirroruser:mirror-secret').toString('base64') } } }),
    );
    // The CLI user's login: for Docker Hub, which must never reach a mirror.
    const clientConfig = await makeTempDir('dcfg', cleanup);
    fs.writeFileSync(
      path.join(clientConfig, 'config.json'),
      JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub-secret').toString('base64') } } }),
    );
    clientEnv = { ...process.env, DOCKER_CONFIG: clientConfig };

    daemon = await startDaemon(cleanup, ['--registry-config-dir', configDir], { env: { ...process.env, DOCKER_CONFIG: daemonConfig } });
    cri = criClient(path.join(daemon.state, 'cri.sock'));
    cleanup.defer(() => cri.close());
  });

  const requestsFor = (proxy: FaultProxy, repo: string) => proxy.requests.filter((r) => r.path.startsWith(`/v2/${repo}/`));

  it('gantry pull busybox is served by the docker.io mirror and keeps its name', async () => {
    const pulled = await daemon.cli(['pull', 'busybox'], { env: clientEnv });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, new RegExp(`Digest: ${busybox.manifestDigest}`));

    const served = requestsFor(mirror, 'library/busybox');
    assert.ok(
      served.some((r) => r.method === 'GET' && r.path.includes('/blobs/')),
      'the mirror served the blobs',
    );
    assert.ok(
      served.every((r) => r.path.endsWith('?ns=docker.io')),
      'each request names the upstream as ns',
    );

    const ls = await daemon.cli(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^busybox:latest /m, 'listed under its own name');
    assert.doesNotMatch(ls.stdout, /127\.0\.0\.1/, 'not under the mirror host');
  });

  it("sends the mirror the daemon user's login for it, never the client's Docker Hub login, and nothing to the next mirror", async () => {
    const locked = requestsFor(lockedProxy, 'library/busybox');
    assert.ok(locked.length > 0, 'the first mirror was asked');
    assert.ok(
      locked.some((r) => r.authorization === basic('mirroruser', 'mirror-secret')),
      `the locked mirror got its own login: ${JSON.stringify(locked)}`,
    );
    const everywhere = [...lockedProxy.requests, ...mirror.requests, ...upstream.requests];
    assert.ok(!everywhere.some((r) => r.authorization === basic('hubuser', 'hub-secret')), 'the Docker Hub login went nowhere');
    assert.ok(!mirror.requests.some((r) => r.authorization !== undefined), "the locked mirror's login did not reach the other mirror");
  });

  it('a CRI PullImage of registry.k8s.io/pause:3.10 falls past a dead and an empty mirror and keeps its name', async () => {
    const before = requestsFor(mirror, 'pause').length;
    const pulled = await cri.images.pullImage({ image: { image: 'registry.k8s.io/pause:3.10' } });
    assert.equal(pulled.imageRef, pause.configDigest);
    assert.ok(
      empty.hits.some((h) => h.startsWith('HEAD /v2/pause/manifests/3.10') || h.startsWith('GET /v2/pause/manifests/3.10')),
      'the empty mirror was asked',
    );
    assert.ok(requestsFor(mirror, 'pause').length > before, 'the good mirror served it');

    const listed = (await cri.images.listImages({})).images.find((i) => i.id === pause.configDigest);
    assert.ok(listed, 'listed');
    assert.deepEqual(listed.repoTags, ['registry.k8s.io/pause:3.10']);
    assert.ok(
      listed.repoDigests.every((d) => d.startsWith('registry.k8s.io/pause@')),
      JSON.stringify(listed.repoDigests),
    );
  });

  it('pulls an upstream name from its mirror, and pushes it to the upstream only', async () => {
    const name = `${upstream.host}/library/busybox`;
    const pulled = await daemon.cli(['pull', `${name}:latest`], { env: clientEnv });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok(!upstream.requests.some((r) => r.path.includes('/manifests/') || r.path.includes('/blobs/')), 'the upstream served nothing');

    const pushesBefore = mirror.requests.length;
    assert.equal((await daemon.cli(['tag', `${name}:latest`, `${name}:pushed`])).code, 0);
    const pushed = await daemon.cli(['push', `${name}:pushed`], { env: clientEnv });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.ok(
      upstream.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/v2/library/busybox/manifests/pushed')),
      'the manifest went to the upstream',
    );
    const toMirror = mirror.requests.slice(pushesBefore).filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    assert.deepEqual(toMirror, [], 'nothing was pushed to the mirror');
  });

  it('refuses a pull with a malformed hosts.toml, naming the file and the line', async () => {
    writeHosts(configDir, 'quay.io', `[host."http://${mirror.host}"]\n  capabilities = ["pull"]\n  skip_verfy = true\n`);
    const pulled = await daemon.cli(['pull', 'quay.io/x/y:1'], { env: clientEnv });
    assert.equal(pulled.code, 1, pulled.stdout);
    assert.match(pulled.stderr, /quay\.io\/hosts\.toml:3: unknown key "skip_verfy"/);
  });
});
