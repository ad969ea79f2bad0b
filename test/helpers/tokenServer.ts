// A small Docker-registry token server (distribution's "token" auth scheme):
// https://distribution.github.io/distribution/spec/auth/token/ (GET) and
// .../spec/auth/oauth/ (POST). It issues ES256 JWTs that docker-registry 2.8
// accepts: header `kid` is the libtrust fingerprint of the signing key, whose
// self-signed certificate is the registry's `rootcertbundle`.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { AddressInfo } from 'node:net';
import { Cleanup, makeTempDir, removeTempDir } from './tmp';
import { newP256Certificate } from './certs';

export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenServerOptions {
  /** Accepted Basic / password-grant credentials. */
  users: Record<string, string>;
  service?: string;
  issuer?: string;
  /** Serve HTTPS with this certificate (e.g. one issued by the registry's test CA). */
  tls?: { certPath: string; keyPath: string };
  /**
   * Which of the requested actions to grant. Default: any valid user gets
   * everything asked for, anonymous requests get nothing.
   */
  grant?: (user: string | undefined, scope: Scope) => string[];
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
  cleanup?: Cleanup;
}

/** One request the server answered, so tests can check what a client asked for. */
export interface TokenRequestLog {
  method: string;
  grantType?: string;
  user?: string;
  service?: string;
  scopes: string[];
  status: number;
}

export interface TokenServer {
  /** The realm for the registry's WWW-Authenticate challenge. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the signing key: the registry's `rootcertbundle`. */
  rootCertPath: string;
  requests: TokenRequestLog[];
  /** Forget every refresh token issued so far. */
  revokeRefreshTokens(): void;
  stop(): Promise<void>;
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const dir = await makeTempDir('gtok');
  const keyPath = path.join(dir, 'sign.key');
  const rootCertPath = path.join(dir, 'sign.crt');
  // A self-signed P-256 certificate: the registry trusts the key inside it.
  await newP256Certificate(keyPath, rootCertPath, ['-subj', '/CN=gantry-test-token-signer']);
  const signingKey = crypto.createPrivateKey(await fs.promises.readFile(keyPath));
  const kid = libtrustKeyId(crypto.createPublicKey(signingKey));

  const service = opts.service ?? 'gantry-test-registry';
  const issuer = opts.issuer ?? 'gantry-test-issuer';
  const expiresIn = opts.expiresIn ?? 300;
  const grant = opts.grant ?? ((user, scope) => (user ? scope.actions : []));
  const refreshTokens = new Map<string, string>();
  const requests: TokenRequestLog[] = [];

  const sign = (user: string | undefined, scopes: string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const access = scopes
      .map(parseScope)
      .filter((s): s is Scope => !!s)
      .map((s) => ({ type: s.type, name: s.name, actions: grant(user, s) }));
    const header = { typ: 'JWT', alg: 'ES256', kid };
    // distribution 2.8 reads `aud` as a single string.
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    // JWS wants the raw r||s signature, not DER.
    const sig = crypto.sign('sha256', Buffer.from(input), { key: signingKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void handle(req, res).catch((e) => reply(res, 500, { error: String(e) }));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') return reply(res, 404, { error: 'not found' });
    const log: TokenRequestLog = { method: req.method ?? '', scopes: [], status: 0 };
    requests.push(log);
    const done = (status: number, body: object) => {
      log.status = status;
      reply(res, status, body);
    };

    if (req.method === 'GET') {
      // Token spec: optional Basic credentials, repeated `scope`, `service`.
      log.service = url.searchParams.get('service') ?? undefined;
      log.scopes = url.searchParams.getAll('scope');
      let user: string | undefined;
      const basic = parseBasic(req.headers.authorization);
      if (basic) {
        if (opts.users[basic.user] !== basic.pass) return done(401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
        user = log.user = basic.user;
      }
      const token = sign(user, log.scopes);
      const body: Record<string, unknown> = { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() };
      if (user && url.searchParams.get('offline_token') === 'true') body.refresh_token = newRefreshToken(user);
      return done(200, body);
    }

    if (req.method === 'POST') {
      // OAuth2 spec: form-encoded grant_type=password | refresh_token.
      const form = new URLSearchParams(await readBody(req));
      log.grantType = form.get('grant_type') ?? undefined;
      log.service = form.get('service') ?? undefined;
      log.scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      let user: string | undefined;
      if (log.grantType === 'password') {
        const u = form.get('username') ?? '';
        if (opts.users[u] === undefined || opts.users[u] !== form.get('password')) {
          return done(401, { error: 'invalid_grant' });
        }
        user = u;
      } else if (log.grantType === 'refresh_token') {
        user = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!user) return done(401, { error: 'invalid_grant' });
      } else {
        return done(400, { error: 'unsupported_grant_type' });
      }
      log.user = user;
      return done(200, {
        access_token: sign(user, log.scopes),
        refresh_token: log.grantType === 'refresh_token' ? form.get('refresh_token') : newRefreshToken(user),
        scope: log.scopes.join(' '),
        expires_in: expiresIn,
        issued_at: new Date().toISOString(),
      });
    }
    return done(405, { error: 'method not allowed' });
  };

  const newRefreshToken = (user: string): string => {
    const t = crypto.randomBytes(24).toString('hex');
    refreshTokens.set(t, user);
    return t;
  };

  const server = opts.tls
    ? https.createServer(
        { cert: await fs.promises.readFile(opts.tls.certPath), key: await fs.promises.readFile(opts.tls.keyPath) },
        handler,
      )
    : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await removeTempDir(dir);
  };
  opts.cleanup?.defer(stop);

  return {
    realm: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertPath,
    requests,
    revokeRefreshTokens: () => refreshTokens.clear(),
    stop,
  };
}

/** "repository:test/busybox:pull,push" → {type, name, actions}. */
export function parseScope(s: string): Scope | undefined {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: s.slice(0, first),
    name: s.slice(first + 1, last),
    actions: s
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

/**
 * libtrust's key ID, which distribution matches against the JWT `kid`:
 * SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32, in 12
 * colon-separated groups of 4.
 */
export function libtrustKeyId(key: crypto.KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  const b32 = base32(crypto.createHash('sha256').update(der).digest().subarray(0, 30));
  return b32.match(/.{4}/g)!.join(':');
}

function base32(buf: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function parseBasic(header: string | undefined): { user: string; pass: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function reply(res: http.ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
