/**
 * Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (two
 * characters at least). A name is a directory under the daemon root, so
 * nothing that could leave it (`/`, `..` as a whole name, NUL) gets through.
 */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Why `name` is not a volume name, or undefined when it is one. */
export function volumeNameProblem(name: string): string | undefined {
  if (VOLUME_NAME.test(name) && name.length <= 255) return undefined;
  return `invalid volume name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least two characters`;
}

/** Anonymous volumes are named with 64 hex digits, as Docker names them. */
export function isGeneratedVolumeName(name: string): boolean {
  return /^[0-9a-f]{64}$/.test(name);
}
