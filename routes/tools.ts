// The forensics tools: header analyzer and garbled-text repair, as JSON API
// (the server-rendered pages are in tools-pages.ts). Nothing here opens a socket; the only outside
// question is the optional PTR lookup of the origin through the app's
// resolver. The pasted input is never stored unless the caller asks for a
// link (?save=1, or the form's checkbox): then the result is saved as a
// report-shaped record, readable at /api/v1/checks/:id and /tools/r/:id.
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify'
import { Type } from '@sinclair/typebox'
import { callerIp, langOf, ErrorBody, refuseCrossSite } from './helpers.js'
import { parseIp, rateLimitKey } from '../src/net/ip.js'
import { PayloadTooLargeError, RateLimitedError, StoreDownError } from '../src/errors.js'
import { lookupOriginPtr, type HeaderAnalysis } from '../src/tools/headers.js'
import type { MojibakeResult } from '../src/tools/mojibake.js'
import { headersRecord, mojibakeRecord, toolLinks as links } from '../src/tools/records.js'
import { newReportId } from '../src/core/report.js'
import { fillSlot, headersOriginJson, type AnswerPayload } from '../src/web/tool-answers.js'
import { ptrLine } from '../src/web/tools.js'
import type { Lang } from '../src/i18n/index.js'
import toolPageRoutes from './tools-pages.js'
import { TOOLS_BODY_LIMIT, wantsSave } from '../src/tools/input.js'

const SaveQuery = Type.Object({
  save: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0'), Type.Literal('true'), Type.Literal('false')])),
  lang: Type.Optional(Type.Union([Type.Literal('ja'), Type.Literal('en')]))
}, { additionalProperties: false })

const HeadersBody = Type.Object({
  raw: Type.String({ description: 'a header block or a whole message, up to 256 KiB of text' })
}, { additionalProperties: false })

const MojibakeBody = Type.Object({
  text: Type.String({ description: 'garbled text, up to 256 KiB' })
}, { additionalProperties: false })

const Saved = Type.Union([Type.Null(), Type.Object({ id: Type.String(), links: Type.Object({ self: Type.String(), page: Type.String() }) })])

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
      throw RateLimitedError.over({ kind: 'tools', max: rule.max, windowSeconds: rule.windowSeconds }, r.ttlInSeconds)
    }
  }
  const ttl = app.mx.config.reportTtlSeconds

  /**
   * The tool's finished answer, JSON body or page: built in the worker (the tool, its
   * serialisation or rendering); here only the origin's PTR question (the app's resolver)
   * and, when asked, storing the result. The main thread writes the bytes it gets.
   */
  const answer = async (req: FastifyRequest, kind: 'headers' | 'mojibake', input: string, as: 'json' | 'page', lang: Lang, save: boolean, inputEncoded = false): Promise<AnswerPayload> => {
    // The link goes into the answer, so its id is chosen before the worker builds it.
    const id = save ? newReportId() : null
    const ans = await app.mx.tools.answer({ kind, input, inputEncoded, as, lang, saved: id ? { id, ...links(id) } : null, keep: save })
    let fragment = ''
    if (kind === 'headers') {
      const origin = ans.value ? (ans.value as HeaderAnalysis).origin : ans.origin
      await lookupOriginPtr({ origin }, app.mx.dns)
      fragment = as === 'json' ? headersOriginJson(origin) : String(ptrLine(lang, origin))
    }
    if (id) {
      const rec = kind === 'headers'
        ? headersRecord(ans.value as HeaderAnalysis, callerIp(req), lang, id)
        : mojibakeRecord(ans.value as MojibakeResult, ans.input ?? input, callerIp(req), lang, id)
      await app.mx.store.saveReport(rec, ttl)
    }
    return fillSlot(ans, fragment)
  }
  /** Bytes already serialised: fastify sends a Buffer or a stream as it is (no serializer, no schema). */
  const sendJson = (reply: FastifyReply, a: AnswerPayload): FastifyReply =>
    reply.type('application/json; charset=utf-8').header('content-length', String(a.length)).send(a.body)

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
    const body = await tooLargeAsJson(reply, () => answer(req, 'headers', raw, 'json', langOf(req), wantsSave(q.save)))
    if (!body) return reply
    return sendJson(reply, body)
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
    const body = await tooLargeAsJson(reply, () => answer(req, 'mojibake', text, 'json', langOf(req), wantsSave(q.save)))
    if (!body) return reply
    return sendJson(reply, body)
  })

  // The pages: same limits, same analysis, rendered as HTML.
  await toolPageRoutes(app, { toolsLimit, answer })
}
