// POST /api/v1/checks/all: the one diagnosis. Thin: schema, the caller's IP
// and language, rate limits that count every child the diagnosis will start
// (per IP and per domain, by the child's own check type), then the `all`
// check (src/checks/all.ts) through the runner; sync or ?async=1.
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { callerOf, withProofs, langOf, refuseCrossSite, requireStore, wantsText, reportLinks, registerSubmitter, checkLimiters, errorsAsText, AsyncQuery, ReportSchema, ErrorBody, type CheckSubmitter, type CheckLimiter } from './helpers.js'
import { coerceFormBody } from '../src/plugins/form-body.js'
import { RateLimitedError, StoreDownError } from '../src/errors.js'
import { makeAllCheck, childTypesFor, type AllInput } from '../src/checks/all.js'
import { domainKeyOf } from '../src/checks/target-input.js'
import { reportText } from '../src/web/report-text.js'
import { bi } from '../src/i18n/index.js'
import type { LimitedType } from '../src/config.js'

export const AllBody = withProofs(Type.Object({
  target: Type.String({ minLength: 1, maxLength: 1024, description: 'a domain (example.jp), a mail address (taro@example.jp: the receive test writes to it) or a URL (https://www.example.jp/)' }),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'POP3 login (tried over TLS only); with it, the diagnosis also runs the POP3 test' })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 512, writeOnly: true }))
}, { additionalProperties: false }))

export default async function allCheckRoutes (app: FastifyInstance): Promise<void> {
  const def = makeAllCheck({ runner: app.mx.runner })
  // The single checks' own limiters (routes/helpers.ts checkLimiters), with their rules and
  // counters: a diagnosis spends one unit of each child's, so a caller cannot get each limit
  // twice, once alone and once inside a diagnosis. Those routes are registered before this one.
  const limiters = new Map<LimitedType, { ip: CheckLimiter, domain: CheckLimiter }>()
  for (const type of ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls', 'pop3'] as const) {
    const l = checkLimiters(app, type)
    if (!l) throw new Error(`routes/checks-all.ts: the ${type} check route must be registered before the diagnosis`)
    limiters.set(type, l)
  }

  // Shared by this route and the no-JavaScript form (routes/web.ts): one code path.
  const submit: CheckSubmitter<AllInput> = async (req, body, { async, lang }) => {
    if (!app.mx.store.isReady()) throw new StoreDownError()
    // The proven addresses go to the diagnosis, which hands them to every child (src/checks/all.ts).
    const { caller, input } = callerOf(app, req, body, lang)
    const domain = domainKeyOf(input.target)
    req.mxDomain = domain ?? ''
    // Count every child first without spending anything; refuse if one is over its limit, else spend one of each.
    const types = childTypesFor(input)
    let retry = 0
    const over: string[] = []
    for (const type of types) {
      const l = limiters.get(type)!
      for (const [scope, lim] of [['ip', l.ip], ...(domain ? [['domain', l.domain]] : [])] as Array<[string, CheckLimiter]>) {
        const s = await lim(req, { increment: false })
        if (s.remaining !== undefined && s.remaining <= 0) { over.push(`${type} (${scope})`); retry = Math.max(retry, s.ttlInSeconds ?? 60) }
      }
    }
    if (over.length) {
      app.mx.metrics.rateLimited()
      const after = Math.max(1, retry)
      throw new RateLimitedError(bi(lang, `テストの回数が上限に達しました (${over.join(', ')})。${after} 秒後にもう一度お試しください。`, `rate limit reached for ${over.join(', ')}; try again in ${after} s`), after)
    }
    for (const type of types) {
      const l = limiters.get(type)!
      await l.ip(req)
      if (domain) await l.domain(req)
    }
    const started = await app.mx.runner.start(def, input, caller, lang)
    if (async) {
      started.done.catch(() => {})
      return { kind: 'started', id: started.id, cached: false }
    }
    return { kind: 'report', report: await started.done }
  }
  registerSubmitter(app, 'all', { submit, body: AllBody })

  app.post<{ Querystring: Static<typeof AsyncQuery> }>('/api/v1/checks/all', {
    schema: {
      summary: 'The whole diagnosis: dns, ports, smtp, receive, roles, relay, tls (and pop3 with credentials), each a report of its own, and what to fix first',
      description: 'Report of type `all` with `children: [ { type, id, status, title, stage?, deadline?, summary? } ]` and `fixFirst: [ { check, code, message, id } ]`. ' +
        'Its event stream adds `child` events (`{ phase: queued|started|stage|finished, type, id, status, title, stage?, deadline?, summary? }`). Rate limits count each child.',
      tags: ['checks'],
      body: AllBody,
      querystring: AsyncQuery,
      consumes: ['application/json', 'application/x-www-form-urlencoded'],
      produces: ['application/json', 'text/plain'],
      response: { 200: ReportSchema, 202: Type.Object({ id: Type.String(), links: Type.Object({ self: Type.String(), events: Type.String(), page: Type.String() }) }), 400: ErrorBody, 403: ErrorBody, 429: ErrorBody, 503: ErrorBody }
    },
    onRequest: [refuseCrossSite, requireStore],
    onSend: errorsAsText,
    preValidation: coerceFormBody
  }, async (req, reply) => {
    const lang = langOf(req)
    const isAsync = req.query.async === '1' || req.query.async === 'true'
    const out = await submit(req, req.body as AllInput, { async: isAsync, lang })
    if (out.kind === 'started') {
      return reply.code(202).header('location', `/api/v1/checks/${out.id}`).send({ id: out.id, links: reportLinks(out.id) })
    }
    if (wantsText(req)) return reply.code(200).type('text/plain; charset=utf-8').send(reportText(out.report, { lang }))
    return reply.code(200).send(out.report)
  })
}
