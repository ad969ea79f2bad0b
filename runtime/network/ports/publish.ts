/**
 * `-p/--publish` and `-P/--publish-all`, as Docker reads them (pure):
 *
 *   [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]
 *
 *   80                     container 80 → a free host port, every address
 *   8080:80                host 8080 → container 80
 *   127.0.0.1:8080:80/udp  only on 127.0.0.1, UDP
 *   127.0.0.1::80          only on 127.0.0.1, a free host port
 *   [::1]:8080:80          an IPv6 host address goes in brackets
 *   8000-8001:80-81        ranges of equal length map one to one
 *   8000-8010:80           one container port, the first free host port of a range
 *   80-81                  each to a free host port
 *
 * Each container port becomes one PortSpec; the host port is decided when the
 * reservation is made (runtime/network/ports/reservations.ts).
 */
import * as net from 'node:net';
import { invalidArgument } from '../../errdefs/errdefs';

export type Protocol = 'tcp' | 'udp';

export interface PortSpec {
  /** '' for every host address. */
  readonly hostIp: string;
  /** First acceptable host port; 0: any free port. */
  readonly hostPort: number;
  /** Last acceptable host port (== hostPort for a single port; 0 with hostPort 0). */
  readonly hostPortEnd: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

/** A decided mapping: what portmap gets and what `port` shows. */
export interface PortMapping {
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

interface Range {
  readonly start: number;
  readonly end: number;
}

function bad(text: string, why: string): Error {
  return invalidArgument(`invalid port specification ${JSON.stringify(text)}: ${why}`);
}

function parsePort(text: string, spec: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw bad(spec, `${what} ${JSON.stringify(text)} is not a number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw bad(spec, `${what} ${n} is outside 1-65535`);
  return n;
}

function parseRange(text: string, spec: string, what: string): Range {
  const dash = text.indexOf('-');
  if (dash < 0) {
    const p = parsePort(text, spec, what);
    return { start: p, end: p };
  }
  const start = parsePort(text.slice(0, dash), spec, what);
  const end = parsePort(text.slice(dash + 1), spec, what);
  if (end < start) throw bad(spec, `${what} range ${text} ends before it starts`);
  return { start, end };
}

function parseProtocol(text: string, spec: string): Protocol {
  const p = text.toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  throw bad(spec, `protocol ${JSON.stringify(text)} is not tcp or udp`);
}

/** Splits "IP:HOST:CONTAINER" keeping a bracketed IPv6 address whole. */
function splitParts(body: string, spec: string): { ip: string; rest: string[] } {
  if (body.startsWith('[')) {
    const close = body.indexOf(']');
    if (close < 0 || body[close + 1] !== ':') throw bad(spec, 'an IPv6 address in brackets must be followed by ":"');
    const ip = body.slice(1, close);
    if (net.isIPv6(ip) === false) throw bad(spec, `${JSON.stringify(ip)} is not an IPv6 address`);
    const rest = body.slice(close + 2).split(':');
    if (rest.length !== 2) throw bad(spec, 'want [IP]:HOSTPORT:CONTAINERPORT');
    return { ip, rest };
  }
  const parts = body.split(':');
  if (parts.length > 3) throw bad(spec, 'too many ":" (put an IPv6 host address in brackets)');
  if (parts.length === 3) {
    const ip = parts[0];
    if (ip !== '' && !net.isIP(ip)) throw bad(spec, `${JSON.stringify(ip)} is not an IP address`);
    return { ip, rest: parts.slice(1) };
  }
  return { ip: '', rest: parts };
}

/** One `-p` value → one PortSpec per container port. InvalidArgument when malformed. */
export function parsePublish(text: string): PortSpec[] {
  const spec = text.trim();
  if (spec === '') throw bad(text, 'empty');
  let body = spec;
  let protocol: Protocol = 'tcp';
  const slash = spec.lastIndexOf('/');
  if (slash >= 0) {
    protocol = parseProtocol(spec.slice(slash + 1), spec);
    body = spec.slice(0, slash);
  }
  const { ip, rest } = splitParts(body, spec);
  const hostIp = ip === '0.0.0.0' ? '' : ip;
  const containerText = rest[rest.length - 1];
  const hostText = rest.length === 2 ? rest[0] : '';
  if (containerText === '') throw bad(spec, 'no container port');
  const container = parseRange(containerText, spec, 'container port');
  const host = hostText === '' ? undefined : parseRange(hostText, spec, 'host port');
  const count = container.end - container.start + 1;
  const out: PortSpec[] = [];
  if (!host) {
    for (let i = 0; i < count; i++) out.push({ hostIp, hostPort: 0, hostPortEnd: 0, containerPort: container.start + i, protocol });
    return out;
  }
  const hostCount = host.end - host.start + 1;
  if (count === 1) return [{ hostIp, hostPort: host.start, hostPortEnd: host.end, containerPort: container.start, protocol }];
  if (hostCount !== count) throw bad(spec, `host range ${hostText} and container range ${containerText} differ in length`);
  for (let i = 0; i < count; i++) {
    out.push({ hostIp, hostPort: host.start + i, hostPortEnd: host.start + i, containerPort: container.start + i, protocol });
  }
  return out;
}

/** An image's `ExposedPorts` key ("80/tcp", "53/udp", "8080") → port and protocol. */
export function parseExposed(key: string): { port: number; protocol: Protocol } {
  const [port, proto] = key.split('/');
  return { port: parsePort(port, key, 'exposed port'), protocol: proto === undefined ? 'tcp' : parseProtocol(proto, key) };
}

/** `-P`: each exposed port to a free host port on every address. */
export function publishAll(exposed: readonly string[]): PortSpec[] {
  const seen = new Set<string>();
  const out: PortSpec[] = [];
  for (const key of exposed) {
    const { port, protocol } = parseExposed(key);
    if (seen.has(`${port}/${protocol}`)) continue;
    seen.add(`${port}/${protocol}`);
    out.push({ hostIp: '', hostPort: 0, hostPortEnd: 0, containerPort: port, protocol });
  }
  return out;
}

/** "0.0.0.0:8080->80/tcp", as `docker ps` shows it. */
export function formatMapping(m: PortMapping): string {
  const ip = m.hostIp === '' ? '0.0.0.0' : m.hostIp.includes(':') ? `[${m.hostIp}]` : m.hostIp;
  return `${ip}:${m.hostPort}->${m.containerPort}/${m.protocol}`;
}
