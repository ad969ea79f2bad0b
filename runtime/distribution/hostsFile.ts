/**
 * One `hosts.toml` of a registry configuration directory (containerd's
 * certs.d layout, docs/registries.md "Mirrors"):
 *
 *   server = "https://registry.example"       # the namespace's own host; default: the registry itself
 *   capabilities = ["pull", "resolve", "push"]  # the server's (default: all three)
 *   ca = "ca.pem" | ["a.pem", …]                # paths absolute or relative to the file
 *   client = "both.pem" | ["c.pem", …] | [["c.cert", "c.key"], …]
 *   skip_verify = false
 *   override_path = false                       # the URL path is the API root (no /v2 added)
 *   dial_timeout = "5s"
 *   [header]  x-name = "v" | ["v1", "v2"]
 *
 *   [host."https://mirror.example/prefix"]      # tried first, in file order
 *     capabilities = ["pull", "resolve"]        # default for a host: pull and resolve
 *     … the same keys as above but `server`
 *
 * One deliberate difference from containerd: a `[host]` without
 * `capabilities` may pull and resolve but never push (containerd lets it
 * push). A push must go to a mirror only where the file says so.
 *
 * Unknown keys and wrong types are errors with the file and the line:
 * containerd ignores them, which turns a typo into a mirror silently unused.
 */
import * as path from 'node:path';
import { parseToml, tomlError, tomlTypeOf, type TomlDocument, type TomlTable } from '../util/tomlFile';

export type HostCapability = 'pull' | 'resolve' | 'push';
const CAPABILITIES: readonly HostCapability[] = ['pull', 'resolve', 'push'];

export interface HostSettings {
  /** Where requests go: scheme, host[:port] and path (the API root when overridePath, else the root /v2 is appended to). */
  readonly url: URL;
  readonly capabilities: ReadonlySet<HostCapability>;
  /** Absolute paths of CA files, added to the system roots. */
  readonly ca: readonly string[];
  /** Client certificate and key files (absolute; key "" when the certificate file holds both). */
  readonly client: readonly { readonly cert: string; readonly key: string }[];
  readonly skipVerify: boolean;
  readonly overridePath: boolean;
  readonly headers: Readonly<Record<string, string[]>>;
  readonly dialTimeoutMs?: number;
}

export interface HostsFile {
  readonly file: string;
  /** `server` when written; undefined = the registry itself (the caller knows its URL). */
  readonly server?: HostSettings;
  /** The server's settings other than its URL, applying to the default upstream when `server` is not written. */
  readonly serverDefaults: Omit<HostSettings, 'url'>;
  /** `[host."…"]` entries in file order. */
  readonly hosts: readonly HostSettings[];
}

const COMMON_KEYS = new Set(['capabilities', 'ca', 'client', 'skip_verify', 'override_path', 'dial_timeout', 'header']);
const TOP_KEYS = new Set([...COMMON_KEYS, 'server', 'host']);

/** Parses the text of `file`; every problem is InvalidArgument "FILE:LINE: reason". */
export function parseHostsFile(file: string, text: string): HostsFile {
  const doc = parseToml(file, text);
  const top = doc.table;
  for (const key of Object.keys(top)) {
    if (key === 'proxy') throw tomlError(doc, [], key, `"proxy" is not supported by gantryd (use HTTPS_PROXY in its environment)`);
    if (!TOP_KEYS.has(key)) throw tomlError(doc, [], key, `unknown key "${key}" (known: ${[...TOP_KEYS].join(', ')})`);
  }
  const serverDefaults = settingsOf(doc, [], top, ['pull', 'resolve', 'push']);
  let server: HostSettings | undefined;
  if (top.server !== undefined) {
    if (typeof top.server !== 'string') throw tomlError(doc, [], 'server', `"server" must be a string, not ${tomlTypeOf(top.server)}`);
    server = { url: hostUrl(doc, [], 'server', top.server), ...serverDefaults };
  }
  const hosts: HostSettings[] = [];
  if (top.host !== undefined) {
    if (!isTable(top.host)) throw tomlError(doc, [], 'host', `"host" must be a table of [host."URL"] entries, not ${tomlTypeOf(top.host)}`);
    for (const [name, entry] of Object.entries(top.host)) {
      const at = ['host', name];
      if (!isTable(entry)) throw tomlError(doc, at, undefined, `host "${name}" must be a table, not ${tomlTypeOf(entry)}`);
      for (const key of Object.keys(entry)) {
        if (key === 'server' || key === 'host')
          throw tomlError(doc, at, key, `"${key}" is not allowed inside [host."${name}"] (hosts do not nest)`);
        if (key === 'proxy') throw tomlError(doc, at, key, `"proxy" is not supported by gantryd (use HTTPS_PROXY in its environment)`);
        if (!COMMON_KEYS.has(key))
          throw tomlError(doc, at, key, `unknown key "${key}" in [host."${name}"] (known: ${[...COMMON_KEYS].join(', ')})`);
      }
      hosts.push({ url: hostUrl(doc, at, undefined, name), ...settingsOf(doc, at, entry, ['pull', 'resolve']) });
    }
  }
  return { file, server, serverDefaults, hosts };
}

function settingsOf(doc: TomlDocument, at: string[], t: TomlTable, defaultCaps: HostCapability[]): Omit<HostSettings, 'url'> {
  const dir = path.dirname(doc.file);
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));
  const fail = (key: string, reason: string) => tomlError(doc, at, key, reason);

  let capabilities = new Set<HostCapability>(defaultCaps);
  if (t.capabilities !== undefined) {
    if (!Array.isArray(t.capabilities))
      throw fail('capabilities', `"capabilities" must be an array of strings, not ${tomlTypeOf(t.capabilities)}`);
    capabilities = new Set();
    for (const c of t.capabilities) {
      if (typeof c !== 'string' || !CAPABILITIES.includes(c as HostCapability)) {
        throw fail('capabilities', `unknown capability ${JSON.stringify(c)} (pull, resolve or push)`);
      }
      capabilities.add(c as HostCapability);
    }
  }

  const ca: string[] = [];
  if (t.ca !== undefined) {
    const list = typeof t.ca === 'string' ? [t.ca] : t.ca;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw fail('ca', `"ca" must be a path or an array of paths, not ${tomlTypeOf(t.ca)}`);
    }
    ca.push(...list.map(abs));
  }

  const client: { cert: string; key: string }[] = [];
  if (t.client !== undefined) {
    const list = typeof t.client === 'string' ? [t.client] : t.client;
    if (!Array.isArray(list))
      throw fail('client', `"client" must be a path, an array of paths or of [cert, key] pairs, not ${tomlTypeOf(t.client)}`);
    for (const item of list) {
      if (typeof item === 'string') client.push({ cert: abs(item), key: '' });
      else if (Array.isArray(item) && item.length === 2 && item.every((x) => typeof x === 'string')) {
        client.push({ cert: abs(item[0]), key: item[1] ? abs(item[1]) : '' });
      } else throw fail('client', `"client" entries must be a path or a [cert, key] pair of paths, not ${JSON.stringify(item)}`);
    }
  }

  const bool = (key: string): boolean => {
    const v = t[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw fail(key, `"${key}" must be true or false, not ${tomlTypeOf(v)}`);
    return v;
  };

  let dialTimeoutMs: number | undefined;
  if (t.dial_timeout !== undefined) {
    const v = t.dial_timeout;
    dialTimeoutMs = typeof v === 'string' ? parseDuration(v) : undefined;
    if (dialTimeoutMs === undefined)
      throw fail('dial_timeout', `"dial_timeout" must be a duration such as "500ms", "5s" or "1m", not ${JSON.stringify(v)}`);
  }

  const headers: Record<string, string[]> = {};
  if (t.header !== undefined) {
    if (!isTable(t.header)) throw fail('header', `"header" must be a table, not ${tomlTypeOf(t.header)}`);
    for (const [name, v] of Object.entries(t.header)) {
      const values = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(values) || !values.every((x) => typeof x === 'string')) {
        throw tomlError(doc, [...at, 'header'], name, `header "${name}" must be a string or an array of strings, not ${tomlTypeOf(v)}`);
      }
      headers[name.toLowerCase()] = values;
    }
  }

  return { capabilities, ca, client, skipVerify: bool('skip_verify'), overridePath: bool('override_path'), headers, dialTimeoutMs };
}

/** "https://mirror:5000/path" → URL; no scheme means https, as containerd reads it. */
function hostUrl(doc: TomlDocument, at: string[], key: string | undefined, value: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw tomlError(doc, at, key, `invalid host URL ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw tomlError(doc, at, key, `host URL ${JSON.stringify(value)} must be http:// or https://`);
  }
  if (!url.host || url.search || url.hash || url.username || url.password) {
    throw tomlError(doc, at, key, `host URL ${JSON.stringify(value)} must be scheme://host[:port][/path], nothing else`);
  }
  return url;
}

/** Go-style durations of one unit: "500ms", "5s", "1m", "1.5s". */
export function parseDuration(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(m[1]) * unit;
  return ms > 0 ? Math.round(ms) : undefined;
}

function isTable(v: unknown): v is TomlTable {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/** For messages: "https://mirror:5000/prefix". */
export function describeHost(h: HostSettings): string {
  return h.url.toString().replace(/\/$/, '');
}
