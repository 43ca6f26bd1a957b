// The JSON API: who am I, the checks, stored reports and their live events.
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { domainKeyOf } from '../src/checks/target-input.js'
import { callerIp, ownOrigin, registerCheckRoute, langOf, wantsText, errorsAsText, DomainField, ErrorBody, ReportSchema } from './helpers.js'
import { dnsCheck } from '../src/checks/dns.js'
import { REPORT_ID } from '../src/core/report.js'
import { PtrCache } from '../src/dns/ptr-cache.js'
import { NotFoundError } from '../src/errors.js'
import { reportText } from '../src/web/report-text.js'
import { webText } from '../src/i18n/web.js'

export default async function apiRoutes (app: FastifyInstance): Promise<void> {
  // PTR answers (and failures, briefly) are shared and kept: see src/dns/ptr-cache.ts.
  const ptrs = new PtrCache(app.mx.dns)

  app.get('/api/v1/ip', {
    schema: {
      summary: 'The caller\'s IP address as mxprobe sees it, with its reverse DNS and a proof of it',
      description: '`proof` proves this address to this service for a few minutes (PROOF_TTL_SECONDS): give it in `proofs` of a check body sent over the other address family. ' +
        'It is answered only to programs (no Origin) and to this service\'s own pages (PUBLIC_ORIGIN, IPV4_ORIGIN, IPV6_ORIGIN, which may read it by CORS), never for an address that is never a target. ' +
        'With `Accept: text/plain`, the address alone as one line.',
      tags: ['info'],
      produces: ['application/json', 'text/plain'],
      response: { 200: Type.Object({ ip: Type.String(), family: Type.Union([Type.Literal(4), Type.Literal(6)]), ptr: Type.Union([Type.String(), Type.Null()]), proof: Type.Optional(Type.String()) }) }
    }
  }, async (req, reply) => {
    const ip = callerIp(req)
    // A proof is a secret of the visitor's: never cached anywhere, and its answer differs by Origin.
    reply.header('cache-control', 'no-store').header('vary', 'Origin, Accept')
    if (wantsText(req)) return reply.type('text/plain; charset=utf-8').send(`${ip}\n`)
    // callerIp() gives the canonical text: a colon means IPv6 (node's isIPv6 is a long regex).
    const out: { ip: string, family: 4 | 6, ptr: string | null, proof?: string } = { ip, family: ip.includes(':') ? 6 : 4, ptr: await ptrs.lookup(ip) }
    // Not for a page of another site (it could collect visitors' proofs), nor for an address no check may use.
    if (ownOrigin(req, app.mx.config.check.origins) && app.mx.connector.addressVerdict(ip).ok) out.proof = app.mx.proofs.issue(ip)
    return out
  })

  registerCheckRoute(app, {
    path: '/api/v1/checks/dns',
    def: dnsCheck,
    limit: 'dns',
    summary: 'Where mail for a domain goes (MX, addresses, TTL) and whether that is the caller\'s IP',
    body: Type.Object({ domain: DomainField }, { additionalProperties: false }),
    domainOf: (b) => domainKeyOf(b.domain)
  })

  // An id made of id characters that is not a stored report is "not found" (404),
  // whatever its length (a client cannot tell a mistyped id from an expired one);
  // other characters (paths, dots, spaces) are bad input (400).
  const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })

  app.get<{ Params: Static<typeof IdParams> }>('/api/v1/checks/:id', {
    schema: {
      summary: 'A stored report',
      description: 'With `Accept: text/plain`, the plain-text report (the forum text of /r/:id.txt): in `?lang=` or Accept-Language when given, else the report\'s own language; 409 with Retry-After while it runs.',
      tags: ['reports'],
      params: IdParams,
      produces: ['application/json', 'text/plain'],
      response: { 200: ReportSchema, 404: ErrorBody }
    },
    onSend: errorsAsText
  }, async (req, reply) => {
    const { id } = req.params
    const r = REPORT_ID.test(id) ? await app.mx.store.getReport(id) : null
    if (!r) throw new NotFoundError(`no report ${id} (reports are kept for ${Math.round(app.mx.config.reportTtlSeconds / 86400)} days)`)
    if (!wantsText(req)) return r
    // A server admin in an SSH session: curl -H 'Accept: text/plain' …/api/v1/checks/<id>
    const asked = (req.query as Record<string, unknown> | undefined)?.lang !== undefined || req.headers['accept-language'] !== undefined
    const lang = asked ? langOf(req) : undefined
    reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8')
    if (r.status === 'running') return reply.code(409).header('retry-after', '2').send(webText(lang ?? (r.lang === 'ja' ? 'ja' : 'en')).textRunning + '\n')
    return reply.send(reportText(r, { lang, pageUrl: `${req.protocol}://${req.host}/r/${id}` }))
  })

  // GET /api/v1/checks/:id/events: src/plugins/sse.ts
}
