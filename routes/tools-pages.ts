// The forensics tools as server-rendered pages (no JavaScript needed): the
// forms, their results, and a stored result at /tools/r/:id. The same
// limits and analysis as the API (routes/tools.ts hands them over); errors
// are pages too, in the page's language.
import type { FastifyInstance, FastifyRequest, FastifyReply, FastifyError } from 'fastify'
import { Type } from '@sinclair/typebox'
import { refuseCrossSite } from './helpers.js'
import { pickLang, type Lang } from '../src/i18n/index.js'
import { REPORT_ID } from '../src/core/report.js'
import { BadInputError, NotFoundError, PayloadTooLargeError, RateLimitedError, httpAnswer } from '../src/errors.js'
import type { HeaderAnalysis } from '../src/tools/headers.js'
import type { MojibakeResult } from '../src/tools/mojibake.js'
import { toolLinks as links } from '../src/tools/records.js'
import { ToolsBusyError, ToolTimeoutError } from '../src/tools/pool.js'
import { toolFormPage, toolErrorPage } from '../src/web/tools.js'
import { fillSlot, type AnswerPayload } from '../src/web/tool-answers.js'
import { webText } from '../src/i18n/web.js'
import { PAGE_CSP } from './web.js'
import { TOOLS_BODY_LIMIT, TEXT_MAX_CHARS, wantsSave, splitToolForm } from '../src/tools/input.js'

const LangQuery = Type.Object({
  lang: Type.Optional(Type.Union([Type.Literal('ja'), Type.Literal('en')]))
}, { additionalProperties: false })

const FormBody = Type.Object({
  raw: Type.Optional(Type.String({ maxLength: TEXT_MAX_CHARS })),
  text: Type.Optional(Type.String({ maxLength: TEXT_MAX_CHARS })),
  save: Type.Optional(Type.String({ maxLength: 8 }))
}, { additionalProperties: true })

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

function sendPage (reply: FastifyReply, status: number, html: string | AnswerPayload): FastifyReply {
  if (typeof html === 'string') return reply.code(status).headers(PAGE_HEADERS).send(html)
  // bytes built in the tools' worker: sent as they are
  return reply.code(status).headers(PAGE_HEADERS).header('content-length', String(html.length)).send(html.body)
}

export interface ToolPageDeps {
  toolsLimit: (req: FastifyRequest) => Promise<void>
  /** the finished answer's bytes, built in the tools' worker (routes/tools.ts) */
  answer: (req: FastifyRequest, kind: 'headers' | 'mojibake', input: string, as: 'page', lang: Lang, save: boolean, inputEncoded: boolean) => Promise<AnswerPayload>
}

/** Form bodies whose paste field is still percent-encoded (splitToolForm): the worker decodes it. */
const SPLIT_FORMS = new WeakSet<object>()

export default async function toolPageRoutes (app: FastifyInstance, { toolsLimit, answer }: ToolPageDeps): Promise<void> {
  /** Errors on the pages are pages too (400, 413, 429), in the page's language. */
  const pageErrors = (tool: 'headers' | 'mojibake') => (err: FastifyError & { retryAfterSeconds?: number }, req: FastifyRequest, reply: FastifyReply) => {
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
    if (err instanceof RateLimitedError) {
      const a = httpAnswer(err, lang)
      reply.headers(a.headers)
      return sendPage(reply, 429, toolErrorPage(lang, tool, a.body.message))
    }
    const message = status === 413 && !(err instanceof PayloadTooLargeError)
      ? webText(lang).tools.tooLarge
      : err.message
    return sendPage(reply, status, toolErrorPage(lang, tool, message))
  }

  for (const tool of ['headers', 'mojibake'] as const) {
    app.get(`/tools/${tool}`, {
      schema: { hide: true, querystring: LangQuery }
    }, async (req, reply) => sendPage(reply, 200, toolFormPage(pageLang(req), tool)))
  }

  // The form posts, in a scope of their own: its form parser leaves the paste percent-encoded.
  await app.register(async (forms) => {
    forms.removeContentTypeParser('application/x-www-form-urlencoded')
    forms.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: TOOLS_BODY_LIMIT }, (_req, body, done) => {
      const fields = splitToolForm(body as string)
      SPLIT_FORMS.add(fields)
      done(null, fields)
    })
    for (const tool of ['headers', 'mojibake'] as const) postForm(forms, tool)
  })

  function postForm (forms: FastifyInstance, tool: 'headers' | 'mojibake'): void {
    forms.post(`/tools/${tool}`, {
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
      return sendPage(reply, 200, await answer(req, tool, input, 'page', lang, wantsSave(body.save), SPLIT_FORMS.has(body)))
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
    // A stored result is as large as a fresh one: rendered in the worker too, with the same busy answers.
    try {
      const page = await app.mx.tools.page({ kind: rec.type, value: (rec.type === 'headers' ? rec.analysis : rec.repair) as HeaderAnalysis | MojibakeResult, lang, saved: self })
      return sendPage(reply, 200, fillSlot(page, ''))
    } catch (err) {
      if (err instanceof ToolsBusyError || err instanceof ToolTimeoutError) return pageErrors(rec.type)(err as unknown as FastifyError, req, reply)
      throw err
    }
  })
}
