/**
 * Why runc could not start a process (the container's command or an exec):
 * runc reports it only as text ("unable to start container process: exec:
 * "x": executable file not found in $PATH"), so this is the one place that
 * text is read. The result is a stable reason the CLI turns into Docker's
 * exit codes (127 not found, 126 not executable) without reading messages.
 */
import { ErrorReasons, GantryError } from '../errdefs/errdefs';

export function startFailureReason(runcMessage: string): string {
  if (!/\bexec: /.test(runcMessage)) return '';
  if (/executable file not found|no such file or directory/.test(runcMessage)) return ErrorReasons.commandNotFound;
  if (/permission denied|is a directory|exec format error/.test(runcMessage)) return ErrorReasons.commandNotExecutable;
  return '';
}

/** An InvalidArgument for a process that could not be started, with its reason. */
export function processStartError(message: string): GantryError {
  return new GantryError('InvalidArgument', message, { reason: startFailureReason(message) });
}
