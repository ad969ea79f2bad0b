/**
 * Short IDs, as Docker prints them: the first 12 hex digits, without the
 * digest algorithm. One rule for container IDs, image IDs and blob digests
 * (a container's default hostname is its short ID too).
 */

/** "sha256:0123456789abcdef…" or "0123456789abcdef…" → "0123456789ab". */
export function shortId(id: string): string {
  return id.replace(/^sha\d+:/, '').slice(0, 12);
}
