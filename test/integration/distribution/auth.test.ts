// Authentication against real registries: docker-registry with htpasswd
// (Basic) and with token auth served by the harness token server (Bearer via
// GET with Basic credentials, and OAuth2 POST with a refresh token).
import * as assert from 'node:assert/strict';
import type { Registry, RegistryAuth } from '../../../runtime/distribution/distribution';
import { parseReference } from '../../../runtime/distribution/reference';
import { createRegistry } from '../../../runtime/distribution/registry';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { pushBusybox, PushedImage } from '../../helpers/fixtures';
import { Registry as TestRegistry, startRegistry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const ctx = () => ({ signal: new AbortController().signal });

function unauthenticated(e: Error): boolean {
  assert.equal(kindOf(e), 'Unauthenticated', e.message);
  return true;
}

describe('distribution: registry auth (htpasswd, token server)', () => {
  const cleanup = suiteCleanup();
  let certsDir: string;
  const open = async (): Promise<Registry> => {
    const r = createRegistry({ certsDir });
    cleanup.defer(() => r.close());
    return r;
  };
  before(async () => {
    certsDir = await makeTempDir('gcerts', cleanup);
  });

  describe('htpasswd (Basic)', () => {
    let reg: TestRegistry;
    let pushed: PushedImage;
    before(async () => {
      reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'wonderland' }, cleanup });
      pushed = await pushBusybox(reg, 'auth/busybox:1');
    });

    it('is Unauthenticated without credentials or with wrong ones', async () => {
      const r = await open();
      const ref = parseReference(pushed.ref);
      await assert.rejects(r.fetcher().resolve(ctx(), ref), (e: Error) => {
        unauthenticated(e);
        assert.match(e.message, new RegExp(`authentication required: ${reg.host}/auth/busybox:1`));
        return true;
      });
      await assert.rejects(r.fetcher(() => ({ username: 'alice', password: 'nope' })).resolve(ctx(), ref), unauthenticated);
      await assert.rejects(r.login(ctx(), reg.host, { username: 'alice', password: 'nope' }), unauthenticated);
    });

    it('resolves and fetches with the right credentials; login succeeds', async () => {
      const r = await open();
      const f = r.fetcher(() => ({ username: 'alice', password: 'wonderland' }));
      const desc = await f.resolve(ctx(), parseReference(pushed.ref));
      assert.equal(desc.digest, pushed.manifestDigest);
      const raw = await f.fetchManifest(ctx(), parseReference(pushed.ref), desc);
      assert.equal(raw.toString(), pushed.manifestRaw);
      await r.login(ctx(), reg.host, { username: 'alice', password: 'wonderland' });
    });
  });

  describe('token server (Bearer)', () => {
    let reg: TestRegistry;
    let pushed: PushedImage;
    let other: PushedImage;
    const bob: RegistryAuth = { username: 'bob', password: 'builder' };
    before(async () => {
      reg = await startRegistry({ auth: 'token', users: { bob: 'builder', carol: 'c4rol' }, cleanup });
      pushed = await pushBusybox(reg, 'tok/busybox:1');
      other = await pushBusybox(reg, 'tok/other:1');
    });
    const tokenRequests = () => reg.tokenServer!.requests;

    it('anonymous: the token carries no access → Unauthenticated', async () => {
      const r = await open();
      await assert.rejects(r.fetcher().resolve(ctx(), parseReference(pushed.ref)), unauthenticated);
    });

    it('wrong password: the token server refuses → Unauthenticated', async () => {
      const r = await open();
      await assert.rejects(
        r.fetcher(() => ({ username: 'bob', password: 'wrong' })).resolve(ctx(), parseReference(pushed.ref)),
        (e: Error) => {
          unauthenticated(e);
          assert.match(e.message, /token for 127\.0\.0\.1:\d+ from http:\/\/127\.0\.0\.1:\d+\/token/);
          return true;
        },
      );
    });

    it('caches one token per repository scope and credentials', async () => {
      const r = await open();
      const before = tokenRequests().length;
      const ref = parseReference(pushed.ref);
      // Two fetchers (two pulls) with the same credentials share the token.
      for (const f of [r.fetcher(() => bob), r.fetcher(() => bob)]) {
        const desc = await f.resolve(ctx(), ref);
        assert.equal(desc.digest, pushed.manifestDigest);
        const manifest = JSON.parse((await f.fetchManifest(ctx(), ref, desc)).toString()) as {
          config: { digest: string; size: number; mediaType: string };
        };
        const config = await f.fetchBlob(ctx(), ref, manifest.config);
        await config.body.toArray();
      }
      const mine = tokenRequests().slice(before);
      assert.equal(mine.length, 1, JSON.stringify(mine));
      assert.deepEqual(mine[0], {
        method: 'GET',
        user: 'bob',
        service: reg.tokenServer!.service,
        scopes: ['repository:tok/busybox:pull'],
        status: 200,
      });

      // Another repository is another scope; other credentials are another identity.
      await r.fetcher(() => bob).resolve(ctx(), parseReference(other.ref));
      await r.fetcher(() => ({ username: 'carol', password: 'c4rol' })).resolve(ctx(), ref);
      assert.deepEqual(
        tokenRequests()
          .slice(before + 1)
          .map((t) => [t.user, t.scopes]),
        [
          ['bob', ['repository:tok/other:pull']],
          ['carol', ['repository:tok/busybox:pull']],
        ],
      );
    });

    it('identity token: OAuth2 POST grant_type=refresh_token', async () => {
      // Get a refresh token the way `docker login` does (offline_token=true).
      const url = new URL(reg.tokenServer!.realm);
      url.searchParams.set('service', reg.tokenServer!.service);
      url.searchParams.set('offline_token', 'true');
      const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from('bob:builder').toString('base64')}` } });
      const { refresh_token: refresh } = (await res.json()) as { refresh_token: string };
      assert.ok(refresh);

      const r = await open();
      const before = tokenRequests().length;
      const desc = await r.fetcher(() => ({ identityToken: refresh })).resolve(ctx(), parseReference(pushed.ref));
      assert.equal(desc.digest, pushed.manifestDigest);
      assert.deepEqual(
        tokenRequests()
          .slice(before)
          .map((t) => [t.method, t.grantType, t.user, t.scopes]),
        [['POST', 'refresh_token', 'bob', ['repository:tok/busybox:pull']]],
      );

      reg.tokenServer!.revokeRefreshTokens();
      await assert.rejects(
        (await open()).fetcher(() => ({ identityToken: refresh })).resolve(ctx(), parseReference(pushed.ref)),
        unauthenticated,
      );
    });

    it('login asks for a token without scope and checks the password', async () => {
      const r = await open();
      const before = tokenRequests().length;
      await r.login(ctx(), reg.host, bob);
      assert.deepEqual(
        tokenRequests()
          .slice(before)
          .map((t) => [t.user, t.scopes, t.status]),
        [['bob', [], 200]],
      );
      await assert.rejects(r.login(ctx(), reg.host, { username: 'bob', password: 'nope' }), unauthenticated);
    });
  });
});
