/**
 * Docker's rule for commands that run another command (`run IMAGE CMD…`,
 * `exec CONTAINER CMD…`): options end at the first positional argument, so
 * `gantry run busybox ls -l` passes `-l` to ls instead of reading it as
 * `--label`. node:util parseArgs has no such mode, so the argv is split here
 * first: the head goes to parseArgs, the tail is taken verbatim.
 */
import type { ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface SplitArgv {
  /** The options (and their values) before the first positional. */
  readonly options: string[];
  /** The first positional and everything after it, untouched. */
  readonly rest: string[];
}

/**
 * Splits before the first argument that is neither an option nor an option's
 * value. `--` ends the options and is dropped. Unknown options are left in
 * the head (taken as flags) so parseArgs reports them.
 */
export function splitAtFirstPositional(argv: readonly string[], options: Options): SplitArgv {
  const takesValue = (option: Options[string] | undefined) => option?.type === 'string';
  const byShort = new Map(
    Object.values(options)
      .filter((o) => o.short)
      .map((o) => [o.short!, o]),
  );
  // Values are joined to their option ("--pids-limit=-1", "-e-x"): parseArgs
  // refuses a separate value that starts with a dash, Docker takes it.
  const head: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i];
    if (arg === '--') return { options: head, rest: argv.slice(i + 1) };
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (eq < 0 && takesValue(options[name]) && i + 1 < argv.length) {
        head.push(`${arg}=${argv[i + 1]}`);
        i += 2;
      } else {
        head.push(arg);
        i += 1;
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      // A group of short flags ("-it"); a value-taking one ends the group and
      // takes the rest of it ("-eFOO=1") or the next argument ("-e FOO=1").
      const valueIndex = [...arg].findIndex((ch, j) => j > 0 && takesValue(byShort.get(ch)));
      if (valueIndex === arg.length - 1 && i + 1 < argv.length) {
        head.push(arg + argv[i + 1]);
        i += 2;
      } else {
        head.push(arg);
        i += 1;
      }
    } else {
      break;
    }
  }
  return { options: head, rest: argv.slice(i) };
}
