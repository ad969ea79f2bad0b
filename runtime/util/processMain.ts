/**
 * Runs a bundle's main function as the process's: its result becomes the
 * exit code, and what escapes it is one line on stderr and exit code 1 (a
 * stack trace is for bugs, which the commands' own error mapping reports).
 */
export function runAsProcessMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`gantry: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
