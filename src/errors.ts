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
  constructor (public code: 'ip_mismatch' | 'target_forbidden', message: string, public callerIp: string, public dns: unknown) {
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

/** 429: over a rate limit or a concurrency cap. Built once, here; answered with Retry-After. */
export class RateLimitedError extends Error {
  statusCode = 429
  code: string = 'rate_limited'
  constructor (message: string, public retryAfterSeconds: number) { super(message) }
}

/** A Redis client error: the shared store is down (fail closed: 503, no probe). */
export function isStoreError (err: Error): boolean {
  const n = err.name ?? ''
  return n === 'MaxRetriesPerRequestError' || (n === 'ReplyError' && /redis/i.test(err.message)) ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED 127.*6379|Stream isn't writeable/i.test(err.message ?? '')
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string>
  /** { error, message } and, for a refusal by the target rule, { callerIp, dns } */
  body: { error: string, message: string, callerIp?: string, dns?: unknown }
}

/**
 * What a client may see of an error: the one mapping from the typed errors
 * above (and fastify's own) to a status, headers and `{ error, message }`.
 * The API's error handler sends it as JSON; the form route renders it as a page.
 */
export function httpAnswer (err: Error & { statusCode?: number, code?: unknown, validation?: unknown, validationContext?: string }): HttpAnswer {
  if (err instanceof RefusalError) return { status: 403, headers: {}, body: { error: err.code, message: err.message, callerIp: err.callerIp, dns: err.dns } }
  if (err instanceof RateLimitedError) return { status: 429, headers: { 'retry-after': String(Math.max(1, err.retryAfterSeconds)) }, body: { error: err.code, message: err.message } }
  // (a 429 built by hand, { statusCode: 429, retryAfter }: routes/tools.ts until it throws RateLimitedError)
  if (err.statusCode === 429) {
    const after = (err as { retryAfter?: number }).retryAfter
    return { status: 429, headers: { 'retry-after': String(Math.max(1, after ?? 60)) }, body: { error: 'rate_limited', message: err.message } }
  }
  if (err instanceof StoreDownError || isStoreError(err)) {
    return { status: 503, headers: { 'retry-after': '5' }, body: { error: 'store_unavailable', message: 'the shared store (Redis) is unavailable; no probe was started' } }
  }
  if (err.validation) {
    return { status: 400, headers: {}, body: { error: 'bad_input', message: `${err.validationContext ?? 'input'}${err.message.replace(/^(body|querystring|params)/, '')}` } }
  }
  const status = err.statusCode ?? 500
  if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, headers: {}, body: { error: 'too_large', message: 'the request body is larger than mxprobe accepts' } }
  }
  if (status >= 400 && status < 500) {
    return { status, headers: {}, body: { error: typeof err.code === 'string' && !err.code.startsWith('FST_') ? err.code : 'bad_request', message: err.message } }
  }
  return { status: 500, headers: {}, body: { error: 'internal', message: 'internal error' } }
}
