/**
 * A container's /etc/hosts (pure; the spec code writes the file): loopback
 * names, the IPv6 standard names, the container's own addresses with its
 * hostname, then `--add-host NAME:IP` entries (`host-gateway` standing for
 * the network's gateway, as in Docker).
 */
import * as net from 'node:net';
import { invalidArgument } from '../../errdefs/errdefs';

export interface ExtraHost {
  readonly name: string;
  readonly ip: string;
}

export interface HostsInput {
  readonly hostname: string;
  /** The container's addresses (no prefix length) on its networks. */
  readonly addresses: readonly string[];
  readonly extraHosts?: readonly ExtraHost[];
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * `--add-host NAME:IP` (or NAME=IP); IPv6 addresses keep their colons since
 * only the first separator splits. `hostGateway` replaces `host-gateway`.
 */
export function parseAddHost(text: string, hostGateway?: string): ExtraHost {
  const m = /^([^:=]+)[:=](.+)$/.exec(text.trim());
  if (!m) throw invalidArgument(`invalid --add-host ${JSON.stringify(text)}: want NAME:IP`);
  const name = m[1];
  let ip = m[2].replace(/^\[(.*)\]$/, '$1');
  if (!HOSTNAME.test(name)) throw invalidArgument(`invalid --add-host ${JSON.stringify(text)}: ${JSON.stringify(name)} is not a host name`);
  if (ip === 'host-gateway') {
    if (!hostGateway) throw invalidArgument(`--add-host ${text}: host-gateway needs a network with a gateway`);
    ip = hostGateway;
  }
  if (!net.isIP(ip)) throw invalidArgument(`invalid --add-host ${JSON.stringify(text)}: ${JSON.stringify(ip)} is not an IP address`);
  return { name, ip };
}

/** The loopback and IPv6 names every container's /etc/hosts starts with, as Docker writes them. */
export const LOCALHOST_ENTRIES: readonly string[] = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export function containerHosts(input: HostsInput): string {
  const lines = [...LOCALHOST_ENTRIES];
  const short = input.hostname.split('.')[0];
  const names = short !== input.hostname ? `${input.hostname} ${short}` : input.hostname;
  for (const addr of input.addresses) lines.push(`${addr.replace(/\/\d+$/, '')}\t${names}`);
  for (const h of input.extraHosts ?? []) lines.push(`${h.ip}\t${h.name}`);
  return lines.join('\n') + '\n';
}
