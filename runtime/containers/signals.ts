/**
 * The Linux signal table (x86_64 and arm64 share it), fixed here rather
 * than taken from the host's `os.constants.signals`: stop signals are stored
 * with a container and sent on whatever host runs it, and the table is what
 * the container's kernel uses, not what Node was built with.
 *
 * Names are canonical with the SIG prefix. Real-time signals are named as
 * Docker names them: SIGRTMIN (34), SIGRTMIN+1 … SIGRTMIN+15,
 * SIGRTMAX-14 … SIGRTMAX-1, SIGRTMAX (64). 32 and 33 are taken by the C
 * library's threads and have no name.
 */

const STANDARD: readonly string[] = [
  '',
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
];

/** Other names for the same numbers. */
const ALIASES: Record<string, number> = { SIGIOT: 6, SIGCLD: 17, SIGPOLL: 29 };

export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/** The canonical name of signal `n` (1–64), or undefined when it has none. */
export function signalName(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 1 || n > SIGRTMAX) return undefined;
  if (n < STANDARD.length) return STANDARD[n];
  if (n < SIGRTMIN) return undefined;
  if (n === SIGRTMIN) return 'SIGRTMIN';
  if (n === SIGRTMAX) return 'SIGRTMAX';
  // Docker's split: the lower half counts up from RTMIN, the upper half down from RTMAX.
  return n <= SIGRTMIN + 15 ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
}

const BY_NAME = new Map<string, number>();
for (let n = 1; n <= SIGRTMAX; n++) {
  const name = signalName(n);
  if (name) BY_NAME.set(name, n);
}
for (const [name, n] of Object.entries(ALIASES)) BY_NAME.set(name, n);

/** The number of a signal name with the SIG prefix, upper case ("SIGTERM", "SIGRTMIN+3"), or undefined. */
export function signalNumber(name: string): number | undefined {
  return BY_NAME.get(name);
}
