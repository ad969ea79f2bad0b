// A real OCI registry for tests: Debian's docker-registry (CNCF distribution
// 2.8) on 127.0.0.1:<free port>, storage in a temp dir, optionally with TLS
// (own test CA), htpasswd auth, or token auth (tokenServer.ts).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { Cleanup, makeTempDir, removeTempDir } from './tmp';
import { freePort } from './ports';
import { Proc, runCommand, startProcess } from './proc';
import { startTokenServer, TokenServer, TokenServerOptions } from './tokenServer';
import { newP256Certificate } from './certs';

export interface RegistryOptions {
  tls?: boolean;
  auth?: 'htpasswd' | 'token';
  /** Accounts for htpasswd/token auth; default { gantry: 'gantry-secret' }. */
  users?: Record<string, string>;
  /** Token server settings (auth: 'token'); users, tls and cleanup are filled in. */
  token?: Omit<TokenServerOptions, 'users' | 'tls' | 'cleanup'>;
  /** Whether the registry accepts DELETE of manifests (default true; false answers 405 UNSUPPORTED). */
  deleteEnabled?: boolean;
  /** Merged over the generated config (top-level keys replace), e.g. { proxy: … }. */
  extraConfig?: Record<string, unknown>;
  cleanup?: Cleanup;
}

export interface Registry {
  /** "127.0.0.1:PORT", as used in image references. */
  host: string;
  port: number;
  /** "http(s)://127.0.0.1:PORT" */
  url: string;
  /** Filesystem driver root: docker/registry/v2/blobs/sha256/… live under it. */
  storageDir: string;
  configPath: string;
  /** Test CA that signed the server certificate (tls only). */
  caPath?: string;
  /** A dir holding only ca.crt: the layout skopeo's --*-cert-dir and Docker's certs.d expect. */
  certDir?: string;
  auth?: 'htpasswd' | 'token';
  users: Record<string, string>;
  /** The first user, for clients that need just one login (undefined without auth). */
  creds?: { username: string; password: string };
  tokenServer?: TokenServer;
  /** Path of a blob's data file in storage ("sha256:…"), for tests that corrupt or delete blobs. */
  blobPath(digest: string): string;
  /** The running docker-registry process (replaced by restart()). */
  readonly proc: Proc;
  /** Signal the registry process group without restarting (crash simulation). */
  kill(signal?: NodeJS.Signals): void;
  /** Stop (if running) and start again on the same port with the same storage. */
  restart(): Promise<void>;
  /** Stop everything and remove the temp dir. */
  stop(): Promise<void>;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const dir = await makeTempDir('greg');
  const port = await freePort();
  const storageDir = path.join(dir, 'storage');
  await fs.promises.mkdir(storageDir);
  const users = opts.users ?? { gantry: 'gantry-secret' };
  const scheme = opts.tls ? 'https' : 'http';

  const httpConfig: Record<string, unknown> = {
    addr: `127.0.0.1:${port}`,
    // A fixed secret: upload state survives restart() (and silences a warning).
    secret: crypto.randomBytes(16).toString('hex'),
    headers: { 'X-Content-Type-Options': ['nosniff'] },
  };
  let ca: TestCA | undefined;
  let tokenServer: TokenServer | undefined;
  const config: Record<string, unknown> = {
    version: '0.1',
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storageDir },
      delete: { enabled: opts.deleteEnabled ?? true },
      // Don't let the upload purger touch half-written uploads mid-test.
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: httpConfig,
  };

  try {
    if (opts.tls) {
      ca = await makeTestCA(path.join(dir, 'certs'));
      const server = await issueCert(ca, path.join(dir, 'tls'), 'server');
      httpConfig.tls = { certificate: server.certPath, key: server.keyPath };
    }
    if (opts.auth === 'htpasswd') {
      // distribution only accepts bcrypt entries.
      let file = '';
      for (const [u, p] of Object.entries(users)) file += (await runCommand('htpasswd', ['-Bbn', u, p])).stdout.trim() + '\n';
      const htpasswdPath = path.join(dir, 'htpasswd');
      await fs.promises.writeFile(htpasswdPath, file);
      config.auth = { htpasswd: { realm: 'gantry-test', path: htpasswdPath } };
    } else if (opts.auth === 'token') {
      const tokenTls = ca ? await issueCert(ca, path.join(dir, 'tls'), 'token') : undefined;
      tokenServer = await startTokenServer({ ...opts.token, users, tls: tokenTls });
      config.auth = {
        token: {
          realm: tokenServer.realm,
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootcertbundle: tokenServer.rootCertPath,
        },
      };
    }
    Object.assign(config, opts.extraConfig);
  } catch (e) {
    await tokenServer?.stop();
    await removeTempDir(dir);
    throw e;
  }

  // YAML is a superset of JSON, so no YAML writer is needed.
  const configPath = path.join(dir, 'config.yml');
  await fs.promises.writeFile(configPath, JSON.stringify(config, null, 2));
  const url = `${scheme}://127.0.0.1:${port}`;
  const caPem = ca ? await fs.promises.readFile(ca.caPath) : undefined;

  const launch = async (): Promise<Proc> => {
    const p = startProcess('docker-registry', ['serve', configPath], { name: `docker-registry :${port}`, env: registryEnv() });
    try {
      await p.waitFor(() => probeV2(url, caPem), { what: `GET ${url}/v2/ answering 200 or 401`, timeout: 30_000 });
    } catch (e) {
      await p.stop();
      throw e;
    }
    return p;
  };

  let proc: Proc;
  try {
    proc = await launch();
  } catch (e) {
    await tokenServer?.stop();
    await removeTempDir(dir);
    throw e;
  }

  let stopped = false;
  const first = Object.entries(users)[0];
  const registry: Registry = {
    host: `127.0.0.1:${port}`,
    port,
    url,
    storageDir,
    configPath,
    caPath: ca?.caPath,
    certDir: ca?.dir,
    auth: opts.auth,
    users,
    creds: opts.auth && first ? { username: first[0], password: first[1] } : undefined,
    tokenServer,
    blobPath: (digest) => {
      const [algo, hex] = digest.split(':');
      return path.join(storageDir, 'docker/registry/v2/blobs', algo, hex.slice(0, 2), hex, 'data');
    },
    get proc() {
      return proc;
    },
    kill: (signal = 'SIGKILL') => proc.kill(signal),
    restart: async () => {
      await proc.stop();
      proc = await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await proc.stop();
      await tokenServer?.stop();
      await removeTempDir(dir);
    },
  };
  opts.cleanup?.defer(registry.stop);
  return registry;
}

/** This environment minus REGISTRY_* variables, which would override the config file. */
function registryEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return env;
}

/** True once GET /v2/ answers 200 (open) or 401 (auth required). */
function probeV2(url: string, ca: Buffer | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(`${url}/v2/`, { ca, timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

// ---- Test certificates (openssl, argv only) ----

export interface TestCA {
  /** Holds only ca.crt, so it can be passed as a cert dir. */
  dir: string;
  caPath: string;
  keyPath: string;
}

/** A throwaway P-256 CA, valid for two days. */
export async function makeTestCA(dir: string): Promise<TestCA> {
  await fs.promises.mkdir(dir, { recursive: true });
  const caPath = path.join(dir, 'ca.crt');
  // The key lives next to the dir, not in it: a *.key in a cert dir means a client cert to skopeo.
  const keyPath = `${dir}.ca-key.pem`;
  await newP256Certificate(keyPath, caPath, [
    '-subj',
    '/CN=Gantry Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { dir, caPath, keyPath };
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca`. */
export async function issueCert(
  ca: TestCA,
  dir: string,
  name: string,
  san = 'IP:127.0.0.1,DNS:localhost',
): Promise<{ certPath: string; keyPath: string }> {
  await fs.promises.mkdir(dir, { recursive: true });
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  await newP256Certificate(keyPath, certPath, [
    '-CA',
    ca.caPath,
    '-CAkey',
    ca.keyPath,
    '-subj',
    `/CN=${name}`,
    '-addext',
    `subjectAltName=${san}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ]);
  return { certPath, keyPath };
}
