/**
 * Translation between Gantry error kinds and gRPC status codes — the only
 * place it happens. The server wrapper (`api/server.ts`) calls `toStatus` on
 * everything a handler throws; the client (`client/rpc.ts`) calls
 * `fromServiceError` on everything it receives. A kind survives the round trip.
 */
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ERROR_KINDS, GantryError, describe, isGantryError, kindOf, type ErrorKind } from './errdefs';

const KIND_TO_CODE: Record<ErrorKind, status> = {
  NotFound: status.NOT_FOUND,
  AlreadyExists: status.ALREADY_EXISTS,
  InvalidArgument: status.INVALID_ARGUMENT,
  FailedPrecondition: status.FAILED_PRECONDITION,
  // gRPC has no "conflict"; containerd sends it as FAILED_PRECONDITION too and
  // tells them apart with metadata. So do we.
  Conflict: status.FAILED_PRECONDITION,
  Aborted: status.ABORTED,
  Unavailable: status.UNAVAILABLE,
  ResourceExhausted: status.RESOURCE_EXHAUSTED,
  Unimplemented: status.UNIMPLEMENTED,
  PermissionDenied: status.PERMISSION_DENIED,
  Unauthenticated: status.UNAUTHENTICATED,
  OutOfRange: status.OUT_OF_RANGE,
  DataLoss: status.DATA_LOSS,
  Internal: status.INTERNAL,
  Cancelled: status.CANCELLED,
  DeadlineExceeded: status.DEADLINE_EXCEEDED,
  Unknown: status.UNKNOWN,
};

const KIND_METADATA_KEY = 'gantry-error-kind';
const REASON_METADATA_KEY = 'gantry-error-reason';

export function toStatus(e: unknown): Partial<StatusObject> {
  const kind = kindOf(e);
  const metadata = new Metadata();
  metadata.set(KIND_METADATA_KEY, kind);
  if (isGantryError(e) && e.reason) metadata.set(REASON_METADATA_KEY, e.reason);
  return { code: KIND_TO_CODE[kind], details: describe(e), metadata };
}

function kindFromCode(code: status): ErrorKind {
  for (const kind of ERROR_KINDS) {
    if (KIND_TO_CODE[kind] === code && kind !== 'Conflict') return kind;
  }
  return 'Unknown';
}

function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}

/** Turns what grpc-js raised on the client side back into a GantryError of the same kind. */
export function fromServiceError(e: unknown): GantryError {
  if (!isServiceError(e)) return new GantryError(kindOf(e), describe(e), { cause: e });
  const sent = e.metadata?.get(KIND_METADATA_KEY)[0];
  const fromServer = typeof sent === 'string' && (ERROR_KINDS as readonly string[]).includes(sent);
  const kind = fromServer ? (sent as ErrorKind) : kindFromCode(e.code);
  // grpc-js reports connection failures as UNAVAILABLE without our metadata.
  const transport = !fromServer && e.code === status.UNAVAILABLE;
  const reason = e.metadata?.get(REASON_METADATA_KEY)[0];
  return new GantryError(kind, e.details || e.message, { cause: e, transport, reason: typeof reason === 'string' ? reason : '' });
}
