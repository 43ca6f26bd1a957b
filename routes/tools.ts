// The forensics tools: header analyzer and garbled-text repair, as JSON API
// and as server-rendered pages. Nothing here opens a socket; the only outside
// question is the optional PTR lookup of the origin through the app's
// resolver. The pasted input is never stored unless the caller asks for a
// link (?save=1, or the form's checkbox): then the result is saved as a
// report-shaped record, readable at /api/v1/checks/:id and /tools/r/:id.
import type { FastifyInstance, FastifyRequest, FastifyReply, FastifyError } from 'fastify'
import { Type } from '@sinclair/typebox'
import { callerIp, langOf, ErrorBody, refuseCrossSite } from './helpers.js'
import { parseIp, rateLimitKey } from '../src/net/ip.js'
import { pickLang, type Lang } from '../src/i18n/index.js'
import { REPORT_ID } from '../src/checks/report.js'
import { BadInputError, NotFoundError, PayloadTooLargeError, StoreDownError } from '../src/errors.js'
import { lookupOriginPtr, findingMessages, type HeaderAnalysis } from '../src/tools/headers.js'
import type { MojibakeResult } from '../src/tools/mojibake.js'
import { headersRecord, mojibakeRecord, mojibakeAdvice, toolLinks as links } from '../src/tools/records.js'
import { ToolsBusyError, ToolTimeoutError } from '../src/tools/pool.js'
import { toolFormPage, toolErrorPage, headersResultPage, mojibakeResultPage } from '../src/web/tools.js'
import { webText } from '../src/i18n/web.js'
import { PAGE_CSP } from './web.js'

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
  // Pasted text is rendered back through the escaping template: only the site's own script and stylesheet may load, no one may frame it.
  'content-security-policy': PAGE_CSP,
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
    const a = await app.mx.tools.headers(raw)
    await lookupOriginPtr(a, app.mx.dns)
    return a
  }

  // -------------------------------------------------------------------- API

  app.post('/api/v1/tools/headers', {
    bodyLimit: TOOLS_BODY_LIMIT,
    onRequest: refuseCrossSite,
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
    onRequest: refuseCrossSite,
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
    const r = await tooLargeAsJson(reply, () => app.mx.tools.mojibake(text))
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
    if (err instanceof ToolsBusyError) {
      reply.header('retry-after', String(err.retryAfterSeconds))
      return sendPage(reply, 503, toolErrorPage(lang, tool, lang === 'ja' ? `ただいま混み合っていて解析できません。${err.retryAfterSeconds} 秒ほどしてから、もう一度お試しください。` : `The tools are busy right now; try again in ${err.retryAfterSeconds} s.`))
    }
    if (err instanceof ToolTimeoutError) {
      return sendPage(reply, 422, toolErrorPage(lang, tool, lang === 'ja' ? '解析に時間がかかりすぎたため中止しました。もっと短いテキストを貼り付けてください。' : 'The analysis took too long and was stopped; paste a shorter piece of text.'))
    }
    if (status === 503) {
      reply.header('retry-after', '5')
      return sendPage(reply, 503, toolErrorPage(lang, tool, webText(lang).tools.storeDown))
    }
    if (status >= 500) {
      req.log.error({ err }, 'tool page failed')
      return sendPage(reply, status, toolErrorPage(lang, tool, webText(lang).tools.internal))
    }
    if (status === 429) reply.header('retry-after', String(err.retryAfter ?? 60))
    const message = status === 413 && !(err instanceof PayloadTooLargeError)
      ? webText(lang).tools.tooLarge
      : err.message
    return sendPage(reply, status, toolErrorPage(lang, tool, message))
  }

  for (const tool of ['headers', 'mojibake'] as const) {
    app.get(`/tools/${tool}`, {
      schema: { hide: true, querystring: LangQuery }
    }, async (req, reply) => sendPage(reply, 200, toolFormPage(pageLang(req), tool)))

    app.post(`/tools/${tool}`, {
      bodyLimit: TOOLS_BODY_LIMIT,
      onRequest: refuseCrossSite,
      preHandler: toolsLimit,
      errorHandler: pageErrors(tool),
      schema: { hide: true, querystring: LangQuery, body: FormBody }
    }, async (req, reply) => {
      const lang = pageLang(req)
      const body = req.body as { raw?: string, text?: string, save?: string }
      const input = tool === 'headers' ? body.raw : body.text
      if (typeof input !== 'string') throw new BadInputError(webText(lang).tools.pasteFirst)
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
      const r = await app.mx.tools.mojibake(input)
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
