/**
 * Registry credentials as Docker keeps them, for the clients (CLI, extension):
 * the daemon never reads a user's files, it is handed credentials per request.
 *
 * File: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
 *   auths:        { "<server>": { auth: base64("user:pass"), username, password,
 *                                 identitytoken, registrytoken } }
 *   credHelpers:  { "<server>": "<helper>" }   per-registry helper
 *   credsStore:   "<helper>"                   helper for every other registry
 * Server keys are host names ("ghcr.io", "127.0.0.1:5000"), except Docker Hub,
 * whose key is "https://index.docker.io/v1/". Keys written with a scheme or a
 * path ("https://ghcr.io/v2/") match their host too, as in Docker.
 *
 * Reads: a configured helper first, then `auths`. Writes go to the helper when
 * one is configured (plus an empty `auths` entry, as Docker leaves), else to
 * `auths` as base64 `auth`. The file is rewritten atomically with mode 0600,
 * keeping every key we do not manage.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalidArgument } from '../errdefs/errdefs';
import { writeFileAtomic } from '../util/atomicfile';
import type { CredentialLookup, RegistryAuth } from './distribution';
import { helperErase, helperGet, helperStore } from './credhelper';
import { normalizeHost } from './hosts';

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
/** The Username a helper stores for an identity token instead of a password. */
const TOKEN_USERNAME = '<token>';

export interface CredentialStoreOptions {
  /** The config file; default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  readonly configPath?: string;
  /** Environment for DOCKER_CONFIG/HOME and for helpers (PATH); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** How long a credential helper may take (default 30 s). */
  readonly timeoutMs?: number;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  [other: string]: unknown;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

export function dockerConfigPath(opts: CredentialStoreOptions = {}): string {
  if (opts.configPath) return opts.configPath;
  const env = opts.env ?? process.env;
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** The `auths`/helper key Docker uses for a registry. */
export function serverKey(host: string): string {
  const domain = normalizeHost(host);
  return domain === 'docker.io' ? DOCKER_HUB_KEY : domain;
}

/** Credentials for `host` (a reference domain or anything `docker login` accepts); undefined = anonymous. */
export async function getCredentials(host: string, opts: CredentialStoreOptions = {}): Promise<RegistryAuth | undefined> {
  const file = dockerConfigPath(opts);
  const config = await readConfig(file);
  const domain = normalizeHost(host);
  const helper = helperFor(config, domain);
  if (helper) {
    const found = await helperGet(helper, serverKey(domain), opts);
    if (found) {
      return found.Username === TOKEN_USERNAME ? { identityToken: found.Secret } : { username: found.Username, password: found.Secret };
    }
    // Unlike Docker we still look at `auths`: entries written before a
    // credsStore was configured keep working.
  }
  for (const key of matchingKeys(config, domain)) {
    const auth = decodeEntry(config.auths![key], key, file);
    if (auth) return auth;
  }
  return undefined;
}

/** Stores credentials after a successful login (helper when configured, else the file). */
export async function storeCredentials(host: string, auth: RegistryAuth, opts: CredentialStoreOptions = {}): Promise<void> {
  const file = dockerConfigPath(opts);
  const config = await readConfig(file);
  const domain = normalizeHost(host);
  const key = serverKey(domain);
  const helper = helperFor(config, domain);
  const auths = { ...config.auths };
  for (const k of matchingKeys(config, domain)) delete auths[k];
  if (helper && (auth.identityToken || auth.username)) {
    await helperStore(
      helper,
      {
        ServerURL: key,
        Username: auth.identityToken ? TOKEN_USERNAME : auth.username!,
        Secret: auth.identityToken ?? auth.password ?? '',
      },
      opts,
    );
    auths[key] = {};
  } else {
    const entry: AuthEntry = {};
    if (auth.username !== undefined) entry.auth = Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64');
    if (auth.identityToken) entry.identitytoken = auth.identityToken;
    if (auth.registryToken) entry.registrytoken = auth.registryToken;
    auths[key] = entry;
  }
  await writeConfig(file, { ...config, auths });
}

/** Forgets credentials for `host` (helper and file). Idempotent; false when there were none. */
export async function removeCredentials(host: string, opts: CredentialStoreOptions = {}): Promise<boolean> {
  const file = dockerConfigPath(opts);
  const config = await readConfig(file);
  const domain = normalizeHost(host);
  const helper = helperFor(config, domain);
  let removed = helper ? await helperErase(helper, serverKey(domain), opts) : false;
  const keys = matchingKeys(config, domain);
  if (keys.length > 0) {
    const auths = { ...config.auths };
    for (const k of keys) delete auths[k];
    await writeConfig(file, { ...config, auths });
    removed = true;
  }
  return removed;
}

/** A registry the config holds credentials for (no secret). */
export interface StoredLogin {
  /** The registry as references name it ("docker.io", "127.0.0.1:5000"). */
  readonly server: string;
  /** The key in the file ("https://index.docker.io/v1/" for Docker Hub). */
  readonly key: string;
  /** The credential helper holding the secret, when one does. */
  readonly helper?: string;
  /** The user name, when the file shows it. */
  readonly username?: string;
}

/**
 * The registries the config is logged in to: every `auths` key (Docker
 * leaves an empty one there when a credsStore holds the secret) and every
 * `credHelpers` key, one entry per registry, sorted by server. Helpers are
 * not run: listing asks nothing of them. Unparseable keys are skipped.
 */
export async function listLogins(opts: CredentialStoreOptions = {}): Promise<StoredLogin[]> {
  const config = await readConfig(dockerConfigPath(opts));
  const found = new Map<string, StoredLogin>();
  const add = (key: string, login: Omit<StoredLogin, 'server' | 'key'>) => {
    let server: string;
    try {
      server = normalizeHost(key);
    } catch {
      return;
    }
    const before = found.get(server);
    found.set(server, {
      server,
      key: before?.key ?? key,
      helper: before?.helper ?? login.helper,
      username: before?.username ?? login.username,
    });
  };
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    const helper = helperFor(config, safeHost(key) ?? key);
    add(key, { helper, username: helper ? undefined : usernameOf(entry) });
  }
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (typeof helper === 'string' && helper) add(key, { helper });
  }
  return [...found.values()].sort((a, b) => a.server.localeCompare(b.server));
}

function safeHost(key: string): string | undefined {
  try {
    return normalizeHost(key);
  } catch {
    return undefined;
  }
}

/** The user name of an `auths` entry, never its secret; undefined when it has none or cannot be read. */
function usernameOf(entry: AuthEntry | undefined): string | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  if (typeof entry.username === 'string' && entry.username) return entry.username;
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 ? decoded.slice(0, colon) : undefined;
  }
  return undefined;
}

/** A CredentialLookup over the Docker config, for Registry.fetcher(). */
export function credentialLookup(opts: CredentialStoreOptions = {}): CredentialLookup {
  return (host) => getCredentials(host, opts);
}

/** credHelpers[key] (Hub key, host, or a scheme-ful spelling of it), else credsStore. */
function helperFor(config: DockerConfig, domain: string): string | undefined {
  const helpers = config.credHelpers ?? {};
  const key = serverKey(domain);
  const direct = helpers[key] ?? helpers[domain];
  if (direct) return direct;
  const other = Object.keys(helpers).find((k) => sameRegistry(k, domain));
  return other ? helpers[other] : config.credsStore || undefined;
}

/** `auths` keys for `domain`, the canonical one first. */
function matchingKeys(config: DockerConfig, domain: string): string[] {
  const keys = Object.keys(config.auths ?? {}).filter((k) => sameRegistry(k, domain));
  const canonical = serverKey(domain);
  return keys.sort((a, b) => Number(b === canonical) - Number(a === canonical));
}

function sameRegistry(key: string, domain: string): boolean {
  try {
    return normalizeHost(key) === domain;
  } catch {
    return false;
  }
}

function decodeEntry(entry: AuthEntry | undefined, key: string, file: string): RegistryAuth | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  let username = str(entry.username);
  let password = str(entry.password);
  const encoded = str(entry.auth);
  if (encoded) {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidArgument(`${file}: auths["${key}"].auth is not base64 "user:password"`);
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const auth: RegistryAuth = {};
  if (username) auth.username = username;
  if (password) auth.password = password;
  const identityToken = str(entry.identitytoken);
  const registryToken = str(entry.registrytoken);
  if (identityToken) auth.identityToken = identityToken;
  if (registryToken) auth.registryToken = registryToken;
  return Object.keys(auth).length > 0 ? auth : undefined;
}

async function readConfig(file: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalidArgument(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalidArgument(`${file} is not a JSON object`);
  return doc as DockerConfig;
}

async function writeConfig(file: string, config: DockerConfig): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // A symlinked config.json (dotfile managers) is updated where it points, not replaced by a file.
  let target = file;
  try {
    target = await fs.promises.realpath(file);
  } catch {
    // Does not exist yet.
  }
  await writeFileAtomic(target, JSON.stringify(config, null, '\t') + '\n', 0o600);
}
