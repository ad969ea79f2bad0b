// TLS registries: trust comes from <certsDir>/<host:port>/ca.crt (Docker's
// certs.d layout); without it the failure is a clear Unavailable that says
// where the CA belongs, and a TLS loopback registry is never downgraded to
// plain HTTP. --insecure-registry hosts skip verification, as in Docker.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Registry } from '../../../runtime/distribution/distribution';
import { parseReference } from '../../../runtime/distribution/reference';
import { createRegistry } from '../../../runtime/distribution/registry';
import { isUnavailable } from '../../../runtime/errdefs/errdefs';
import { pushBusybox, PushedImage } from '../../helpers/fixtures';
import { Registry as TestRegistry, startRegistry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const ctx = () => ({ signal: new AbortController().signal });

describe('distribution: TLS registries and certs.d', () => {
  const cleanup = suiteCleanup();
  let reg: TestRegistry;
  let pushed: PushedImage;
  let emptyCerts: string;

  const open = (opts: Parameters<typeof createRegistry>[0]): Registry => {
    const r = createRegistry({ maxRetries: 1, ...opts });
    cleanup.defer(() => r.close());
    return r;
  };
  const certsDirWithCa = async (host: string, caPath: string): Promise<string> => {
    const certsDir = path.join(await makeTempDir('gtls', cleanup), 'certs.d');
    fs.mkdirSync(path.join(certsDir, host), { recursive: true });
    fs.copyFileSync(caPath, path.join(certsDir, host, 'ca.crt'));
    return certsDir;
  };

  before(async () => {
    reg = await startRegistry({ tls: true, cleanup });
    pushed = await pushBusybox(reg, 'tls/busybox:1');
    emptyCerts = path.join(await makeTempDir('gtls', cleanup), 'certs.d');
  });

  it('trusts the registry with certs.d/<host:port>/ca.crt', async () => {
    const r = open({ certsDir: await certsDirWithCa(reg.host, reg.caPath!) });
    const f = r.fetcher();
    const desc = await f.resolve(ctx(), parseReference(pushed.ref));
    assert.equal(desc.digest, pushed.manifestDigest);
    assert.equal((await f.fetchManifest(ctx(), parseReference(pushed.ref), desc)).toString(), pushed.manifestRaw);
  });

  it('without the CA: Unavailable naming certs.d, not a downgrade to HTTP', async () => {
    const r = open({ certsDir: emptyCerts });
    await assert.rejects(r.fetcher().resolve(ctx(), parseReference(pushed.ref)), (e: Error) => {
      assert.ok(isUnavailable(e), e.message);
      assert.match(e.message, new RegExp(`TLS handshake with registry ${reg.host} failed`));
      assert.ok(e.message.includes(`${emptyCerts}/${reg.host}/ca.crt`), e.message);
      return true;
    });
  });

  it('picks up a CA added to certs.d after a failure, without a restart', async () => {
    const certsDir = path.join(await makeTempDir('gtls', cleanup), 'certs.d');
    const r = open({ certsDir });
    await assert.rejects(r.fetcher().resolve(ctx(), parseReference(pushed.ref)), (e: Error) => isUnavailable(e));
    fs.mkdirSync(path.join(certsDir, reg.host), { recursive: true });
    fs.copyFileSync(reg.caPath!, path.join(certsDir, reg.host, 'ca.crt'));
    assert.equal((await r.fetcher().resolve(ctx(), parseReference(pushed.ref))).digest, pushed.manifestDigest);
  });

  it('an --insecure-registry host is reached without verification', async () => {
    const r = open({ certsDir: emptyCerts, insecureRegistries: [reg.host] });
    assert.equal((await r.fetcher().resolve(ctx(), parseReference(pushed.ref))).digest, pushed.manifestDigest);
  });

  it("token auth over TLS: the realm is trusted through the registry host's certs.d", async () => {
    const tokReg = await startRegistry({ tls: true, auth: 'token', users: { bob: 'builder' }, cleanup });
    const img = await pushBusybox(tokReg, 'tok/busybox:1');
    assert.match(tokReg.tokenServer!.realm, /^https:/);
    const r = open({ certsDir: await certsDirWithCa(tokReg.host, tokReg.caPath!) });
    const desc = await r.fetcher(() => ({ username: 'bob', password: 'builder' })).resolve(ctx(), parseReference(img.ref));
    assert.equal(desc.digest, img.manifestDigest);
  });
});
