/**
 * Which hosts serve a registry's images, in order (docs/registries.md
 * "Mirrors"): Docker's `registry_mirrors` (docker.io only), then the
 * `[host]` entries of the registry's hosts.toml in the registry config
 * directory, then its `server` — by default the registry itself.
 *
 *   <configDir>/<host>_<port>_/hosts.toml    (a registry with a port, as containerd spells it)
 *   <configDir>/<host>:<port>/hosts.toml
 *   <configDir>/<host>/hosts.toml            (docker.io for Docker Hub)
 *   <configDir>/_default/hosts.toml          (every registry without its own)
 *
 * The first of these that exists is used. The files are read for every pull,
 * so a change applies without restarting gantryd (as with containerd).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidArgument } from '../errdefs/errdefs';
import { apiHost, splitHostPort } from './hosts';
import { parseHostsFile, type HostCapability, type HostSettings, type HostsFile } from './hostsFile';

export type { HostCapability } from './hostsFile';

/** TLS material a hosts.toml names (absent: the Docker-style certs dir applies, as before mirrors existed). */
export interface EndpointTls {
  /** PEM contents of the extra CAs. */
  readonly ca: readonly string[];
  readonly cert?: string;
  readonly key?: string;
  readonly skipVerify: boolean;
  /** For messages: the hosts.toml it came from. */
  readonly source: string;
}

export interface RegistryEndpoint {
  /** host[:port] requests go to: the key for credentials, tokens and TLS. */
  readonly host: string;
  /** "https://host[:port]" or "http://…" as configured; undefined = the registry itself with no configured scheme (probed as always). */
  readonly origin?: string;
  /** The API root path: "/v2", "/prefix/v2", or the configured path with override_path. */
  readonly apiRoot: string;
  readonly capabilities: ReadonlySet<HostCapability>;
  readonly tls?: EndpointTls;
  readonly headers: Readonly<Record<string, string>>;
  readonly dialTimeoutMs?: number;
  /**
   * Not the registry the reference names: requests carry `?ns=<registry>`
   * (pull-through caches serve several upstreams), and its credentials come
   * from the daemon user's Docker config for this host, never the caller's
   * credentials for the named registry.
   */
  readonly mirror: boolean;
}

export interface RegistryHostsOptions {
  /** The registry config directory (certs.d layout); undefined = none. */
  readonly configDir?: string;
  /** Docker's registry-mirrors: URLs tried first for docker.io. */
  readonly dockerMirrors?: readonly string[];
}

const PULL_RESOLVE: ReadonlySet<HostCapability> = new Set(['pull', 'resolve']);
const ALL: ReadonlySet<HostCapability> = new Set(['pull', 'resolve', 'push']);

export class RegistryHosts {
  private readonly dockerMirrors: RegistryEndpoint[];

  constructor(private readonly opts: RegistryHostsOptions = {}) {
    this.dockerMirrors = (opts.dockerMirrors ?? []).map((m) => dockerMirror(m));
  }

  /** Whether anything could change where a pull goes (a config dir or Docker mirrors). */
  get configured(): boolean {
    return this.opts.configDir !== undefined || this.dockerMirrors.length > 0;
  }

  /** Every endpoint for registry `domain` ("docker.io", "registry.k8s.io", "127.0.0.1:5000"), in the order to try them. */
  async endpoints(domain: string): Promise<RegistryEndpoint[]> {
    const file = await this.hostsFile(domain);
    const upstreamHost = apiHost(domain);
    const out: RegistryEndpoint[] = domain === 'docker.io' ? [...this.dockerMirrors] : [];
    if (!file) {
      out.push({ host: upstreamHost, apiRoot: '/v2', capabilities: ALL, headers: {}, mirror: false });
      return out;
    }
    for (const h of file.hosts) out.push(await endpointOf(h, upstreamHost, file.file));
    if (file.server) out.push(await endpointOf(file.server, upstreamHost, file.file));
    else {
      const d = file.serverDefaults;
      const tls = d.ca.length || d.client.length || d.skipVerify ? await tlsOf(d, file.file) : undefined;
      out.push({
        host: upstreamHost,
        apiRoot: '/v2',
        capabilities: d.capabilities,
        tls,
        headers: joinHeaders(d.headers),
        dialTimeoutMs: d.dialTimeoutMs,
        mirror: false,
      });
    }
    return out;
  }

  /** The parsed hosts.toml that applies to `domain`, if any (errors name the file and line). */
  async hostsFile(domain: string): Promise<HostsFile | undefined> {
    const dir = this.opts.configDir;
    if (dir === undefined) return undefined;
    for (const name of hostDirNames(domain)) {
      const file = path.join(dir, name, 'hosts.toml');
      let text: string;
      try {
        text = await fs.promises.readFile(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        throw invalidArgument(`cannot read ${file}: ${(e as Error).message}`);
      }
      return parseHostsFile(file, text);
    }
    return undefined;
  }
}

/** The directory names to look in for `domain`, most specific first. */
export function hostDirNames(domain: string): string[] {
  const { hostname, port } = splitHostPort(domain);
  const names = port !== undefined ? [`${hostname}_${port}_`, domain] : [domain];
  return [...names, '_default'];
}

async function endpointOf(h: HostSettings, upstreamHost: string, source: string): Promise<RegistryEndpoint> {
  const host = h.url.host.toLowerCase();
  const prefix = h.url.pathname.replace(/\/+$/, '');
  const apiRoot = h.overridePath ? prefix : `${prefix}/v2`;
  const tls = h.url.protocol === 'https:' && (h.ca.length || h.client.length || h.skipVerify) ? await tlsOf(h, source) : undefined;
  return {
    host,
    origin: h.url.origin,
    apiRoot,
    capabilities: h.capabilities,
    tls,
    headers: joinHeaders(h.headers),
    dialTimeoutMs: h.dialTimeoutMs,
    mirror: host !== upstreamHost.toLowerCase(),
  };
}

/** A Docker `registry-mirrors` URL: pull and resolve, never push; https unless written http://. */
export function dockerMirror(value: string): RegistryEndpoint {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidArgument(`invalid registry mirror ${JSON.stringify(value)}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !url.host || url.search || url.hash || url.username) {
    throw invalidArgument(`invalid registry mirror ${JSON.stringify(value)}: it must be http(s)://host[:port][/path]`);
  }
  return {
    host: url.host.toLowerCase(),
    origin: url.origin,
    apiRoot: `${url.pathname.replace(/\/+$/, '')}/v2`,
    capabilities: PULL_RESOLVE,
    headers: {},
    mirror: url.host.toLowerCase() !== apiHost('docker.io'),
  };
}

async function tlsOf(h: Omit<HostSettings, 'url'>, source: string): Promise<EndpointTls> {
  const read = async (f: string, what: string) => {
    try {
      return await fs.promises.readFile(f, 'utf8');
    } catch (e) {
      throw invalidArgument(`${source}: cannot read ${what} ${f}: ${(e as Error).message}`);
    }
  };
  const ca = await Promise.all(h.ca.map((f) => read(f, 'CA file')));
  // Node presents one client certificate per connection: the first pair written.
  const pair = h.client[0];
  const cert = pair ? await read(pair.cert, 'client certificate') : undefined;
  const key = pair ? (pair.key ? await read(pair.key, 'client key') : cert) : undefined;
  return { ca, cert, key, skipVerify: h.skipVerify, source };
}

function joinHeaders(h: Readonly<Record<string, string[]>>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.join(', ')]));
}
