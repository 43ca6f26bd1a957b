// The send test's pages: /send (the form), POST /send (the form without
// JavaScript: it runs the very API endpoint a program calls, through
// app.inject, so limits and validation are one code path) and /send/:id
// (the address, the commands, the countdown and the live result).
import type { FastifyInstance } from 'fastify'
import { callerIp, crossSite } from './helpers.js'
import { pageHeaders, pageLang } from './web.js'
import { pickLang } from '../src/i18n/index.js'
import { webText } from '../src/i18n/web.js'
import { REPORT_ID } from '../src/core/report.js'
import { refusalPage, notFoundPage, type Refusal } from '../src/web/pages.js'
import { sendFormPage, sendWaitPage } from '../src/web/send-page.js'

export default async function sendPageRoutes (app: FastifyInstance): Promise<void> {
  const page = (reply: import('fastify').FastifyReply, status: number, body: string) =>
    pageHeaders(reply.code(status)).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body)

  app.get('/send', { schema: { hide: true } }, async (req, reply) => {
    const lang = pageLang(req)
    return page(reply, 200, sendFormPage(lang, callerIp(req), app.mx.send.enabled, app.mx.config.inbound.waitSeconds))
  })

  app.post('/send', { schema: { hide: true } }, async (req, reply) => {
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>
    const lang = pickLang(form.lang ?? (req.query as Record<string, unknown>)?.lang, req.headers['accept-language'], 'ja')
    if (crossSite(req)) return page(reply, 403, refusalPage({ status: 403, error: 'cross_site', message: webText(lang).crossSiteText }, lang, '/send'))
    const domain = typeof form.domain === 'string' ? form.domain.trim() : ''
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/checks/send?lang=${lang}`,
      payload: { domain, reply: form.reply === 'true' || form.reply === 'on' },
      remoteAddress: callerIp(req),
      headers: { 'content-type': 'application/json', 'accept-language': lang, 'user-agent': String(req.headers['user-agent'] ?? '') }
    })
    if (res.statusCode === 200) return reply.code(303).header('location', `/send/${(res.json() as { id: string }).id}?lang=${lang}`).send()
    let body: Record<string, unknown> = {}
    try { body = res.json() } catch { body = {} }
    const refusal: Refusal = {
      status: res.statusCode,
      error: String(body.error ?? 'other'),
      message: String(body.message ?? ''),
      retryAfter: typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : undefined
    }
    if (refusal.retryAfter) reply.header('retry-after', refusal.retryAfter)
    return page(reply, res.statusCode, refusalPage(refusal, lang, '/send'))
  })

  app.get('/send/:id', { schema: { hide: true } }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const lang = pageLang(req)
    if (!REPORT_ID.test(id)) return page(reply, 404, notFoundPage(lang))
    const r = await app.mx.store.getReport(id)
    if (!r || r.type !== 'send') return page(reply, 404, notFoundPage(lang))
    return page(reply, 200, sendWaitPage(r, lang))
  })
}
