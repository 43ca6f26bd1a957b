// The pages people open in a browser: the test page, the form posts that
// work without JavaScript, stored results, the static assets. The form
// route runs a check through the very same submitter as the API endpoint a
// program calls (checkSubmitter: store, limits, startCheck), so rate limits,
// validation and the target rule are one code path; a refusal becomes a
// readable page instead of JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Value } from '@sinclair/typebox/value'
import { callerIp, crossSite, checkSubmitter } from './helpers.js'
import { BadInputError, httpAnswer } from '../src/errors.js'
import { parseIp } from '../src/net/ip.js'
import { pickLang, type Lang } from '../src/i18n/index.js'
import { webText } from '../src/i18n/web.js'
import { REPORT_ID } from '../src/core/report.js'
import { reportText } from '../src/checks/report-text.js'
import { assets } from '../src/web/assets.js'
import { indexPage, reportPage, refusalPage, notFoundPage, CHECKS, DEFAULT_PORTS, type Refusal } from '../src/web/pages.js'
import type { CheckKey } from '../src/i18n/web.js'

/** Security headers for every HTML page; scripts only from our origin, no inline code, no framing. */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

export function pageHeaders (reply: FastifyReply, csp = PAGE_CSP): FastifyReply {
  reply
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    // Report URLs are the only key to a report (caller IP, server names): never send them to another
    // origin in Referer. (same-origin, not no-referrer: form posts keep a real Origin header.)
    .header('referrer-policy', 'same-origin')
  if (csp.includes("frame-ancestors 'none'")) reply.header('x-frame-options', 'DENY')
  return reply
}

/** Page language: ?lang=, else Accept-Language, else Japanese (the service's home audience). */
export function pageLang (req: FastifyRequest): Lang {
  return pickLang((req.query as Record<string, unknown> | undefined)?.lang, req.headers['accept-language'], 'ja')
}

function sendPage (reply: FastifyReply, status: number, body: string): FastifyReply {
  return pageHeaders(reply.code(status)).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body)
}

/** The API body a form post stands for; field names are the API's. */
export function formToBody (check: CheckKey, form: Record<string, unknown>): Record<string, unknown> {
  const str = (k: string): string => {
    const v = form[k]
    return typeof v === 'string' ? v.trim() : Array.isArray(v) && typeof v[0] === 'string' ? String(v[0]).trim() : ''
  }
  switch (check) {
    case 'receive': return { address: str('address') }
    case 'ports': {
      const raw = form.ports === undefined ? [] : Array.isArray(form.ports) ? form.ports : [form.ports]
      const ports = raw.map((p) => Number(p)).filter((p) => Number.isInteger(p) && p > 0 && p < 65536)
      return ports.length ? { ports } : { ports: DEFAULT_PORTS }
    }
    case 'pop3': {
      const body: Record<string, unknown> = { domain: str('domain') }
      // An empty login pair means "no login test"; passwords are passed through untrimmed.
      const username = str('username')
      const password = typeof form.password === 'string' ? form.password : ''
      if (username || password) { body.username = username; body.password = password }
      return body
    }
    default: return { domain: str('domain') }
  }
}

export default async function webRoutes (app: FastifyInstance): Promise<void> {
  const files = assets()

  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    const lang = pageLang(req)
    const ip = callerIp(req)
    let ptr: string | null = null
    try { ptr = (await app.mx.dns.ptr(ip))[0] ?? null } catch { ptr = null }
    return sendPage(reply, 200, indexPage(lang, { ip, family: parseIp(ip)?.family ?? 4, ptr }, `${req.protocol}://${req.host}`))
  })

  app.post('/check/:type', { schema: { hide: true } }, async (req, reply) => {
    const { type } = req.params as { type: string }
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>
    const lang = pickLang(form.lang ?? (req.query as Record<string, unknown>)?.lang, req.headers['accept-language'], 'ja')
    const t = webText(lang)
    if (!(CHECKS as string[]).includes(type)) return sendPage(reply, 404, notFoundPage(lang))
    if (crossSite(req)) {
      return sendPage(reply, 403, refusalPage({ status: 403, error: 'cross_site', message: t.crossSiteText }, lang, '/'))
    }
    const check = type as CheckKey
    // The same submitter as POST /api/v1/checks/:type (store, limits, startCheck): one code path.
    const entry = checkSubmitter(app, check)
    if (!entry) return sendPage(reply, 404, refusalPage({ status: 404, error: 'not_available', message: '' }, lang, '/'))
    try {
      const body = formToBody(check, form)
      const bad = Value.Errors(entry.body, body).First()
      if (bad) throw new BadInputError(`body${bad.path.replace(/\//g, '/')} ${bad.message}`)
      const out = await entry.submit(req, body, { async: true, lang })
      const id = out.kind === 'started' ? out.id : out.report.id
      return reply.code(303).header('location', `/r/${id}?lang=${lang}`).send()
    } catch (err) {
      const a = httpAnswer(err as Error)
      if (a.status >= 500 && a.body.error === 'internal') req.log.error({ err }, 'form check failed')
      const refusal: Refusal = { status: a.status, error: a.body.error, message: a.body.message, callerIp: a.body.callerIp, dns: a.body.dns, retryAfter: a.headers['retry-after'] }
      if (refusal.retryAfter) reply.header('retry-after', refusal.retryAfter)
      return sendPage(reply, a.status, refusalPage(refusal, lang, '/'))
    }
  })

  // /r/:id is the page; /r/:id.txt the same report as the plain text of its copy block.
  app.get('/r/:id', { schema: { hide: true } }, async (req, reply) => {
    const { id: param } = req.params as { id: string }
    const asText = param.endsWith('.txt')
    const id = asText ? param.slice(0, -4) : param
    const lang = pageLang(req)
    if (!REPORT_ID.test(id)) return sendPage(reply, 404, notFoundPage(lang))
    const r = await app.mx.store.getReport(id)
    if (!r) return sendPage(reply, 404, notFoundPage(lang, webText(lang).reportGone(Math.round(app.mx.config.reportTtlSeconds / 86400))))
    // Saved header analyses and mojibake repairs have their own page.
    if (r.type === 'headers' || r.type === 'mojibake') return reply.redirect(`/tools/r/${id}${asText ? '' : `?lang=${lang}`}`, 303)
    const pageUrl = `${req.protocol}://${req.host}/r/${id}`
    if (asText) {
      const textLang = (req.query as Record<string, unknown>)?.lang ? lang : undefined
      return reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store')
        .send(reportText(r, { lang: textLang, pageUrl }))
    }
    return sendPage(reply, 200, reportPage(r, lang, pageUrl))
  })

  app.get('/static/:name', { schema: { hide: true } }, async (req, reply) => {
    const { name } = req.params as { name: string }
    const a = files.get(name)
    if (!a) return sendPage(reply, 404, notFoundPage(pageLang(req)))
    const etag = `"${a.hash}"`
    const versioned = (req.query as Record<string, unknown>)?.v === a.hash
    reply
      .header('content-type', a.type)
      .header('etag', etag)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=300')
    if (req.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.send(a.body)
  })

  app.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) => {
    return reply.code(301).header('location', '/static/favicon.svg').send()
  })
}

/** The HTML 404 for paths outside the API (the API keeps its JSON 404). */
export function htmlNotFound (req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPage(reply, 404, notFoundPage(pageLang(req)))
}
