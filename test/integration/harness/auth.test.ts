// Proves the TLS, htpasswd and token variants of registry.ts (and
// tokenServer.ts) with real clients: undici/fetch and skopeo.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { startRegistry } from '../../helpers/registry';
import { OCI_MANIFEST, pushBusybox } from '../../helpers/fixtures';
import { suiteCleanup } from '../../helpers/tmp';

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

/** Parses `Bearer realm="…",service="…",scope="…"`. */
function parseChallenge(h: string | null): Record<string, string> {
  if (!h?.startsWith('Bearer ')) assert.fail(`expected a Bearer challenge, got: ${h}`);
  return Object.fromEntries([...h.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

describe('harness: registry TLS and auth', () => {
  const cleanup = suiteCleanup();

  it('TLS: answers with the test CA and is refused without it', async () => {
    const reg = await startRegistry({ tls: true, cleanup });
    assert.equal(reg.url, `https://${reg.host}`);
    const trusting = new Agent({ connect: { ca: fs.readFileSync(reg.caPath!) } });
    try {
      const res = await undiciFetch(`${reg.url}/v2/`, { dispatcher: trusting });
      assert.equal(res.status, 200);
      // Node's default trust store does not know our CA.
      await assert.rejects(fetch(`${reg.url}/v2/`), (e: Error & { cause?: { code?: string } }) => {
        assert.match(String(e.cause?.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
        return true;
      });
      // skopeo verifies with the CA dir (no --tls-verify=false).
      const pushed = await pushBusybox(reg, 'tls/busybox:1');
      const m = await undiciFetch(`${reg.url}/v2/tls/busybox/manifests/1`, { dispatcher: trusting, headers: { accept: OCI_MANIFEST } });
      assert.equal(m.headers.get('docker-content-digest'), pushed.manifestDigest);
    } finally {
      await trusting.close();
    }
  });

  it('htpasswd: 401 without credentials, 200 with them', async () => {
    const reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'wonderland' }, cleanup });
    const anon = await fetch(`${reg.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: basic('alice', 'nope') } })).status, 401);
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: basic('alice', 'wonderland') } })).status, 200);
    // skopeo pushes with the registry's creds; a wrong password is rejected.
    await pushBusybox(reg, 'auth/busybox:1');
    await assert.rejects(
      pushBusybox(reg, 'auth/busybox:2', { creds: { username: 'alice', password: 'nope' } }),
      /unauthorized|authentication required/i,
    );
  });

  describe('token auth', () => {
    let reg: Awaited<ReturnType<typeof startRegistry>>;
    before(async () => {
      reg = await startRegistry({ auth: 'token', users: { bob: 'builder' }, cleanup });
      // skopeo runs the whole token dance itself.
      await pushBusybox(reg, 'tok/busybox:1');
    });

    it('401 challenge → token (Basic GET) → 200', async () => {
      const manifestUrl = `${reg.url}/v2/tok/busybox/manifests/1`;
      const first = await fetch(manifestUrl, { headers: { accept: OCI_MANIFEST } });
      assert.equal(first.status, 401);
      const ch = parseChallenge(first.headers.get('www-authenticate'));
      assert.equal(ch.realm, reg.tokenServer!.realm);
      assert.equal(ch.scope, 'repository:tok/busybox:pull');

      const tokenUrl = `${ch.realm}?service=${encodeURIComponent(ch.service)}&scope=${encodeURIComponent(ch.scope)}`;
      const denied = await fetch(tokenUrl, { headers: { authorization: basic('bob', 'wrong') } });
      assert.equal(denied.status, 401);

      const tok = (await (await fetch(tokenUrl, { headers: { authorization: basic('bob', 'builder') } })).json()) as { token: string };
      const ok = await fetch(manifestUrl, { headers: { accept: OCI_MANIFEST, authorization: `Bearer ${tok.token}` } });
      assert.equal(ok.status, 200);

      // An anonymous token carries no access: the registry still says no.
      const anon = (await (await fetch(tokenUrl)).json()) as { token: string };
      assert.equal((await fetch(manifestUrl, { headers: { authorization: `Bearer ${anon.token}` } })).status, 401);

      const log = reg.tokenServer!.requests.filter((r) => r.method === 'GET' && r.user === 'bob' && r.status === 200);
      assert.ok(log.some((r) => r.scopes.includes('repository:tok/busybox:pull') && r.service === ch.service));
    });

    it('OAuth2 POST: password grant and refresh_token grant', async () => {
      const { realm, service } = reg.tokenServer!;
      const post = (form: Record<string, string>) => fetch(realm, { method: 'POST', body: new URLSearchParams(form) });
      const scope = 'repository:tok/busybox:pull';

      const bad = await post({ grant_type: 'password', username: 'bob', password: 'wrong', service, scope, client_id: 'gantry' });
      assert.equal(bad.status, 401);

      const pw = (await (
        await post({
          grant_type: 'password',
          username: 'bob',
          password: 'builder',
          service,
          scope,
          client_id: 'gantry',
          access_type: 'offline',
        })
      ).json()) as { access_token: string; refresh_token: string };
      assert.ok(pw.refresh_token);
      const manifestUrl = `${reg.url}/v2/tok/busybox/manifests/1`;
      assert.equal(
        (await fetch(manifestUrl, { headers: { accept: OCI_MANIFEST, authorization: `Bearer ${pw.access_token}` } })).status,
        200,
      );

      const rf = (await (
        await post({ grant_type: 'refresh_token', refresh_token: pw.refresh_token, service, scope, client_id: 'gantry' })
      ).json()) as { access_token: string };
      assert.equal(
        (await fetch(manifestUrl, { headers: { accept: OCI_MANIFEST, authorization: `Bearer ${rf.access_token}` } })).status,
        200,
      );

      reg.tokenServer!.revokeRefreshTokens();
      assert.equal((await post({ grant_type: 'refresh_token', refresh_token: pw.refresh_token, service, scope })).status, 401);
    });
  });

  it('token auth over TLS: registry and token server share the test CA', async () => {
    const reg = await startRegistry({ tls: true, auth: 'token', cleanup });
    assert.match(reg.tokenServer!.realm, /^https:\/\/127\.0\.0\.1:\d+\/token$/);
    const pushed = await pushBusybox(reg, 'tlstok/busybox:1');
    assert.match(pushed.manifestDigest, /^sha256:[0-9a-f]{64}$/);
  });
});
