/**
 * The engine's failures, typed. Every engine's way of saying a thing maps to one class here (Podman says "gone"
 * and "name taken" with a 500 where Docker says 404 and 409), so no code outside src/engine/ reads a status code:
 * it asks isNotFound(error), isConflict(error) or catches EngineDownError.
 */
import { AcaError, EngineError } from '../errors.js';
import { isGoneAnswer, isNameConflict } from './podman.js';

/** The engine answered with an HTTP error; `message` is the engine's own text. */
export class EngineApiError extends EngineError {}

/** The object is not there (404; Podman: a 500 for a container removed under the request). */
export class NotFoundError extends EngineApiError {}

/** The request clashes with the object's state or name (409; Podman: a 500 "name is already in use"). */
export class ConflictError extends EngineApiError {}

/**
 * The engine cannot be reached, or stopped answering: refused, reset, closed mid-stream, timed out, ssh failed.
 * The CLI maps it to exit 125 whatever the command.
 */
export class EngineDownError extends EngineError {
  /** Why, without the address: "connection refused", "no answer within 5 s" (connect.ts names the address itself). */
  readonly reason: string;
  /** No answer in time: the engine may be there but slow (what is asked of it may be the slow part). */
  readonly timedOut: boolean;
  constructor(message: string, options: { hint?: string; cause?: unknown; reason?: string; timedOut?: boolean } = {}) {
    super(message, options);
    this.reason = options.reason ?? message;
    this.timedOut = options.timedOut ?? false;
  }
}

/** A request's own body failed (an unreadable file in a tar being sent); the engine is not at fault. */
export class RequestBodyError extends AcaError {}

/** The typed error for an engine's HTTP error answer. */
export function apiErrorFor(statusCode: number, message: string): EngineApiError {
  if (statusCode === 404 || isGoneAnswer(statusCode, message)) return new NotFoundError(message, { statusCode });
  if (statusCode === 409 || isNameConflict(statusCode, message)) return new ConflictError(message, { statusCode });
  return new EngineApiError(message, { statusCode });
}

export function isNotFound(error: unknown): error is NotFoundError {
  return error instanceof NotFoundError;
}

export function isConflict(error: unknown): error is ConflictError {
  return error instanceof ConflictError;
}

/** Why a connection to the engine failed, in the user's terms (TLS failures with what to check). */
export function describeConnectionFailure(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT': return 'socket not found';
    case 'ECONNREFUSED': return 'connection refused';
    case 'EACCES': return 'permission denied';
    case 'ETIMEDOUT': return 'timed out';
    case 'ENOTFOUND': return 'host not found';
    case 'EHOSTUNREACH': return 'host unreachable';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the engine closed the connection';
    case 'ENETUNREACH': return 'network unreachable';
    case 'EAI_AGAIN': return 'host name lookup failed';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
      return `the engine's TLS certificate is not signed by the trusted CA (${error.code}); check --tlscacert or DOCKER_CERT_PATH`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the engine's TLS certificate is for another host name (${error.message.replace(/^Hostname\/IP does not match certificate's altnames: /, '')})`;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return `the engine's TLS certificate is not valid now (${error.code})`;
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
      return `the engine refused aca's TLS client certificate (${error.code}); check --tlscert/--tlskey or DOCKER_CERT_PATH`;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `TLS handshake failed (${error.code}); is this a TLS port? (tcp:// without DOCKER_TLS_VERIFY speaks plain HTTP)`;
    default: return error.message;
  }
}

/** A body stream's failure, naming the file when it was one (tar-fs and fs errors carry the path). */
export function requestBodyFailure(error: NodeJS.ErrnoException): RequestBodyError {
  if (error instanceof RequestBodyError) return error;
  const reason = error.code === 'EACCES' ? 'permission denied'
    : error.code === 'ENOENT' ? 'no such file'
    : error.code === 'EISDIR' ? 'is a directory'
    : error.code ? error.code : error.message;
  return error.path
    ? new RequestBodyError(`cannot read ${error.path}: ${reason}`, { cause: error })
    : new RequestBodyError(`cannot send the request body: ${error.message}`, { cause: error });
}
