// What every route needs: the caller's IP as mxprobe sees it, the language,
// and the thin wrapper that turns a check definition into an endpoint with
// its schema, rate limits and sync/async answer.
import { isIPv4 } from 'node:net'
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify'
import { Type, type TSchema } from '@sinclair/typebox'
import { parseIp, rateLimitKey } from '../src/net/ip.js'
import { pickLang, bi, type Lang } from '../src/i18n/index.js'
import type { CheckDefinition } from '../src/checks/context.js'
import type { LimitedType } from '../src/config.js'
import type { Report } from '../src/checks/report.js'
import { StoreDownError } from '../src/errors.js'
import { reportText } from '../src/checks/report-text.js'
import { validateDomain } from '../src/dns/names.js'

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
    return reply.code(403).send({ error: 'cross_site', message: bi(langOf(req), 'テストは mxprobe 自身のページかプログラムからだけ始められます。他のサイトのページからは始められません。', 'a check can only be started from mxprobe\'s own pages or by a program, not by a page on another site') })
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
  /** hook for routes that answer differently; default: JSON report, or the plain-text transcript for `Accept: text/plain` */
  render?: (req: FastifyRequest, reply: FastifyReply, report: Report) => unknown
  /**
   * Abuse control for checks that hammer a server (relay, ports): an identical
   * request (same caller IP, same input) within REPEAT_WINDOW_SECONDS is answered
   * from the recent report, marked `cached: true, cachedFrom: <id>`, and opens no socket.
   */
  reuseRecent?: boolean
}

/** Does the client prefer the plain-text transcript (curl -H 'Accept: text/plain')? */
export function wantsText (req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '').toLowerCase()
  if (!accept.includes('text/plain')) return false
  // "text/plain" listed before (or without) JSON wins; browsers' */* alone does not.
  const t = accept.indexOf('text/plain')
  const j = accept.indexOf('application/json')
  return j < 0 || t < j
}

/**
 * HTML forms and `curl -d` send every value as a string, and the schemas do not
 * coerce types (a JSON client sending "25" for a port is a bug we report). So a
 * form body is converted here, by the route's own schema: numbers and booleans
 * from their text, arrays from repeated fields (`ports=25&ports=110`) or a comma
 * list (`ports=25,110`); an empty optional field counts as absent.
 */
export function convertFormBody (body: Record<string, unknown>, schema: TSchema): Record<string, unknown> {
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {}
  const required = new Set<string>((schema as { required?: string[] }).required ?? [])
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(body)) {
    const ps = props[k]
    if (!ps) { out[k] = v; continue } // unknown field: left for validation to reject
    if (v === '' && !required.has(k)) continue
    out[k] = convertValue(v, ps)
  }
  return out
}

function convertValue (v: unknown, s: TSchema): unknown {
  const type = (s as { type?: string }).type
  if (type === 'array') {
    const items = (s as { items?: TSchema }).items
    const list = Array.isArray(v) ? v.flatMap((x) => typeof x === 'string' ? x.split(',') : [x]) : typeof v === 'string' ? v.split(',') : [v]
    return list.map((x) => typeof x === 'string' ? x.trim() : x).filter((x) => x !== '').map((x) => items ? convertValue(x, items) : x)
  }
  if (typeof v !== 'string') return v
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim())
  if (type === 'boolean') {
    if (/^(true|1|on|yes)$/i.test(v)) return true
    if (/^(false|0|off|no)$/i.test(v)) return false
  }
  return v
}

function isForm (req: FastifyRequest): boolean {
  return String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')
}

/** Key of "the same check again": type, the caller's exact IP and the canonical input. */
function recentKey (type: string, ip: string, input: unknown): string {
  const canon = JSON.stringify(input, (_k, v) => v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v)
  return `${type}:${ip}:${createHash('sha256').update(canon).digest('base64url').slice(0, 22)}`
}

async function sleep (ms: number): Promise<void> { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * The recent report for this key, waiting (by polling the shared store, so it
 * works whichever instance runs it) while that check is still running.
 */
async function recentReport (app: FastifyInstance, key: string, wait: boolean): Promise<Report | null> {
  const id = await app.mx.store.getRecent(key)
  if (!id) return null
  const until = Date.now() + app.mx.config.check.checkDeadlineMs + 5000
  for (;;) {
    const r = await app.mx.store.getReport(id)
    if (!r) return null
    if (r.status !== 'running' || !wait || Date.now() > until) return r
    await sleep(200)
  }
}

type MxRequest = FastifyRequest & { mxDomain?: string }

/** The domain a request targets, validated and in A-label form; undefined when the input names none. */
function limitDomain<I> (domainOf: (input: I) => string | undefined, body: unknown): string | undefined {
  let raw: unknown
  try { raw = body && typeof body === 'object' ? domainOf(body as I) : undefined } catch { raw = undefined }
  return typeof raw === 'string' ? validateDomain(raw).ascii : undefined
}

export function registerCheckRoute<I> (app: FastifyInstance, o: CheckRouteOptions<I>): void {
  const cfg = app.mx.config
  const rule = cfg.rateLimits[o.limit]
  const domainRule = cfg.domainRateLimits[o.limit]
  const domainLimiter = app.createRateLimit({
    max: domainRule.max,
    timeWindow: domainRule.windowSeconds * 1000,
    keyGenerator: (req: FastifyRequest) => `domain:${o.limit}:${(req as MxRequest).mxDomain ?? ''}`
  })
  app.post(o.path, {
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
    preValidation: async (req) => {
      // A POST without any body is an empty object: `{ ports? }` may be left out altogether
      // (checks with required fields still answer 400, naming the missing field).
      if (req.body === undefined || req.body === null) req.body = {}
      if (isForm(req) && req.body && typeof req.body === 'object') req.body = convertFormBody(req.body as Record<string, unknown>, o.body)
      // The per-domain limit counts the validated A-label name (" home.test", "ｈｏｍｅ.test" and
      // "home。test" are one domain), and a bad name is refused here, before any limiter runs:
      // nothing unvalidated ever becomes part of a Redis key.
      if (o.domainOf) (req as MxRequest).mxDomain = limitDomain(o.domainOf, req.body)
    },
    // curl users asked for text: errors (400/403/429/503) come as "error: message" lines too.
    onSend: async (req, reply, payload) => {
      if (!wantsText(req) || reply.statusCode < 400 || typeof payload !== 'string') return payload
      try {
        const e = JSON.parse(payload) as { error?: string, message?: string }
        reply.header('content-type', 'text/plain; charset=utf-8')
        return `${e.error ?? 'error'}: ${e.message ?? ''}\n`
      } catch { return payload }
    },
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
    if ((req as MxRequest).mxDomain) {
      const r = await domainLimiter(req)
      if (!r.isAllowed && r.isExceeded) {
        app.mx.metrics.rateLimited()
        return reply.code(429).header('retry-after', String(Math.max(1, r.ttlInSeconds))).send({ error: 'rate_limited', message: bi(langOf(req), `このドメインへのテストが多すぎます。${Math.max(1, r.ttlInSeconds)} 秒後にもう一度お試しください。`, `too many checks of this domain; try again in ${Math.max(1, r.ttlInSeconds)} s`) })
      }
    }
    const lang = langOf(req)
    const q = req.query as { async?: string }
    const isAsync = q.async === '1' || q.async === 'true'
    const answer = (report: Report) => {
      if (o.render) return o.render(req, reply, report)
      if (wantsText(req)) return reply.code(200).type('text/plain; charset=utf-8').send(reportText(report, { lang }))
      return reply.code(200).send(report)
    }
    const reuseKey = o.reuseRecent && cfg.repeatWindowSeconds > 0 ? recentKey(o.def.type, callerIp(req), input) : null
    if (reuseKey) {
      const recent = await recentReport(app, reuseKey, !isAsync)
      if (recent) {
        req.log.info({ cachedFrom: recent.id, type: o.def.type }, 'repeated check answered from the recent report')
        if (isAsync) return reply.code(202).header('location', `/api/v1/checks/${recent.id}`).send({ id: recent.id, links: reportLinks(recent.id), cached: true })
        return answer({ ...recent, cached: true, cachedFrom: recent.id })
      }
    }
    const started = await app.mx.runner.start(o.def, input, callerIp(req), lang)
    // Remembered from the start, so a repeat while it still runs waits for it instead of probing again.
    if (reuseKey) await app.mx.store.setRecent(reuseKey, started.id, cfg.repeatWindowSeconds).catch(() => {})
    if (isAsync) {
      started.done.catch(() => {})
      if (wantsText(req)) return reply.code(202).header('location', `/api/v1/checks/${started.id}`).type('text/plain; charset=utf-8').send(`started ${started.id}\nreport: /api/v1/checks/${started.id}\nevents: /api/v1/checks/${started.id}/events\n`)
      return reply.code(202).header('location', `/api/v1/checks/${started.id}`).send({ id: started.id, links: reportLinks(started.id) })
    }
    return answer(await started.done)
  })
}

/** A domain field: a string whose detailed validation (IDN, labels, IP-in-disguise) happens in the check. */
export const DomainField = Type.String({ minLength: 1, maxLength: 1024, description: 'a domain name (IDN allowed), e.g. example.com' })
