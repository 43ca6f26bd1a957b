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
import { REPORT_ID, type Report } from '../src/core/report.js'
import { reportText } from '../src/web/report-text.js'
import { assets } from '../src/web/assets.js'
import { indexPage, reportPage, refusalPage, notFoundPage, CHECKS, DEFAULT_PORTS, type Refusal, type Retry } from '../src/web/pages.js'
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
export function formToBody (check: CheckKey | 'all', form: Record<string, unknown>): Record<string, unknown> {
  const body = formFields(check, form)
  // The page fills one hidden `proofs` field per family; an empty one (that origin did not answer) is no proof.
  const raw = form.proofs === undefined ? [] : Array.isArray(form.proofs) ? form.proofs : [form.proofs]
  const proofs = raw.map((p) => typeof p === 'string' ? p.trim() : p).filter((p) => p !== '')
  if (proofs.length) body.proofs = proofs
  return body
}

function formFields (check: CheckKey | 'all', form: Record<string, unknown>): Record<string, unknown> {
  const str = (k: string): string => {
    const v = form[k]
    return typeof v === 'string' ? v.trim() : Array.isArray(v) && typeof v[0] === 'string' ? String(v[0]).trim() : ''
  }
  switch (check) {
    case 'all': return { target: str('target') }
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
    const { 4: v4, 6: v6 } = app.mx.config.check.origins ?? {}
    const body = indexPage(lang, { ip, family: parseIp(ip)?.family ?? 4, ptr, origins: { 4: v4, 6: v6 } }, `${req.protocol}://${req.host}`)
    // The page asks the IPv4-only and the IPv6-only origin for a proof: those two may be connected to, nothing else.
    const csp = v4 || v6 ? PAGE_CSP.replace("connect-src 'self'", ['connect-src', "'self'", v4, v6].filter(Boolean).join(' ')) : PAGE_CSP
    return pageHeaders(reply.code(200), csp).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body)
  })

  app.post('/check/:type', { schema: { hide: true } }, async (req, reply) => {
    const { type } = req.params as { type: string }
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>
    const lang = pickLang(form.lang ?? (req.query as Record<string, unknown>)?.lang, req.headers['accept-language'], 'ja')
    const t = webText(lang)
    if (type !== 'all' && !(CHECKS as string[]).includes(type)) return sendPage(reply, 404, notFoundPage(lang))
    if (crossSite(req)) {
      return sendPage(reply, 403, refusalPage({ status: 403, error: 'cross_site', message: t.crossSiteText }, lang, '/'))
    }
    const check = type as CheckKey | 'all'
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
      const a = httpAnswer(err as Error, lang)
      if (a.status >= 500 && a.body.error === 'internal') req.log.error({ err }, 'form check failed')
      const b = a.body
      // A stored refusal has a page of its own: a permalink, and a reload that posts nothing again.
      if (typeof b.id === 'string' && REPORT_ID.test(b.id)) return reply.code(303).header('location', `/r/${b.id}?lang=${lang}`).send()
      const refusal: Refusal = {
        cause: typeof b.cause === 'string' ? b.cause : undefined,
        diagnosis: Array.isArray(b.diagnosis) ? b.diagnosis as Refusal['diagnosis'] : undefined,
        retryHint: b.retry && typeof b.retry === 'object' ? b.retry as Refusal['retryHint'] : undefined,
        status: a.status,
        error: b.error,
        message: b.message,
        callerIp: b.callerIp,
        dns: b.dns,
        retryAfter: a.headers['retry-after']
      }
      if (refusal.retryAfter) reply.header('retry-after', refusal.retryAfter)
      // The same form once more (a fixed DNS record, a port opened); never a password.
      const fields: Record<string, string> = { lang }
      for (const [k, v] of Object.entries(formFields(check, form))) {
        if (k !== 'password' && k !== 'username' && (typeof v === 'string' || typeof v === 'number')) fields[k] = String(v)
      }
      const retry: Retry | undefined = check === 'ports' || check === 'pop3' ? undefined : { action: `/check/${check}`, fields }
      return sendPage(reply, a.status, refusalPage(refusal, lang, '/', retry))
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
      // The forum text exists once the check has finished: half a transcript only confuses a thread.
      if (r.status === 'running') {
        return reply.code(409).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').header('retry-after', '2').send(webText(lang).textRunning + '\n')
      }
      const textLang = (req.query as Record<string, unknown>)?.lang ? lang : undefined
      return reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store')
        .send(reportText(r, { lang: textLang, pageUrl }))
    }
    // A running diagnosis: where each of its checks stands is in its `child` events (the stored report is the start's snapshot).
    let report = r
    if (r.type === 'all' && r.status === 'running') {
      let events: Awaited<ReturnType<typeof app.mx.store.getEvents>> = []
      try { events = await app.mx.store.getEvents(id, 0) } catch { events = [] }
      const byType = new Map<string, Record<string, unknown>>()
      for (const c of Array.isArray(r.children) ? r.children as Array<Record<string, unknown>> : []) if (typeof c?.type === 'string') byType.set(c.type, c)
      for (const ev of events) {
        const d = (ev as { type: string, data: unknown }).type === 'child' ? (ev as { data: Record<string, unknown> }).data : null
        if (d && typeof d.type === 'string') byType.set(d.type, { ...byType.get(d.type), ...d })
      }
      report = { ...r, children: [...byType.values()] as NonNullable<Report['children']> }
    }
    return sendPage(reply, 200, reportPage(report, lang, pageUrl, { deadlineMs: app.mx.config.check.checkDeadlineMs }))
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
