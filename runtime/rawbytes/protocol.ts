/** What both ends of the raw socket agree on (docs/files.md, "Large reads"). */

/** A ticket's token: the first bytes a connection sends. */
export const TOKEN_BYTES = 32;

/** The raw socket of the daemon whose API socket is `apiSocket`. */
export function rawSocketPath(apiSocket: string): string {
  return `${apiSocket}.raw`;
}
