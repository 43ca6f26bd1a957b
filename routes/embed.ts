// The check button for other sites. /embed.js is a loader that puts an
// iframe served by mxprobe on the host page: the host page cannot script
// into it (another origin) and its styles cannot leak in or out. The frame
// calls the API from mxprobe's own origin, so the check endpoints need no
// CORS at all; only read-only GETs (who am I, a stored report, its event
// stream) answer any origin, without credentials, for sites that want to
// show results themselves.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { assets } from '../src/web/assets.js'
import { framePage, EMBED_CHECKS, type EmbedCheck } from '../src/web/pages.js'
import { pageHeaders, pageLang } from './web.js'
import { callerIp, ownOrigin } from './helpers.js'

/** The frame may be shown on any site; everything else in the policy is as strict as the pages'. */
const FRAME_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors *; base-uri 'none'"

/** Read-only API paths that any origin may read (no cookies exist, no credentials are allowed). */
const CORS_READ = /^\/api\/v1\/(ip|checks\/[A-Za-z0-9_-]{16}(\/events)?)$/

export function isCorsReadPath (method: string, url: string): boolean {
  return (method === 'GET' || method === 'HEAD') && CORS_READ.test(url.split('?')[0])
}

/**
 * Registered on the root instance (app.ts), before the API routes, and
 * without encapsulation (fp) so its hook sees them. Headers go on the raw response, because the event stream hijacks
 * the reply and writes its own head.
 */
export const corsForReads = fp(async function corsForReads (app: FastifyInstance): Promise<void> {
  // A plain callback hook: it runs on every request, and an async one costs a promise each time.
  const origins = app.mx.config.check.origins
  app.addHook('onRequest', (req: FastifyRequest, reply, done) => {
    if (req.headers.origin && isCorsReadPath(req.method, req.url)) {
      // The service's own origins (the page on the IPv4 origin asking the IPv6 one) read
      // /api/v1/ip with its proof; any other site still reads the address, without one.
      const own = req.url.startsWith('/api/v1/ip') && ownOrigin(req, origins)
      reply.raw.setHeader('access-control-allow-origin', own ? req.headers.origin : '*')
      reply.raw.setHeader('access-control-expose-headers', 'retry-after')
    }
    done()
  })
}, { name: 'mxprobe-cors-reads' })

export default async function embedRoutes (app: FastifyInstance): Promise<void> {
  const files = assets()

  app.get('/embed.js', { schema: { hide: true } }, async (req, reply) => {
    const a = files.get('embed.js')!
    const etag = `"${a.hash}"`
    reply
      .header('content-type', a.type)
      .header('etag', etag)
      .header('cache-control', 'public, max-age=300')
      .header('x-content-type-options', 'nosniff')
      // Host pages with Cross-Origin-Embedder-Policy may still load the loader.
      .header('cross-origin-resource-policy', 'cross-origin')
    if (req.headers['if-none-match'] === etag) return reply.code(304).send()
    return reply.send(a.body)
  })

  app.get('/embed/frame', { schema: { hide: true } }, async (req, reply) => {
    const q = req.query as Record<string, unknown>
    const check = (EMBED_CHECKS as readonly string[]).includes(String(q.check)) ? q.check as EmbedCheck : 'dns'
    const lang = pageLang(req)
    return pageHeaders(reply, FRAME_CSP)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(framePage(check, lang, callerIp(req)))
  })
}
