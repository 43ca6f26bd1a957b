// The cross-site guard of every check endpoint (API and form): a page on
// another site must not start a check in a visitor's browser.
import { bi, pickLang } from '../i18n/index.js'
import type { FastifyRequest, FastifyReply } from 'fastify'

/**
 * A request a page on another site made the visitor's browser send. Such a
 * page must not be able to start a check (or a POP3 login attempt) in a
 * visitor's browser: not through the /check/:type form, and not through the
 * API either, where an HTML form post (x-www-form-urlencoded, parsed by
 * @fastify/formbody) needs no CORS preflight. mxprobe's own pages and the
 * embed frame are mxprobe's origin; programs send no Origin at all.
 */
export function crossSite (req: FastifyRequest): boolean {
  // Fetch metadata is the browser's own statement; older browsers send only Origin.
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string' && site) return site === 'cross-site' || site === 'same-site'
  const origin = req.headers.origin
  if (!origin) return false
  if (origin === 'null') return true
  try {
    return new URL(origin).host !== req.headers.host
  } catch {
    return true
  }
}

/** onRequest guard of every check endpoint: 403 before the body is even read. */
export async function refuseCrossSite (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (crossSite(req)) {
    const lang = pickLang((req.query as Record<string, unknown> | undefined)?.lang, req.headers['accept-language'], 'en')
    return reply.code(403).send({ error: 'cross_site', message: bi(lang, 'テストは mxprobe 自身のページかプログラムからだけ始められます。他のサイトのページからは始められません。', 'a check can only be started from mxprobe\'s own pages or by a program, not by a page on another site') })
  }
}
