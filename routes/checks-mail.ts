// The mail-server checks: the SMTP server check (no mail sent) and the
// receive test (one real test mail to the caller's own server).
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { domainKeyOf } from '../src/checks/target-input.js'
import { registerCheckRoute, DomainField } from './helpers.js'
import { smtpCheck } from '../src/checks/smtp.js'
import { receiveCheck } from '../src/checks/receive.js'
import { parseMailbox } from '../src/smtp/address.js'

export default async function mailCheckRoutes (app: FastifyInstance): Promise<void> {
  registerCheckRoute(app, {
    path: '/api/v1/checks/smtp',
    def: smtpCheck,
    limit: 'smtp',
    summary: 'Talk to the caller\'s MX without sending mail: banner, EHLO extensions, STARTTLS and certificate, PTR, postmaster, timings',
    body: Type.Object({ domain: DomainField }, { additionalProperties: false }),
    // One key per domain whatever its spelling (IDN, case, trailing dot); bad input is refused later with 400.
    domainOf: (b) => domainKeyOf(b.domain)
  })

  registerCheckRoute(app, {
    path: '/api/v1/checks/receive',
    def: receiveCheck,
    limit: 'receive',
    summary: 'Deliver one real test mail to an address at the caller\'s own mail server and show the whole SMTP dialogue',
    body: Type.Object({
      address: Type.String({ minLength: 3, maxLength: 320, description: 'the recipient, e.g. taro@example.com (IDN domains allowed)' })
    }, { additionalProperties: false }),
    // The per-domain limit counts the recipient's domain, in A-label form.
    domainOf: (b) => { try { return parseMailbox(b.address).domain.ascii } catch { return undefined } }
  })
}
