// The tls check: certificates on every TLS port of the caller's MX host,
// versions and ciphers, DNSSEC, DANE, MTA-STS and TLS-RPT.
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { domainKeyOf } from '../src/checks/target-input.js'
import { registerCheckRoute, DomainField } from './helpers.js'
import { tlsCheck } from '../src/checks/tls.js'

export default async function tlsCheckRoutes (app: FastifyInstance): Promise<void> {
  registerCheckRoute(app, {
    path: '/api/v1/checks/tls',
    def: tlsCheck,
    limit: 'tls',
    summary: 'TLS as senders judge it: the certificate chain, expiry and name on every TLS port of the caller\'s MX (25, 465, 587, 993, 995, 143, 110), versions and weak ciphers, DNSSEC, DANE, MTA-STS and TLS-RPT',
    body: Type.Object({ domain: DomainField }, { additionalProperties: false }),
    domainOf: (b) => domainKeyOf(b.domain)
  })
}
