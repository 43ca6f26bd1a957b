// The send test's endpoint. Starting it answers at once with the running
// report that holds the one-time address; the report finishes when the mail
// arrives (on any instance) or the wait runs out. Rate limits per caller and
// per domain, as for every check; live addresses are also capped per caller
// and in all (src/inbound/service.ts).
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { registerCheckRoute, DomainField, langOf } from './helpers.js'
import { makeSendCheck } from '../src/checks/send.js'
import { validateDomain } from '../src/dns/names.js'
import { bi } from '../src/i18n/index.js'
import sendPageRoutes from './send-page.js'

export const SEND_OFF = {
  ja: 'このサーバーでは送信テストは無効です (運用者が受信用の SMTP リスナー INBOUND_LISTEN を設定していません)。他のテストは使えます。',
  en: 'The send test is off on this server: its operator has not set up the inbound SMTP listener (INBOUND_LISTEN). The other checks work.'
}

export default async function sendRoutes (app: FastifyInstance): Promise<void> {
  const service = app.mx.send
  // Off: say so plainly, before rate limits or validation.
  app.addHook('onRequest', async (req, reply) => {
    if (service.enabled || req.method !== 'POST' || req.url.split('?')[0] !== '/api/v1/checks/send') return
    const lang = langOf(req)
    return reply.code(503).send({ error: 'send_test_off', message: bi(lang, SEND_OFF.ja, SEND_OFF.en) })
  })

  registerCheckRoute(app, {
    path: '/api/v1/checks/send',
    def: makeSendCheck(service),
    limit: 'send',
    summary: 'The send test: get a one-time address, send a mail to it from your own server, see what a receiving server sees (and get a real reply with reply: true)',
    description: 'Answers at once with the running report; its `address` field is the one-time address. Follow /api/v1/checks/:id/events for the result.',
    body: Type.Object({
      domain: DomainField,
      reply: Type.Optional(Type.Boolean({ description: 'after the analysis, send the result as a reply to the envelope sender (only when that domain\'s MX is your IP)' }))
    }, { additionalProperties: false }),
    domainOf: (b) => { try { return validateDomain(b.domain).ascii } catch { return undefined } }
  })

  await app.register(sendPageRoutes)
}
