/**
 * A failure that must end the CLI with a code other than the default 1.
 * Docker's `run`/`create` report their own failures as 125 and a command that
 * cannot be run as 126/127, so a script can tell "gantry failed" from "the
 * container exited 1". cli.ts prints `cause` the usual way (one line) and
 * exits with `exitCode`.
 */
export class ExitCodeError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly exitCode: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}
