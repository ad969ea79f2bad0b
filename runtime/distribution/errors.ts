/**
 * Registry answers and network failures → errdefs kinds, in one place.
 *
 * Messages name what was asked for ("manifest unknown:
 * 127.0.0.1:5000/test/busybox:nope") and carry the registry's own words from
 * its JSON error body (distribution-spec "errors" array) when it sent one.
 */
import type { Readable } from 'node:stream';
import { ErrorKind, GantryError } from '../errdefs/errdefs';
import { errorCode } from './retry';

const STATUS_KINDS: Record<number, ErrorKind> = {
  400: 'InvalidArgument',
  401: 'Unauthenticated',
  403: 'PermissionDenied',
  404: 'NotFound',
  405: 'Unimplemented',
  408: 'Unavailable',
  409: 'Conflict',
  416: 'OutOfRange',
  429: 'ResourceExhausted',
  501: 'Unimplemented',
};

export function kindForStatus(status: number): ErrorKind {
  return STATUS_KINDS[status] ?? (status >= 500 ? 'Unavailable' : 'Unknown');
}

/** Error bodies are small; read at most this much of one. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * The registry's explanation from a distribution-spec error body,
 * e.g. `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`
 * → "manifest unknown". Undefined for anything else.
 */
export function registryErrorText(body: Buffer | string | undefined): string | undefined {
  if (!body || body.length === 0) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString());
  } catch {
    return undefined;
  }
  const errors = (doc as { errors?: unknown })?.errors;
  if (!Array.isArray(errors)) return undefined;
  const parts = errors
    .map((e: { code?: unknown; message?: unknown }) => {
      if (typeof e?.message === 'string' && e.message) return e.message;
      if (typeof e?.code === 'string') return e.code.toLowerCase().replace(/_/g, ' ');
      return undefined;
    })
    .filter((t): t is string => !!t);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * An error for an unwanted HTTP status. `subject` names what was requested;
 * `fallback` is used when the body explains nothing (HEAD has no body).
 */
export function statusError(status: number, subject: string, body?: Buffer, fallback?: string): GantryError {
  const text = registryErrorText(body) ?? fallback ?? `unexpected HTTP status ${status}`;
  // A server error's own text ("unknown error") says little; the status says whose fault it is.
  const origin = status >= 500 && !text.includes(String(status)) ? `registry failed with HTTP ${status}: ` : '';
  return new GantryError(kindForStatus(status), `${origin}${text}: ${subject}`);
}

/** Reads a response body up to `limit` bytes, discarding the rest; never throws. */
export async function readSmallBody(body: Readable, limit = MAX_ERROR_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      if (size < limit) chunks.push(b.subarray(0, limit - size));
      size += b.length;
      if (size >= limit) break;
    }
  } catch {
    // The body is only decoration for an error that is already decided.
  } finally {
    abandon(body);
  }
  return Buffer.concat(chunks);
}

/**
 * Destroys a body we will not read. undici makes an unfinished body emit an
 * abort error when destroyed; nobody is listening any more, so swallow it
 * rather than let it become an uncaught exception.
 */
export function abandon(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Drops a body we do not want, keeping the connection reusable when it is short. */
export async function discardBody(body: Readable & { dump?: (o?: { limit: number }) => Promise<void> }): Promise<void> {
  try {
    if (body.dump) await body.dump({ limit: MAX_ERROR_BODY });
    else abandon(body);
  } catch {
    abandon(body);
  }
}

// The server does not speak TLS (a plain-HTTP registry reached over https).
const PLAIN_HTTP_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'EPROTO']);

export function isPlainHttpServer(e: unknown): boolean {
  const code = errorCode(e);
  return code !== undefined && PLAIN_HTTP_CODES.has(code);
}

// OpenSSL verification results as Node reports them, plus Node's own TLS codes.
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isTlsError(e: unknown): boolean {
  const code = errorCode(e);
  if (code === undefined) return false;
  return CERT_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO';
}

/** Unavailable for a request that never got an answer, with a hint where one helps. */
export function networkError(e: unknown, host: string, certsDir: string): GantryError {
  const code = errorCode(e);
  const message = (e as Error)?.message ?? String(e);
  const detail = code && !message.includes(code) ? `${message} (${code})` : message;
  if (isPlainHttpServer(e)) {
    return new GantryError(
      'Unavailable',
      `registry ${host} does not speak TLS: ${detail}; ` + `plain HTTP is only used for loopback hosts and --insecure-registry hosts`,
      { cause: e },
    );
  }
  if (isTlsError(e)) {
    return new GantryError(
      'Unavailable',
      `TLS handshake with registry ${host} failed: ${detail}; ` +
        `if it uses a private CA, put the CA certificate in ${certsDir}/${host}/ca.crt`,
      { cause: e },
    );
  }
  return new GantryError('Unavailable', `cannot reach registry ${host}: ${detail}`, { cause: e });
}
