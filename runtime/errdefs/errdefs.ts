/**
 * The closed set of error kinds every Gantry component speaks.
 *
 * Errors cross three boundaries — gRPC, the CLI's exit code, the extension's
 * notifications — and each boundary translates exactly once (see
 * `errdefs/grpc.ts`). Code branches on the kind (`isNotFound(e)`), never on
 * message text. The kinds map 1:1 onto gRPC status codes, as containerd's
 * errdefs do, so a client sees the same kind the server raised.
 */

export type ErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'Conflict'
  | 'Aborted'
  | 'Unavailable'
  | 'ResourceExhausted'
  | 'Unimplemented'
  | 'PermissionDenied'
  | 'Unauthenticated'
  | 'OutOfRange'
  | 'DataLoss'
  | 'Internal'
  | 'Cancelled'
  | 'DeadlineExceeded'
  | 'Unknown';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'NotFound',
  'AlreadyExists',
  'InvalidArgument',
  'FailedPrecondition',
  'Conflict',
  'Aborted',
  'Unavailable',
  'ResourceExhausted',
  'Unimplemented',
  'PermissionDenied',
  'Unauthenticated',
  'OutOfRange',
  'DataLoss',
  'Internal',
  'Cancelled',
  'DeadlineExceeded',
  'Unknown',
];

// A registry-wide symbol rather than `instanceof`: the extension and the CLI
// bundle their own copy of this module, and the check must hold across copies.
const GANTRY_ERROR = Symbol.for('gantry.error');

export class GantryError extends Error {
  readonly [GANTRY_ERROR] = true;
  override readonly name = 'GantryError';

  /**
   * True when the error did not come from the daemon but from failing to
   * reach it (no connection, connection lost): "is gantryd running?" rather
   * than "the registry is down".
   */
  readonly transport: boolean;

  /**
   * A finer, stable reason within the kind, for callers that must tell cases
   * apart without reading the message ('' when none); see ErrorReasons.
   */
  readonly reason: string;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown; transport?: boolean; reason?: string },
  ) {
    super(message, options);
    this.transport = options?.transport ?? false;
    this.reason = options?.reason ?? '';
  }
}

/** The reasons errors carry across the API (GantryError.reason). */
export const ErrorReasons = {
  /** The container's or exec's command does not exist (Docker's exit 127). */
  commandNotFound: 'command-not-found',
  /** The command exists but cannot be executed (Docker's exit 126). */
  commandNotExecutable: 'command-not-executable',
} as const;

export function isGantryError(e: unknown): e is GantryError {
  return typeof e === 'object' && e !== null && (e as { [GANTRY_ERROR]?: boolean })[GANTRY_ERROR] === true;
}

/** The kind of any thrown value; plain errors are Unknown, aborts are Cancelled. */
export function kindOf(e: unknown): ErrorKind {
  if (isGantryError(e)) return e.kind;
  if (e instanceof Error && e.name === 'AbortError') return 'Cancelled';
  return 'Unknown';
}

export const errorOf = (kind: ErrorKind) => (message: string, cause?: unknown) =>
  new GantryError(kind, message, cause === undefined ? undefined : { cause });

export const notFound = errorOf('NotFound');
export const alreadyExists = errorOf('AlreadyExists');
export const invalidArgument = errorOf('InvalidArgument');
export const failedPrecondition = errorOf('FailedPrecondition');
export const conflict = errorOf('Conflict');
export const unavailable = errorOf('Unavailable');
export const resourceExhausted = errorOf('ResourceExhausted');
export const unimplemented = errorOf('Unimplemented');
export const permissionDenied = errorOf('PermissionDenied');
export const dataLoss = errorOf('DataLoss');
export const internal = errorOf('Internal');

const is =
  (kind: ErrorKind) =>
  (e: unknown): boolean =>
    kindOf(e) === kind;
export const isNotFound = is('NotFound');
export const isAlreadyExists = is('AlreadyExists');
export const isInvalidArgument = is('InvalidArgument');
export const isFailedPrecondition = is('FailedPrecondition');
export const isUnavailable = is('Unavailable');
export const isCancelled = is('Cancelled');

/** A one-line message for people: the error's message, without stack or class name. */
export function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
