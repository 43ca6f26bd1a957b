// What every route needs: the caller's IP as mxprobe sees it, the language,
// and the thin wrapper that turns a check definition into an endpoint with
// its schema, rate limits and sync/async answer.
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify'
import { Type, type TSchema } from '@sinclair/typebox'
import { parseIp, rateLimitKey } from '../src/net/ip.js'
import { pickLang, type Lang } from '../src/i18n/index.js'
import type { CheckDefinition } from '../src/checks/context.js'
import type { LimitedType } from '../src/config.js'
import type { Report } from '../src/checks/report.js'
import { StoreDownError } from '../src/errors.js'

/**
 * The caller's address: the TCP peer, or the X-Forwarded-For entry that
 * fastify's trustProxy (TRUST_PROXY) accepts. IPv4-mapped IPv6 is IPv4.
 */
export function callerIp (req: FastifyRequest): string {
  const p = parseIp(req.ip)
  return p ? p.text : req.ip
}

export function langOf (req: FastifyRequest, fallback: Lang = 'en'): Lang {
  return pickLang((req.query as Record<string, unknown> | undefined)?.lang, req.headers['accept-language'], fallback)
}

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() }, { additionalProperties: true })

export const ReportSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail'), Type.Literal('error'), Type.Literal('running')]),
  callerIp: Type.String(),
  target: Type.Object({ domain: Type.Union([Type.String(), Type.Null()]), host: Type.Union([Type.String(), Type.Null()]), ip: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: true }),
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  summary: Type.String(),
  steps: Type.Array(Type.Object({ name: Type.String(), status: Type.String(), detail: Type.String() }, { additionalProperties: true })),
  transcript: Type.Array(Type.Object({ at: Type.Number(), dir: Type.String(), text: Type.String() })),
  advice: Type.Array(Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }))
}, { additionalProperties: true })

export const AsyncQuery = Type.Object({
  async: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')])),
  lang: Type.Optional(Type.Union([Type.Literal('ja'), Type.Literal('en')]))
}, { additionalProperties: false })

export function reportLinks (id: string) {
  return { self: `/api/v1/checks/${id}`, events: `/api/v1/checks/${id}/events`, page: `/r/${id}` }
}

/**
 * A request a page on another site made the visitor's browser send. Such a
 * page must not be able to start a check (or a POP3 login attempt) in a
 * visitor's browser: not through the /check/:type form, and not through the
 * API either, where an HTML form post (x-www-form-urlencoded, parsed by
 * @fastify/formbody) needs no CORS preflight. mxprobe's own pages and the
 * embed frame are mxprobe's origin; programs send no Origin at all.
 */
export function crossSite (req: FastifyRequest): boolean {
  // Fetch metadata is the browser's own statement; older browsers send only Origin.
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string' && site) return site === 'cross-site' || site === 'same-site'
  const origin = req.headers.origin
  if (!origin) return false
  if (origin === 'null') return true
  try {
    return new URL(origin).host !== req.headers.host
  } catch {
    return true
  }
}

/** onRequest guard of every check endpoint: 403 before the body is even read. */
export async function refuseCrossSite (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (crossSite(req)) {
    return reply.code(403).send({ error: 'cross_site', message: 'a check can only be started from mxprobe\'s own pages or by a program, not by a page on another site' })
  }
}

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
  /** hook for routes that answer differently (e.g. text/plain); default: JSON report */
  render?: (req: FastifyRequest, reply: FastifyReply, report: Report) => unknown
}

export function registerCheckRoute<I> (app: FastifyInstance, o: CheckRouteOptions<I>): void {
  const cfg = app.mx.config
  const rule = cfg.rateLimits[o.limit]
  const domainRule = cfg.domainRateLimits[o.limit]
  const domainLimiter = app.createRateLimit({
    max: domainRule.max,
    timeWindow: domainRule.windowSeconds * 1000,
    keyGenerator: (req: FastifyRequest) => `domain:${o.limit}:${(req as FastifyRequest & { mxDomain?: string }).mxDomain ?? ''}`
  })
  app.post(o.path, {
    schema: {
      summary: o.summary,
      description: o.description,
      tags: ['checks'],
      body: o.body,
      querystring: AsyncQuery,
      response: { 200: ReportSchema, 202: Type.Object({ id: Type.String(), links: Type.Object({ self: Type.String(), events: Type.String(), page: Type.String() }) }), 400: ErrorBody, 403: ErrorBody, 429: ErrorBody, 503: ErrorBody }
    },
    onRequest: o.def.probes ? [refuseCrossSite, requireStore] : [refuseCrossSite],
    config: {
      rateLimit: {
        max: rule.max,
        timeWindow: rule.windowSeconds * 1000,
        keyGenerator: (req: FastifyRequest) => {
          const ip = parseIp(callerIp(req))
          return `ip:${o.limit}:${ip ? rateLimitKey(ip) : req.ip}`
        }
      }
    }
  }, async (req, reply) => {
    const input = req.body as I
    const domain = o.domainOf?.(input)
    if (domain) {
      (req as FastifyRequest & { mxDomain?: string }).mxDomain = String(domain).toLowerCase().replace(/\.$/, '').slice(0, 260)
      const r = await domainLimiter(req)
      if (!r.isAllowed && r.isExceeded) {
        app.mx.metrics.rateLimited()
        return reply.code(429).header('retry-after', String(Math.max(1, r.ttlInSeconds))).send({ error: 'rate_limited', message: `too many checks of this domain; try again in ${Math.max(1, r.ttlInSeconds)} s` })
      }
    }
    const lang = langOf(req)
    const started = await app.mx.runner.start(o.def, input, callerIp(req), lang)
    const q = req.query as { async?: string }
    if (q.async === '1' || q.async === 'true') {
      started.done.catch(() => {})
      return reply.code(202).header('location', `/api/v1/checks/${started.id}`).send({ id: started.id, links: reportLinks(started.id) })
    }
    const report = await started.done
    if (o.render) return o.render(req, reply, report)
    return reply.code(200).send(report)
  })
}

/** A domain field: a string whose detailed validation (IDN, labels, IP-in-disguise) happens in the check. */
export const DomainField = Type.String({ minLength: 1, maxLength: 1024, description: 'a domain name (IDN allowed), e.g. example.com' })
