// The forensics tools: header analyzer and garbled-text repair, as JSON API
// and as server-rendered pages. Nothing here opens a socket; the only outside
// question is the optional PTR lookup of the origin through the app's
// resolver. The pasted input is never stored unless the caller asks for a
// link (?save=1, or the form's checkbox): then the result is saved as a
// report-shaped record, readable at /api/v1/checks/:id and /tools/r/:id.
import { stepTitle } from '../src/i18n/steps.js'
import type { FastifyInstance, FastifyRequest, FastifyReply, FastifyError } from 'fastify'
import { Type } from '@sinclair/typebox'
import { callerIp, langOf, ErrorBody } from './helpers.js'
import { parseIp, rateLimitKey } from '../src/net/ip.js'
import { pickLang, type Lang } from '../src/i18n/index.js'
import { newReportId, REPORT_ID, type Report, type Status } from '../src/checks/report.js'
import { BadInputError, NotFoundError, PayloadTooLargeError, StoreDownError } from '../src/errors.js'
import { analyzeHeaders, lookupOriginPtr, findingMessages, type HeaderAnalysis } from '../src/tools/headers.js'
import { repairMojibake, type MojibakeResult } from '../src/tools/mojibake.js'
import { adviceText } from '../src/i18n/index.js'
import { toolFormPage, toolErrorPage, headersResultPage, mojibakeResultPage } from '../src/tools/pages.js'

/**
 * The request body may be this large: 256 KiB of text grows in transport
 * (JSON escapes, %XX form encoding of UTF-8 triples it), so the route
 * accepts more bytes and the tool itself enforces 256 KiB of text (413).
 */
export const TOOLS_BODY_LIMIT = 1024 * 1024

const SaveQuery = Type.Object({
  save: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')])),
  lang: Type.Optional(Type.Union([Type.Literal('ja'), Type.Literal('en')]))
}, { additionalProperties: false })

const LangQuery = Type.Object({
  lang: Type.Optional(Type.Union([Type.Literal('ja'), Type.Literal('en')]))
}, { additionalProperties: false })

const TEXT_MAX_CHARS = TOOLS_BODY_LIMIT

const HeadersBody = Type.Object({
  raw: Type.String({ description: 'a header block or a whole message, up to 256 KiB of text' })
}, { additionalProperties: false })

const MojibakeBody = Type.Object({
  text: Type.String({ description: 'garbled text, up to 256 KiB' })
}, { additionalProperties: false })

const FormBody = Type.Object({
  raw: Type.Optional(Type.String({ maxLength: TEXT_MAX_CHARS })),
  text: Type.Optional(Type.String({ maxLength: TEXT_MAX_CHARS })),
  save: Type.Optional(Type.String({ maxLength: 8 }))
}, { additionalProperties: true })

const Saved = Type.Union([Type.Null(), Type.Object({ id: Type.String(), links: Type.Object({ self: Type.String(), page: Type.String() }) })])

const wantsSave = (v: unknown): boolean => v === '1' || v === 'true' || v === 'on'

function links (id: string): { self: string, page: string } {
  return { self: `/api/v1/checks/${id}`, page: `/tools/r/${id}` }
}

/** A report-shaped record of a tool result, so the common report endpoints can serve it. */
function toolReport (type: 'headers' | 'mojibake', ip: string, lang: Lang, status: Status, summary: string,
  advice: Report['advice'], steps: Report['steps'], extra: Record<string, unknown>): Report {
  const now = new Date().toISOString()
  return {
    id: newReportId(),
    type,
    status,
    callerIp: ip,
    target: { domain: null, host: null, ip: null },
    startedAt: now,
    finishedAt: now,
    summary,
    steps,
    transcript: [],
    advice,
    lang,
    ...extra
  }
}

function headersSummary (a: HeaderAnalysis, lang: Lang): string {
  const o = a.origin
  if (lang === 'ja') return `${a.hops.length} 経路${o?.ip ? `、送信元と思われる IP ${o.ip}` : ''}${Object.keys(a.verdicts).length ? `、${Object.entries(a.verdicts).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`
  return `${a.hops.length} hop(s)${o?.ip ? `, likely origin ${o.ip}` : ''}${Object.keys(a.verdicts).length ? `, ${Object.entries(a.verdicts).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`
}

function headersRecord (a: HeaderAnalysis, ip: string, lang: Lang): Report {
  const status: Status = a.findings.some((f) => f.severity === 'warn') ? 'warn' : 'pass'
  const steps = a.hops.map((h) => ({
    name: `hop ${h.index}`,
    title: stepTitle(`hop ${h.index}`, lang),
    status: 'info' as const,
    detail: h.parsed
      ? `from ${h.fromRdns ?? h.fromHost ?? '-'}${h.fromIp ? ` [${h.fromIp}]` : ''} by ${h.byHost ?? '-'}${h.protocol ? ` with ${h.protocol}` : ''}${h.tls ? ' (TLS)' : ''}${h.date ? ` at ${h.date}` : ''}${h.flags.length ? ` {${h.flags.join(', ')}}` : ''}`
      : `unparsed: ${h.raw.slice(0, 500)}`
  }))
  const advice = a.findings.map((f) => ({ code: f.code, message: lang === 'ja' ? f.ja : f.en, ja: f.ja, en: f.en, params: f.params }))
  return toolReport('headers', ip, lang, status, headersSummary(a, lang), advice, steps, { analysis: a })
}

function mojibakeRecord (r: MojibakeResult, input: string, ip: string, lang: Lang): Report {
  const best = r.candidates[0]
  const advice: Report['advice'] = []
  const add = (code: string, params: Record<string, unknown> = {}): void => {
    const ja = adviceText(code, 'ja', params)
    const en = adviceText(code, 'en', params)
    advice.push({ code, message: lang === 'ja' ? ja : en, ja, en, params })
  }
  if (r.unchanged) add('tools.mojibake.unchanged')
  if (best.lost) add('tools.mojibake.lossy', { lost: best.lost })
  const steps = r.candidates.map((c, i) => ({ name: `candidate ${i + 1}`, title: stepTitle(`candidate ${i + 1}`, lang), status: 'info' as const, detail: `${c.path.length ? c.path.join(' → ') : 'no change'} (score ${c.score})` }))
  const summary = best.path.length ? `${best.path.join(' → ')}: ${best.text.slice(0, 200)}` : (lang === 'ja' ? '変換なしが最良' : 'no change reads best')
  return toolReport('mojibake', ip, lang, best.lost ? 'warn' : 'pass', summary, advice, steps, { input, repair: r })
}

function mojibakeAdvice (r: MojibakeResult, lang: Lang): Array<{ code: string, message: string }> {
  const out: Array<{ code: string, message: string }> = []
  if (r.unchanged) out.push({ code: 'tools.mojibake.unchanged', message: adviceText('tools.mojibake.unchanged', lang) })
  const best = r.candidates[0]
  if (best?.lost) out.push({ code: 'tools.mojibake.lossy', message: adviceText('tools.mojibake.lossy', lang, { lost: best.lost }) })
  return out
}

/** The tool's own 413 says what the limit is; the app's generic handler would not. */
async function tooLargeAsJson<T> (reply: FastifyReply, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof PayloadTooLargeError) {
      reply.code(413).send({ error: 'too_large', message: err.message })
      return null
    }
    throw err
  }
}

function pageLang (req: FastifyRequest): Lang {
  return pickLang((req.query as { lang?: unknown } | undefined)?.lang, req.headers['accept-language'], 'ja')
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // Pasted text is rendered back: no script may run, nothing may be loaded, no one may frame it.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store'
}

function sendPage (reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(html)
}

export default async function toolsRoutes (app: FastifyInstance): Promise<void> {
  // One budget per caller for every tool endpoint, API and pages alike (a per-route
  // config.rateLimit would give each route its own counter).
  const rule = app.mx.config.rateLimits.tools
  const limiter = app.createRateLimit({
    max: rule.max,
    timeWindow: rule.windowSeconds * 1000,
    keyGenerator: (req: FastifyRequest) => {
      const ip = parseIp(callerIp(req))
      return `ip:tools:${ip ? rateLimitKey(ip) : req.ip}`
    }
  })
  const toolsLimit = async (req: FastifyRequest): Promise<void> => {
    let r: Awaited<ReturnType<typeof limiter>>
    try {
      r = await limiter(req)
    } catch (err) {
      // the counters live in the shared store: fail closed, with the store's own 503
      req.log.warn({ err }, 'tools rate limit unavailable')
      throw new StoreDownError()
    }
    if (!r.isAllowed && r.isExceeded) {
      app.mx.metrics.rateLimited()
      const wait = Math.max(1, r.ttlInSeconds)
      const err = new Error(`rate limit exceeded: at most ${rule.max} tool requests per ${rule.windowSeconds} s; try again in ${wait} s`) as Error & { statusCode: number, code: string, retryAfter: number }
      err.statusCode = 429
      err.code = 'rate_limited'
      err.retryAfter = wait
      throw err
    }
  }
  const ttl = app.mx.config.reportTtlSeconds

  const analyse = async (raw: string): Promise<HeaderAnalysis> => {
    const a = analyzeHeaders(raw)
    await lookupOriginPtr(a, app.mx.dns)
    return a
  }

  // -------------------------------------------------------------------- API

  app.post('/api/v1/tools/headers', {
    bodyLimit: TOOLS_BODY_LIMIT,
    preHandler: toolsLimit,
    schema: {
      summary: 'Analyse a mail header block: Received chain, likely origin, authentication results, sender mismatches, decoded headers',
      description: 'The input is not stored unless ?save=1 (then the result is kept as a report, see links).',
      tags: ['tools'],
      body: HeadersBody,
      querystring: SaveQuery,
      response: {
        200: Type.Object({ hops: Type.Array(Type.Any()), origin: Type.Any(), findings: Type.Array(Type.Any()), saved: Saved }, { additionalProperties: true }),
        400: ErrorBody,
        413: ErrorBody,
        429: ErrorBody,
        503: ErrorBody
      }
    }
  }, async (req, reply) => {
    const { raw } = req.body as { raw: string }
    const q = req.query as { save?: string }
    const lang = langOf(req)
    const a = await tooLargeAsJson(reply, () => analyse(raw))
    if (!a) return reply
    let saved: { id: string, links: { self: string, page: string } } | null = null
    if (wantsSave(q.save)) {
      const rec = headersRecord(a, callerIp(req), lang)
      await app.mx.store.saveReport(rec, ttl)
      saved = { id: rec.id, links: links(rec.id) }
    }
    return reply.send({ ...a, advice: findingMessages(a.findings, lang), saved })
  })

  app.post('/api/v1/tools/mojibake', {
    bodyLimit: TOOLS_BODY_LIMIT,
    preHandler: toolsLimit,
    schema: {
      summary: 'Repair text decoded with the wrong character set; candidates ranked by plausibility, each with its conversion path',
      description: 'The input is not stored unless ?save=1.',
      tags: ['tools'],
      body: MojibakeBody,
      querystring: SaveQuery,
      response: {
        200: Type.Object({
          candidates: Type.Array(Type.Object({
            text: Type.String(),
            path: Type.Array(Type.String()),
            score: Type.Number(),
            japaneseShare: Type.Number(),
            lost: Type.Number(),
            guessed: Type.Number(),
            label: Type.Object({ ja: Type.String(), en: Type.String() }),
            implausible: Type.Boolean(),
            marks: Type.Array(Type.Object({ start: Type.Integer(), end: Type.Integer() })),
            mapping: Type.Union([Type.Literal('windows'), Type.Literal('mac-unix'), Type.Null()])
          })),
          unchanged: Type.Boolean(),
          advice: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
          saved: Saved
        }),
        400: ErrorBody,
        413: ErrorBody,
        429: ErrorBody,
        503: ErrorBody
      }
    }
  }, async (req, reply) => {
    const { text } = req.body as { text: string }
    const q = req.query as { save?: string }
    const lang = langOf(req)
    const r = await tooLargeAsJson(reply, async () => repairMojibake(text))
    if (!r) return reply
    let saved: { id: string, links: { self: string, page: string } } | null = null
    if (wantsSave(q.save)) {
      const rec = mojibakeRecord(r, text, callerIp(req), lang)
      await app.mx.store.saveReport(rec, ttl)
      saved = { id: rec.id, links: links(rec.id) }
    }
    return reply.send({ ...r, advice: mojibakeAdvice(r, lang), saved })
  })

  // ------------------------------------------------------------------ pages

  /** Errors on the pages are pages too (400, 413, 429), in the page's language. */
  const pageErrors = (tool: 'headers' | 'mojibake') => (err: FastifyError & { retryAfter?: number }, req: FastifyRequest, reply: FastifyReply) => {
    const lang = pageLang(req)
    const status = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 413 : err.validation ? 400 : (err.statusCode ?? 500)
    if (status === 503) {
      reply.header('retry-after', '5')
      return sendPage(reply, 503, toolErrorPage(lang, tool, lang === 'ja' ? '結果を保存できません (保存先が停止中です)。しばらくしてから、またはリンクを作成せずにお試しください。' : 'The result cannot be stored right now (the store is down). Try again shortly, or without creating a link.'))
    }
    if (status >= 500) {
      req.log.error({ err }, 'tool page failed')
      return sendPage(reply, status, toolErrorPage(lang, tool, lang === 'ja' ? '内部エラーが発生しました。' : 'internal error'))
    }
    if (status === 429) reply.header('retry-after', String(err.retryAfter ?? 60))
    const message = status === 413 && !(err instanceof PayloadTooLargeError)
      ? (lang === 'ja' ? '入力が大きすぎます (最大 256 KiB)。' : 'The input is too large (at most 256 KiB).')
      : err.message
    return sendPage(reply, status, toolErrorPage(lang, tool, message))
  }

  for (const tool of ['headers', 'mojibake'] as const) {
    app.get(`/tools/${tool}`, {
      schema: { hide: true, querystring: LangQuery }
    }, async (req, reply) => sendPage(reply, 200, toolFormPage(pageLang(req), tool)))

    app.post(`/tools/${tool}`, {
      bodyLimit: TOOLS_BODY_LIMIT,
      preHandler: toolsLimit,
      errorHandler: pageErrors(tool),
      schema: { hide: true, querystring: LangQuery, body: FormBody }
    }, async (req, reply) => {
      const lang = pageLang(req)
      const body = req.body as { raw?: string, text?: string, save?: string }
      const input = tool === 'headers' ? body.raw : body.text
      if (typeof input !== 'string') throw new BadInputError(lang === 'ja' ? 'テキストを貼り付けてください。' : 'Paste some text first.')
      const save = wantsSave(body.save)
      if (tool === 'headers') {
        const a = await analyse(input)
        let saved = null
        if (save) {
          const rec = headersRecord(a, callerIp(req), lang)
          await app.mx.store.saveReport(rec, ttl)
          saved = { id: rec.id, ...links(rec.id) }
        }
        return sendPage(reply, 200, headersResultPage(lang, a, saved, input))
      }
      const r = repairMojibake(input)
      let saved = null
      if (save) {
        const rec = mojibakeRecord(r, input, callerIp(req), lang)
        await app.mx.store.saveReport(rec, ttl)
        saved = { id: rec.id, ...links(rec.id) }
      }
      return sendPage(reply, 200, mojibakeResultPage(lang, r, saved, input))
    })
  }

  app.get('/tools/r/:id', {
    schema: { hide: true, params: Type.Object({ id: Type.String({ pattern: REPORT_ID.source }) }), querystring: LangQuery }
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const rec = await app.mx.store.getReport(id)
    if (!rec || (rec.type !== 'headers' && rec.type !== 'mojibake')) throw new NotFoundError(`no stored tool result ${id}`)
    const lang = (req.query as { lang?: Lang }).lang ?? rec.lang ?? pageLang(req)
    const self = { id, ...links(id) }
    if (rec.type === 'headers') return sendPage(reply, 200, headersResultPage(lang, rec.analysis as HeaderAnalysis, self, null))
    return sendPage(reply, 200, mojibakeResultPage(lang, rec.repair as MojibakeResult, self, null))
  })
}
