/**
 * Turns a failed `ssh` (exit 255) into a GantryError that says what to do.
 *
 * ssh's stderr text is the only signal it gives: the exit code is 255 for
 * every failure of its own. This is the one place in Gantry that reads
 * ssh's messages (docs/architecture.md, "Conventions" 2: code never branches
 * on message text except in such named places; runc's is
 * tasks/startErrors.ts). The
 * patterns are OpenSSH's own wording (see ssh(1) sources: sshconnect.c,
 * sshconnect2.c, clientloop.c), pinned by unit tests with real stderr samples
 * captured from OpenSSH 9.2.
 *
 * Every error is `transport: true` (the daemon was not reached). The kind
 * tells a client whether retrying can help: only Unavailable can.
 */
import { GantryError, type ErrorKind } from '../../errdefs/errdefs';

export interface SshFailureContext {
  /** "ssh://root@host:2222", for messages. */
  readonly label: string;
  /** The destination as ssh saw it (alias or address). */
  readonly host: string;
  /** The command a person can run to see or fix it themselves, e.g. `ssh -p 2222 root@host`. */
  readonly sshCommand: string;
  /** ServerAliveInterval × ServerAliveCountMax, for the keepalive message. */
  readonly aliveTimeoutSec: number;
}

interface Rule {
  readonly test: RegExp;
  readonly kind: ErrorKind;
  readonly message: (m: RegExpMatchArray, c: SshFailureContext, stderr: string) => string;
}

// Order matters: a changed key also prints "Host key verification failed".
const RULES: readonly Rule[] = [
  {
    test: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/,
    kind: 'PermissionDenied',
    message: (_m, c, stderr) => {
      const remove = /ssh-keygen -f "?[^\n"]+"? -R "?[^\n"]+"?/.exec(stderr)?.[0];
      return (
        `the host key of ${c.host} has CHANGED since it was recorded in known_hosts: someone may be intercepting ` +
        `the connection, or the host was reinstalled. Gantry will not connect. Check the new key with the ` +
        `host's administrator; only if it is right, remove the old one${remove ? ` (${remove})` : ` (ssh-keygen -R ${c.host})`} ` +
        `and connect once with \`${c.sshCommand}\``
      );
    },
  },
  {
    test: /No \S+ host key is known for|Host key verification failed/,
    kind: 'FailedPrecondition',
    message: (_m, c) =>
      `host key for ${c.host} is not known: connect once with \`${c.sshCommand}\` to verify and record it, then try again`,
  },
  {
    test: /Permission denied \(([^)]*)\)|Too many authentication failures/,
    kind: 'Unauthenticated',
    message: (m, c) =>
      `${c.label} refused our login${m[1] ? ` (tried: ${m[1]})` : ''}: check that your key is loaded (ssh-add -l) ` +
      `or set as IdentityFile in your ssh config, and that its public key is in the user's ~/.ssh/authorized_keys on the host`,
  },
  {
    test: /Could not resolve hostname (\S+?):\s*(.*)/,
    kind: 'NotFound',
    message: (m) => `cannot resolve host name "${m[1]}" (${m[2].trim()}): check the spelling or add a Host entry to your ssh config`,
  },
  {
    test: /Timeout, server \S+ not responding/,
    kind: 'Unavailable',
    message: (_m, c) => `lost the link to ${c.label}: the server did not answer ssh keepalives for ${c.aliveTimeoutSec} s`,
  },
  {
    test: /port (\d+): Connection refused/,
    kind: 'Unavailable',
    message: (m, c) => `${c.label}: connection refused: nothing listens for SSH on port ${m[1]} (is sshd running?)`,
  },
  {
    test: /Connection timed out|timed out during banner exchange|Operation timed out/,
    kind: 'Unavailable',
    message: (_m, c) => `${c.label}: connection timed out: the host did not answer (down, or a firewall drops SSH?)`,
  },
  {
    test: /No route to host|Network is unreachable|Host is unreachable/,
    kind: 'Unavailable',
    message: (m, c) => `${c.label}: ${m[0].toLowerCase()}: check the network and the host's address`,
  },
  {
    test: /kex_exchange_identification|Connection closed by \S+|Connection reset by \S+|Broken pipe|Connection to \S+ closed by remote host/,
    kind: 'Unavailable',
    message: (m, c) => `${c.label}: the SSH connection was closed (${m[0]}); sshd may be restarting or limiting new connections`,
  },
  {
    test: /Can't open user config file[^\n]*|Bad configuration option[^\n]*|Bad owner or permissions on[^\n]*|command-line line \d+:[^\n]*/,
    kind: 'InvalidArgument',
    message: (m) => `ssh configuration error: ${m[0].trim()}`,
  },
];

/** The error for ssh's stderr; unrecognised text becomes Unavailable with ssh's last line. */
export function classifySshFailure(stderr: string, c: SshFailureContext): GantryError {
  for (const rule of RULES) {
    const m = rule.test.exec(stderr);
    if (m) return new GantryError(rule.kind, `ssh: ${rule.message(m, c, stderr)}`, { transport: true });
  }
  const last = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  return new GantryError('Unavailable', `ssh to ${c.label} failed${last ? `: ${last}` : ' (exit 255, no message)'}`, { transport: true });
}
