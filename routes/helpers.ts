// What every route needs: the caller's IP as mxprobe sees it, the language,
// and the thin wrapper that turns a check definition into an endpoint with
// its schema, rate limits and sync/async answer.
import { isIPv4 } from 'node:net'
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { parseIp, rateLimitKey } from '../src/net/ip.js'
import { pickLang, type Lang } from '../src/i18n/index.js'
import type { CheckDefinition } from '../src/checks/context.js'
import type { LimitedType } from '../src/config.js'
import { ReportSchema, type Report } from '../src/core/report.js'
import { StoreDownError, RateLimitedError } from '../src/errors.js'
import { refuseCrossSite } from '../src/plugins/cross-site.js'
import { startCheck, type StartResult } from '../src/checks/start.js'
import { coerceFormBody } from '../src/plugins/form-body.js'
import { reportText } from '../src/web/report-text.js'
import { wantsText, errorsAsText } from '../src/plugins/text-answers.js'
import { validateDomain } from '../src/dns/names.js'
import { CallerAddresses, type FamilyOrigins } from '../src/net/caller.js'
import { MAX_PROOFS, MAX_PROOF_BYTES } from '../src/net/proof.js'
import { BadInputError } from '../src/errors.js'
import { proofText } from '../src/i18n/errors.js'

/**
 * The caller's address: the TCP peer, or the X-Forwarded-For entry that
 * fastify's trustProxy (TRUST_PROXY) accepts. IPv4-mapped IPv6 is IPv4.
 */
export function callerIp (req: FastifyRequest): string {
  // Hot path: a kernel-reported IPv4 peer is already canonical (node's isIPv4 is native and rejects short forms).
  if (isIPv4(req.ip)) return req.ip
  const p = parseIp(req.ip)
  return p ? p.text : req.ip
}

/**
 * Did this request come from a program (no Origin) or from one of this
 * service's own pages: its own host, PUBLIC_ORIGIN, IPV4_ORIGIN, IPV6_ORIGIN?
 */
export function ownOrigin (req: FastifyRequest, origins: FamilyOrigins = {}): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true
  if (origin === origins[4] || origin === origins[6] || origin === origins.public) return true
  try { return new URL(origin).host === req.headers.host } catch { return false }
}

/** `proofs` of every check body: address proofs from GET /api/v1/ip on the other family's origin. */
export const ProofsField = Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: MAX_PROOF_BYTES }), {
  maxItems: MAX_PROOFS,
  description: `proofs of the caller's other addresses (the \`proof\` of GET /api/v1/ip on IPV4_ORIGIN / IPV6_ORIGIN), at most ${MAX_PROOFS}; a bad, expired or forged one is a 400`
}))

/** A check body schema with `proofs` added: every check route and the diagnosis take it, through here alone. */
export function withProofs<T extends TSchema> (body: T): T {
  const props = (body as { properties?: Record<string, TSchema> }).properties
  if (!props || props.proofs) return body
  return { ...body, properties: { ...props, proofs: ProofsField } }
}

/**
 * Who the caller is: the connection's address plus each address proven by
 * a valid proof of the body's `proofs`, and the input without them (so a
 * proof never reaches a check, a stored report, the repeat cache or a log).
 * Every check start, API or form, single check or diagnosis, comes through
 * here. A proof that proves nothing is a 400 naming `proofs`, never ignored.
 */
export function callerOf<I> (app: FastifyInstance, req: FastifyRequest, input: I, lang: Lang): { caller: CallerAddresses, input: I } {
  const ip = callerIp(req)
  const body = input && typeof input === 'object' && !Array.isArray(input) ? input as Record<string, unknown> : null
  if (!body || !('proofs' in body)) return { caller: CallerAddresses.of(ip, [], app.mx.config.ipv6HomePrefix), input }
  const { proofs, ...rest } = body
  if (!Array.isArray(proofs) || proofs.length > MAX_PROOFS) throw new BadInputError(proofText(lang, 'list', -1, { max: MAX_PROOFS }), 'proofs')
  const proven: string[] = []
  proofs.forEach((p, i) => {
    const v = app.mx.proofs.verify(p)
    if (!v.ok) throw new BadInputError(proofText(lang, v.reason, i, { ttl: app.mx.proofs.ttlSeconds }), 'proofs')
    const allowed = app.mx.connector.addressVerdict(v.ip)
    if (!allowed.ok) throw new BadInputError(proofText(lang, 'special', i, { ip: v.ip, reason: allowed.reason }), 'proofs')
    proven.push(v.ip)
  })
  return { caller: CallerAddresses.of(ip, proven, app.mx.config.ipv6HomePrefix), input: rest as I }
}

export function langOf (req: FastifyRequest, fallback: Lang = 'en'): Lang {
  return pickLang((req.query as Record<string, unknown> | undefined)?.lang, req.headers['accept-language'], fallback)
}

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() }, { additionalProperties: true })

/** The API's report schema is the model's own TypeBox definition (src/core/report.ts). */
export { ReportSchema }

export const AsyncQuery = Type.Object({
  async: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')])),
  lang: Type.Optional(Type.Union([Type.Literal('ja'), Type.Literal('en')]))
}, { additionalProperties: false })

export function reportLinks (id: string) {
  return { self: `/api/v1/checks/${id}`, events: `/api/v1/checks/${id}/events`, page: `/r/${id}` }
}

export { crossSite, refuseCrossSite } from '../src/plugins/cross-site.js'

/** Fail closed: a probe endpoint must not run when the shared store is down. */
export async function requireStore (this: FastifyInstance, _req: FastifyRequest, _reply: FastifyReply): Promise<void> {
  if (!this.mx.store.isReady()) throw new StoreDownError()
}

export interface CheckRouteOptions<I> {
  path: string
  def: CheckDefinition<I>
  limit: LimitedType
  body: TSchema
  summary: string
  description?: string
  /** the domain this request targets, for the per-domain limit (after validation by the check) */
  domainOf?: (input: I) => string | undefined
  /** hook for routes that answer differently; default: JSON report, or the plain-text transcript for `Accept: text/plain` */
  render?: (req: FastifyRequest, reply: FastifyReply, report: Report) => unknown
  /**
   * Abuse control for checks that hammer a server (relay, ports): an identical
   * request (same caller IP, same input) within REPEAT_WINDOW_SECONDS is answered
   * from the recent report, marked `cached: true, cachedFrom: <id>`, and opens no socket.
   */
  reuseRecent?: boolean
}

export { convertFormBody } from '../src/plugins/form-body.js'
export { wantsText, errorsAsText } from '../src/plugins/text-answers.js'

/** A started check as a route answers it: the report (sync) or its id (async). */
export type Submitted = StartResult

/**
 * Everything between a validated input and a running check, for the API route
 * and the no-JavaScript form alike: the store must be up (fail closed), the
 * per-IP and per-domain limits (one counter whichever way a check is started),
 * then startCheck(). Throws the typed errors of src/errors.ts.
 */
export type CheckSubmitter<I = unknown> = (req: FastifyRequest, input: I, o: { async: boolean, lang: Lang }) => Promise<Submitted>

const submitters = new WeakMap<object, Map<string, { submit: CheckSubmitter<any>, body: TSchema }>>()

/** The submitter of a registered check route, for the form route (or undefined). */
/** A route with its own submitter (the diagnosis) makes it known to the form route too. */
export function registerSubmitter (app: FastifyInstance, type: string, entry: { submit: CheckSubmitter<any>, body: TSchema }): void {
  const known = submitters.get(app.mx) ?? new Map()
  submitters.set(app.mx, known)
  if (!known.has(type)) known.set(type, { ...entry, body: withProofs(entry.body) })
}

/** A rate limiter made by `app.createRateLimit()`; `increment: false` only reads the counter. */
export type CheckLimiter = (req: FastifyRequest, opts?: { increment?: boolean }) => Promise<{ isAllowed: boolean, isExceeded?: boolean, remaining?: number, ttlInSeconds?: number }>
const limitersOf = new WeakMap<object, Map<string, { ip: CheckLimiter, domain: CheckLimiter }>>()

/**
 * The per-IP and per-domain limiters of a single check's route, so that the
 * diagnosis (routes/checks-all.ts) spends the very same counters: whichever
 * way a check starts, alone or inside a diagnosis, the caller has one budget.
 * (The same limiter, not the same key: without Redis every limiter keeps its
 * own memory store.) Undefined before that route is registered.
 */
export function checkLimiters (app: FastifyInstance, limit: string): { ip: CheckLimiter, domain: CheckLimiter } | undefined {
  return limitersOf.get(app.mx)?.get(limit)
}

export function checkSubmitter (app: FastifyInstance, type: string): { submit: CheckSubmitter<any>, body: TSchema } | undefined {
  return submitters.get(app.mx)?.get(type)
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the domain a check request targets, for the per-domain limit (set before the limiter runs) */
    mxDomain: string
  }
}

/** The domain a request targets, validated and in A-label form; undefined when the input names none. */
function limitDomain<I> (domainOf: (input: I) => string | undefined, body: unknown): string | undefined {
  let raw: unknown
  try { raw = body && typeof body === 'object' ? domainOf(body as I) : undefined } catch { raw = undefined }
  return typeof raw === 'string' ? validateDomain(raw).ascii : undefined
}

export function registerCheckRoute<I> (app: FastifyInstance, opts: CheckRouteOptions<I>): void {
  const o = { ...opts, body: withProofs(opts.body) }
  const cfg = app.mx.config
  const rule = cfg.rateLimits[o.limit]
  const domainRule = cfg.domainRateLimits[o.limit]
  if (!app.hasRequestDecorator('mxDomain')) app.decorateRequest('mxDomain', '')
  const ipLimiter = app.createRateLimit({
    max: rule.max,
    timeWindow: rule.windowSeconds * 1000,
    keyGenerator: (req: FastifyRequest) => {
      const ip = parseIp(callerIp(req))
      return `ip:${o.limit}:${ip ? rateLimitKey(ip) : req.ip}`
    }
  })
  const domainLimiter = app.createRateLimit({
    max: domainRule.max,
    timeWindow: domainRule.windowSeconds * 1000,
    keyGenerator: (req: FastifyRequest) => `domain:${o.limit}:${req.mxDomain}`
  })
  const ownLimiters = limitersOf.get(app.mx) ?? new Map()
  limitersOf.set(app.mx, ownLimiters)
  if (!ownLimiters.has(o.limit)) ownLimiters.set(o.limit, { ip: ipLimiter as unknown as CheckLimiter, domain: domainLimiter as unknown as CheckLimiter })
  const deps = { runner: app.mx.runner, store: app.mx.store, repeatWindowSeconds: cfg.repeatWindowSeconds, checkDeadlineMs: cfg.check.checkDeadlineMs }

  const submit: CheckSubmitter<I> = async (req, body, { async, lang }) => {
    if (o.def.probes && !app.mx.store.isReady()) throw new StoreDownError()
    const { caller, input } = callerOf(app, req, body, lang)
    // The per-domain limit counts the validated A-label name (" home.test", "ｈｏｍｅ.test" and
    // "home。test" are one domain), and a bad name is refused here, before any limiter runs:
    // nothing unvalidated ever becomes part of a Redis key.
    const domain = o.domainOf ? limitDomain(o.domainOf, input) : undefined
    const byIp = await ipLimiter(req)
    if (!byIp.isAllowed && byIp.isExceeded) {
      app.mx.metrics.rateLimited()
      throw RateLimitedError.over({ kind: 'check', max: rule.max, windowSeconds: rule.windowSeconds }, byIp.ttlInSeconds ?? 1)
    }
    if (domain) {
      req.mxDomain = domain
      const byDomain = await domainLimiter(req)
      if (!byDomain.isAllowed && byDomain.isExceeded) {
        app.mx.metrics.rateLimited()
        throw RateLimitedError.over({ kind: 'domain', max: domainRule.max, windowSeconds: domainRule.windowSeconds }, byDomain.ttlInSeconds ?? 1)
      }
    }
    const out = await startCheck(deps, { def: o.def, input, callerIp: caller.connectionIp, caller, lang, async, reuseRecent: o.reuseRecent })
    const cachedFrom = out.kind === 'started' ? (out.cached ? out.id : null) : (out.report.cachedFrom ?? null)
    if (cachedFrom) req.log.info({ cachedFrom, type: o.def.type }, 'repeated check answered from the recent report')
    return out
  }
  const known = submitters.get(app.mx) ?? new Map()
  submitters.set(app.mx, known)
  if (!known.has(o.def.type)) known.set(o.def.type, { submit, body: o.body })

  app.post<{ Querystring: Static<typeof AsyncQuery> }>(o.path, {
    schema: {
      summary: o.summary,
      description: o.description,
      tags: ['checks'],
      body: o.body,
      querystring: AsyncQuery,
      consumes: ['application/json', 'application/x-www-form-urlencoded'],
      produces: ['application/json', 'text/plain'],
      response: { 200: ReportSchema, 202: Type.Object({ id: Type.String(), links: Type.Object({ self: Type.String(), events: Type.String(), page: Type.String() }), cached: Type.Optional(Type.Boolean()) }), 400: ErrorBody, 403: ErrorBody, 429: ErrorBody, 503: ErrorBody }
    },
    onRequest: o.def.probes ? [refuseCrossSite, requireStore] : [refuseCrossSite],
    preValidation: coerceFormBody,
    onSend: errorsAsText
  }, async (req, reply) => {
    const input = req.body as I
    const lang = langOf(req)
    const isAsync = req.query.async === '1' || req.query.async === 'true'
    const out = await submit(req, input, { async: isAsync, lang })
    if (out.kind === 'started') {
      const location = `/api/v1/checks/${out.id}`
      if (!out.cached && wantsText(req)) return reply.code(202).header('location', location).type('text/plain; charset=utf-8').send(`started ${out.id}\nreport: ${location}\nevents: ${location}/events\n`)
      return reply.code(202).header('location', location).send(out.cached ? { id: out.id, links: reportLinks(out.id), cached: true } : { id: out.id, links: reportLinks(out.id) })
    }
    if (o.render) return o.render(req, reply, out.report)
    if (wantsText(req)) return reply.code(200).type('text/plain; charset=utf-8').send(reportText(out.report, { lang }))
    return reply.code(200).send(out.report)
  })
}

/** A domain field: a string whose detailed validation (IDN, labels, IP-in-disguise) happens in the check. */
export const DomainField = Type.String({ minLength: 1, maxLength: 1024, description: 'a domain name (IDN allowed), e.g. example.com' })
