// Errors that carry their HTTP meaning, so routes stay thin and the central
// error handler decides what a client may see.
import { bi, type Lang } from './i18n/index.js'
import { errorText } from './i18n/errors.js'

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
   * try again), for a diagnosis `fixFirst`, and `id`: the stored refusal
   * report (`/r/:id`), once the runner has stored it.
   */
  /** the classic mistakes with their advice parameters, for the stored refusal report (not in the 403 body) */
  findings: Array<{ code: string, params: Record<string, unknown> }> = []
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

/** A rate limit a caller went over: which one, and how many requests per window it allows. */
export interface RateLimit {
  /** `check`: one check type per caller; `domain`: checks of one domain; `tools`: the text tools per caller */
  kind: 'check' | 'domain' | 'tools'
  max: number
  windowSeconds: number
}

/** The text of a rate limit's 429, in the language of the answer (the page's or the API caller's). */
export function rateLimitText (lang: Lang, limit: RateLimit, waitSeconds: number): string {
  const wait = Math.max(1, waitSeconds)
  switch (limit.kind) {
    case 'check': return bi(lang, `テストの回数が上限に達しました (同じテストは ${limit.windowSeconds} 秒に ${limit.max} 回まで)。${wait} 秒後にもう一度お試しください。`, `rate limit exceeded: at most ${limit.max} such checks per ${limit.windowSeconds} s; try again in ${wait} s`)
    case 'domain': return bi(lang, `このドメインへのテストが多すぎます (${limit.windowSeconds} 秒に ${limit.max} 回まで)。${wait} 秒後にもう一度お試しください。`, `too many checks of this domain: at most ${limit.max} per ${limit.windowSeconds} s; try again in ${wait} s`)
    case 'tools': return bi(lang, `解析ツールの利用回数が上限に達しました (${limit.windowSeconds} 秒に ${limit.max} 回まで)。${wait} 秒後にもう一度お試しください。`, `rate limit exceeded: at most ${limit.max} tool requests per ${limit.windowSeconds} s; try again in ${wait} s`)
  }
}

/**
 * 429: over a rate limit or a concurrency cap, the one 429 of mxprobe:
 * `{ error, message }` with Retry-After (httpAnswer). Over a rate limit
 * (`RateLimitedError.over`) the error carries the limit, and its text is
 * written when the answer is, in the answer's language.
 */
export class RateLimitedError extends Error {
  statusCode = 429
  code: string = 'rate_limited'
  limit?: RateLimit
  constructor (message: string, public retryAfterSeconds: number) { super(message) }

  static over (limit: RateLimit, retryAfterSeconds: number): RateLimitedError {
    const e = new RateLimitedError(rateLimitText('en', limit, retryAfterSeconds), Math.max(1, retryAfterSeconds))
    e.limit = limit
    return e
  }
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string>
  /** { error, message } and, for a refusal by the target rule, { callerIp, dns, diagnosis, retry … } */
  body: { error: string, message: string, callerIp?: string, dns?: unknown, [extra: string]: unknown }
}

/**
 * What a client may see of an error, in the caller's language: the one
 * mapping from the typed errors above (and fastify's own) to a status,
 * headers and `{ error, message }`. The API's error handler sends it as
 * JSON; the form route renders it as a page. A store failure arrives here
 * already as StoreDownError (the stores wrap every Redis error), whatever
 * host and port Redis is on.
 */
export function httpAnswer (err: Error & { statusCode?: number, code?: unknown, validation?: unknown, validationContext?: string, retryAfterSeconds?: number }, lang: Lang = 'en'): HttpAnswer {
  if (err instanceof RefusalError) return { status: 403, headers: {}, body: { ...err.extra, error: err.code, message: err.message, callerIp: err.callerIp, dns: err.dns } }
  if (err instanceof RateLimitedError) {
    const message = err.limit ? rateLimitText(lang, err.limit, err.retryAfterSeconds) : err.message
    return { status: 429, headers: { 'retry-after': String(Math.max(1, err.retryAfterSeconds)) }, body: { error: err.code, message } }
  }
  if (err instanceof StoreDownError) {
    return { status: 503, headers: { 'retry-after': '5' }, body: { error: 'store_unavailable', message: bi(lang, 'mxprobe の共有ストア (Redis) が使えないため、テストを始めませんでした。しばらくしてからもう一度お試しください。', 'the shared store (Redis) is unavailable; no probe was started') } }
  }
  // A busy worker pool (the text tools) says when to come back.
  if (err.statusCode === 503 && typeof err.retryAfterSeconds === 'number') {
    return { status: 503, headers: { 'retry-after': String(Math.max(1, err.retryAfterSeconds)) }, body: { error: typeof err.code === 'string' ? err.code : 'busy', message: err.message } }
  }
  if (err.validation) {
    return { status: 400, headers: {}, body: { error: 'bad_input', message: errorText(lang, `${err.validationContext ?? 'input'}${err.message.replace(/^(body|querystring|params)/, '')}`) } }
  }
  const status = err.statusCode ?? 500
  if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, headers: {}, body: { error: 'too_large', message: bi(lang, '送られたデータが大きすぎます。', 'the request body is larger than mxprobe accepts') } }
  }
  if (status >= 400 && status < 500) {
    return { status, headers: {}, body: { error: typeof err.code === 'string' && !err.code.startsWith('FST_') ? err.code : 'bad_request', message: status === 400 ? errorText(lang, err.message) : err.message } }
  }
  return { status: 500, headers: {}, body: { error: 'internal', message: bi(lang, 'mxprobe 内部のエラーです。', 'internal error') } }
}
