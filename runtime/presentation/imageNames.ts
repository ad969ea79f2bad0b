/**
 * Image names as a person reads and types them. Records and the API carry
 * the normalised form ("docker.io/library/busybox:latest"); people see
 * Docker's familiar one ("busybox:latest"). The grammar itself is the
 * registry client's (`runtime/distribution/reference.ts`): the daemon pulls
 * by it, so there is one parser, and what a front end accepts is exactly
 * what the daemon will.
 */
import { familiarName, familiarString, parseReference } from '../distribution/reference';

/** What a front end needs of a reference a person typed. */
export interface ImageReference {
  /** The normalised reference the API takes: "docker.io/library/busybox:latest". */
  readonly name: string;
  /** As Docker shows it: "busybox:latest". */
  readonly shown: string;
  /** The registry host: "docker.io", "127.0.0.1:5000". */
  readonly registry: string;
  /** Set when the reference pins a digest ("…@sha256:…"). */
  readonly digest?: string;
}

/** `text` read as an image reference ("busybox" → docker.io/library/busybox:latest); InvalidArgument saying what is wrong otherwise. */
export function imageReference(text: string): ImageReference {
  const ref = parseReference(text);
  return { name: ref.toString(), shown: familiarString(ref), registry: ref.domain, ...(ref.digest ? { digest: ref.digest } : {}) };
}

/**
 * The repository of a repository or record name, as Docker shows it:
 * docker.io/library/busybox(:1.36) → busybox; 127.0.0.1:5000/app stays as it is.
 */
export function displayRepository(repository: string): string {
  try {
    return familiarName(parseReference(repository));
  } catch {
    return repository;
  }
}

/** A record name as Docker prints it: docker.io/library/busybox:latest → busybox:latest. */
export function displayName(name: string): string {
  try {
    return familiarString(parseReference(name));
  } catch {
    return name;
  }
}
