// Errors that carry their HTTP meaning, so routes stay thin and the central
// error handler decides what a client may see.

export class BadInputError extends Error {
  statusCode = 400
  code = 'bad_input'
  constructor (message: string, public field?: string) { super(message) }
}

export class PayloadTooLargeError extends Error {
  statusCode = 413
  code = 'too_large'
}

/** The target rule forbids the test; carries what DNS says so the caller can fix it. */
export class RefusalError extends Error {
  statusCode = 403
  /**
   * `extra`: more fields for the 403 body: `diagnosis` (the classic mistakes
   * found in the DNS facts, `[ { code, message } ]`), `retry` (when and how to
   * try again), and, for a diagnosis, `fixFirst`.
   */
  constructor (public code: 'ip_mismatch' | 'target_forbidden', message: string, public callerIp: string, public dns: unknown, public extra: Record<string, unknown> = {}) {
    super(message)
  }
}

export class StoreDownError extends Error {
  statusCode = 503
  code = 'store_unavailable'
  constructor (message = 'the shared store (Redis) is unavailable; no probe was started') { super(message) }
}

export class NotFoundError extends Error {
  statusCode = 404
  code = 'not_found'
}

/** A probe that could not complete: what happened on the wire, classified for advice. */
export type ProbeFailureKind =
  | 'refused' | 'timeout' | 'unreachable' | 'closed' | 'silent' | 'deadline' | 'byte_cap'
  | 'line_too_long' | 'protocol' | 'tls' | 'policy' | 'dns' | 'other'

export class ProbeError extends Error {
  override name = 'ProbeError'
  constructor (public kind: ProbeFailureKind, message: string, public port?: number) { super(message) }
}
