/**
 * Image references, normalised exactly as Docker does (distribution/reference:
 * ParseNormalizedNamed, plus `latest` when there is neither tag nor digest).
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path
 *   domain     := host [":" port]          host: DNS name, IPv4, or [IPv6]
 *   path       := component ("/" component)*
 *   component  := [a-z0-9]+ (separator [a-z0-9]+)*    separator: . _ __ -+
 *   tag        := [\w][\w.-]{0,127}
 *
 * The first "/"-separated element is a domain only if it contains "." or ":",
 * is "localhost", or has uppercase letters (Docker's rule: a path component
 * can't, so it must be a host). Otherwise the domain is docker.io, and a
 * single-element docker.io path gets the "library/" prefix.
 * "index.docker.io" is canonicalised to "docker.io".
 */
import { invalidArgument } from '../errdefs/errdefs';
import type { Reference } from './distribution';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';
/** Docker's limit applies to the path (the name without its domain). */
export const MAX_PATH_LENGTH = 255;
// Far above any valid reference (255 path + host + 128 tag + sha512 digest):
// refuse before the regex runs so pathological input can't make it backtrack.
const MAX_INPUT_LENGTH = 1024;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^((?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const TAG_RE = new RegExp(`^${TAG}$`);

/** Hex length per digest algorithm Docker registers (go-digest). */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

class ParsedReference implements Reference {
  readonly name: string;
  constructor(
    readonly domain: string,
    readonly path: string,
    readonly tag: string | undefined,
    readonly digest: string | undefined,
  ) {
    this.name = `${domain}/${path}`;
  }

  toString(): string {
    return this.name + (this.tag ? `:${this.tag}` : '') + (this.digest ? `@${this.digest}` : '');
  }
}

/**
 * Parses and normalises `s` ("busybox" → docker.io/library/busybox:latest).
 * Throws InvalidArgument naming what is wrong (uppercase, too long, bad digest…).
 */
export function parseReference(s: string): Reference {
  const bad = (why: string) => invalidArgument(`invalid reference format "${s}": ${why}`);
  if (s === '') throw bad('repository name must have at least one component');
  if (s.length > MAX_INPUT_LENGTH) throw bad(`longer than ${MAX_INPUT_LENGTH} characters`);
  if (IDENTIFIER_RE.test(s)) throw bad('cannot specify 64-byte hexadecimal strings as a repository name');

  const [domain, remainder] = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) throw bad(`repository name (${remote}) must be lowercase`);

  const full = `${domain}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (!m) {
    const lower = full.toLowerCase();
    if (lower !== full && REFERENCE_RE.test(lower)) throw bad('repository name must be lowercase');
    throw bad('not [domain/]path[:tag][@digest]');
  }
  const [, name, tag, digest] = m;
  const nm = NAME_RE.exec(name)!;
  // "a.b_c/d" matches as a domain-less path; Docker would keep it without a domain, we refuse it.
  if (nm[1] === undefined) throw bad(`invalid registry host "${domain}"`);
  const path = nm[2];
  if (path.length > MAX_PATH_LENGTH) throw bad(`repository name must not be more than ${MAX_PATH_LENGTH} characters`);
  if (digest !== undefined) validateDigest(digest, bad);
  return new ParsedReference(nm[1], path, tag ?? (digest ? undefined : DEFAULT_TAG), digest);
}

/** A reference to the same repository pinned to `digest` (the tag, if any, is kept). */
export function withDigest(ref: Reference, digest: string): Reference {
  validateDigest(digest, (why) => invalidArgument(`invalid digest "${digest}": ${why}`));
  return new ParsedReference(ref.domain, ref.path, ref.tag, digest);
}

/** A reference to the same repository with `tag` and no digest. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG_RE.test(tag)) throw invalidArgument(`invalid tag "${tag}"`);
  return new ParsedReference(ref.domain, ref.path, tag, undefined);
}

/** The name as Docker shows it: docker.io/library/busybox → busybox, docker.io/me/app → me/app. */
export function familiarName(ref: Pick<Reference, 'domain' | 'path'>): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  if (ref.path.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_PREFIX.length);
    // Only one level: docker.io/library/a/b stays "library/a/b" (Docker does the same).
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** familiarName plus tag and digest: "busybox:latest", "me/app@sha256:…". */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** Splits off the domain as Docker's splitDockerDomain does; the remainder still carries tag/digest. */
function splitDockerDomain(s: string): [string, string] {
  const slash = s.indexOf('/');
  // A single element ("ubuntu", "ubuntu:22.04") is never a host: "localhost:5000" alone is repo "localhost", tag "5000".
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_PREFIX + s];
  const first = s.slice(0, slash);
  let domain: string;
  let remote: string;
  if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    domain = first;
    remote = s.slice(slash + 1);
  } else {
    domain = DEFAULT_DOMAIN;
    remote = s;
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_PREFIX + remote;
  return [domain, remote];
}

/** go-digest's Validate: a registered algorithm and lowercase hex of exactly its length. */
function validateDigest(digest: string, bad: (why: string) => Error): void {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const want = DIGEST_HEX_LENGTH[algorithm];
  if (colon <= 0 || want === undefined) throw bad(`unsupported digest algorithm "${algorithm}"`);
  if (!/^[a-f0-9]*$/.test(hex)) throw bad('digest must be lowercase hex');
  if (hex.length !== want) throw bad(`invalid ${algorithm} digest length ${hex.length}, want ${want}`);
}
