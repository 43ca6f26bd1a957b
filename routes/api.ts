// The JSON API: who am I, the checks, stored reports and their live events.
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { domainKeyOf } from '../src/checks/target-input.js'
import { callerIp, registerCheckRoute, DomainField, ErrorBody, ReportSchema } from './helpers.js'
import { dnsCheck } from '../src/checks/dns.js'
import { REPORT_ID } from '../src/core/report.js'
import { PtrCache } from '../src/dns/ptr-cache.js'
import { NotFoundError } from '../src/errors.js'

export default async function apiRoutes (app: FastifyInstance): Promise<void> {
  // PTR answers (and failures, briefly) are shared and kept: see src/dns/ptr-cache.ts.
  const ptrs = new PtrCache(app.mx.dns)

  app.get('/api/v1/ip', {
    schema: {
      summary: 'The caller\'s IP address as mxprobe sees it, with its reverse DNS',
      tags: ['info'],
      response: { 200: Type.Object({ ip: Type.String(), family: Type.Union([Type.Literal(4), Type.Literal(6)]), ptr: Type.Union([Type.String(), Type.Null()]) }) }
    }
  }, async (req) => {
    const ip = callerIp(req)
    // callerIp() gives the canonical text: a colon means IPv6 (node's isIPv6 is a long regex).
    return { ip, family: ip.includes(':') ? 6 : 4, ptr: await ptrs.lookup(ip) }
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
    schema: { summary: 'A stored report', tags: ['reports'], params: IdParams, response: { 200: ReportSchema, 404: ErrorBody } }
  }, async (req) => {
    const { id } = req.params
    const r = REPORT_ID.test(id) ? await app.mx.store.getReport(id) : null
    if (!r) throw new NotFoundError(`no report ${id} (reports are kept for ${Math.round(app.mx.config.reportTtlSeconds / 86400)} days)`)
    return r
  })

  // GET /api/v1/checks/:id/events: src/plugins/sse.ts
}
