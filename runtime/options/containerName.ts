/**
 * The container-name rule, Docker's: at least two characters of
 * [a-zA-Z0-9_.-], the first a letter or digit. One rule for every place that
 * checks a name: the extension's Run… prompt shows the problem as the user
 * types, the CLI refuses `--name` before calling, and the daemon enforces it
 * on create with the same function.
 */
import { invalidArgument } from '../errdefs/errdefs';

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Undefined when `name` is a valid container name (without Docker's leading '/'), else what is wrong with it. */
export function containerNameProblem(name: string): string | undefined {
  return NAME_PATTERN.test(name) ? undefined : 'only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters';
}

/** A container name as Docker accepts it (`/name` too), returned without the slash; InvalidArgument otherwise. */
export function validateContainerName(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  const problem = containerNameProblem(bare);
  if (problem) throw invalidArgument(`invalid container name ${JSON.stringify(name)}: ${problem}`);
  return bare;
}
