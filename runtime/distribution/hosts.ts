/**
 * Registry host names and per-host TLS material (Docker's certs.d layout).
 *
 *   <certsDir>/<host[:port]>/*.crt          extra CAs, added to the system ones
 *   <certsDir>/<host[:port]>/<name>.cert    client certificate …
 *   <certsDir>/<host[:port]>/<name>.key     … and its key (mutual TLS)
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { invalidArgument } from '../errdefs/errdefs';

export const DEFAULT_CERTS_DIR = '/etc/gantry/certs.d';

// References say "docker.io"; the registry API lives elsewhere.
const DOCKER_HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const DOCKER_HUB_API = 'registry-1.docker.io';

/** The host to connect to for a reference domain: docker.io → registry-1.docker.io, others unchanged. */
export function apiHost(domain: string): string {
  return DOCKER_HUB_NAMES.has(domain) ? DOCKER_HUB_API : domain;
}

/**
 * What a user typed for `login`/`logout` → a registry domain:
 * "https://index.docker.io/v1/" → "docker.io", "https://ghcr.io" → "ghcr.io".
 */
export function normalizeHost(input: string): string {
  const host = input
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split('/')[0];
  if (!host) throw invalidArgument(`invalid registry host "${input}"`);
  return DOCKER_HUB_NAMES.has(host) ? 'docker.io' : host;
}

export function splitHostPort(host: string): { hostname: string; port?: string } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (!m) return { hostname: host };
  return { hostname: m[1], port: m[2] };
}

export function hasPort(host: string): boolean {
  return splitHostPort(host).port !== undefined;
}

/** 127.0.0.0/8, ::1 and localhost: always allowed to fall back to plain HTTP. */
export function isLoopback(host: string): boolean {
  const name = splitHostPort(host)
    .hostname.replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (net.isIPv4(name)) return name.startsWith('127.');
  if (net.isIPv6(name)) return name === '::1' || name === '0:0:0:0:0:0:0:1';
  return false;
}

/** Whether `host` is listed as insecure ("host:port" exactly, or the bare host name for any port). */
export function isListedInsecure(host: string, insecure: readonly string[]): boolean {
  const { hostname } = splitHostPort(host);
  return insecure.some((h) => h === host || h === hostname);
}

export interface TlsFiles {
  /** Extra CA certificates (PEM), to be added to the system roots. */
  readonly ca: string[];
  readonly cert?: string;
  readonly key?: string;
  /** What was read, for messages. */
  readonly dir: string;
}

/** Reads `<certsDir>/<host>/`; undefined when the directory does not exist. */
export async function loadTlsFiles(certsDir: string, host: string): Promise<TlsFiles | undefined> {
  const dir = path.join(certsDir, host);
  let names: string[];
  try {
    names = (await fs.promises.readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
  const read = (n: string) => fs.promises.readFile(path.join(dir, n), 'utf8');
  const ca: string[] = [];
  let cert: string | undefined;
  let key: string | undefined;
  for (const n of names) {
    if (n.endsWith('.crt')) ca.push(await read(n));
    else if (n.endsWith('.cert')) {
      const keyName = n.slice(0, -'.cert'.length) + '.key';
      // Docker refuses a certificate without its key; so do we, loudly.
      if (!names.includes(keyName)) throw invalidArgument(`client certificate ${path.join(dir, n)} has no matching ${keyName}`);
      cert = await read(n);
      key = await read(keyName);
    }
  }
  return { ca, cert, key, dir };
}
