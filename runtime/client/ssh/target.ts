/**
 * What `--host` / GANTRY_HOST / "Connect to Host…" accept, as DOCKER_HOST
 * does for ssh: `ssh://[user@]host[:port]`, or the same without the scheme,
 * or a Host alias from ssh_config. IPv6 addresses go in brackets when a port
 * follows (`[fe80::1]:2222`). The result only ever reaches ssh's argv.
 */
import { invalidArgument } from '../../errdefs/errdefs';
import type { SshTarget } from './remote';

/** Parses a host spec; InvalidArgument with the reason when it is not one. */
export function parseSshTarget(spec: string): SshTarget {
  const given = spec.trim();
  const bad = (why: string) => invalidArgument(`invalid host "${spec}": ${why} (expected ssh://[user@]host[:port])`);
  let rest = given;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'ssh') throw bad(`only ssh:// hosts are supported, not ${scheme[1]}://`);
    rest = rest.slice(scheme[0].length);
    if (rest.endsWith('/')) rest = rest.slice(0, -1);
    if (rest.includes('/')) throw bad('a path is not allowed');
  }
  if (!rest) throw bad('no host');
  // Control characters and spaces have no place in a user, host or alias.
  if (/[\s\x00-\x1f\x7f]/.test(rest)) throw bad('spaces or control characters');

  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) throw bad('empty user');
  }

  let host = rest;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw bad('unclosed [');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) throw bad(`unexpected "${after}" after ]`);
      portText = after.slice(1);
    }
  } else {
    const colons = rest.split(':').length - 1;
    // One colon: host:port. More: a bare IPv6 address, which has no room for a port.
    if (colons === 1) [host, portText] = rest.split(':');
  }
  if (!host) throw bad('no host');
  // A leading dash is what option injection into ssh looks like; our argv has "--", refuse it anyway.
  if (host.startsWith('-') || user?.startsWith('-')) throw bad('must not start with "-"');

  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) throw bad(`bad port "${portText}"`);
    port = Number(portText);
  }
  return { host, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}

/** `ssh://user@host:port`, with only the parts that were given. */
export function formatSshTarget(t: SshTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `ssh://${t.user ? `${t.user}@` : ''}${host}${t.port ? `:${t.port}` : ''}`;
}
