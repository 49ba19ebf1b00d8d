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
  constructor(message: string, options: { hint?: string; cause?: unknown; reason?: string } = {}) {
    super(message, options);
    this.reason = options.reason ?? message;
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

/** The engine refused the request as forbidden (403: e.g. a network that cannot be removed). */
export function isForbidden(error: unknown): boolean {
  return error instanceof EngineApiError && error.statusCode === 403;
}
