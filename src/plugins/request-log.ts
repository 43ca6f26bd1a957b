// One log line per request where a line is useful: requests that change
// something or start work (POST: checks, tools, forms) and every answer of
// 400 or more. Polled reads (/api/v1/ip, /healthz, /readyz, /metrics, pages,
// assets) get none: fastify's per-request child logger and its two lines cost
// about a third of /api/v1/ip's throughput (bench:http).
// Query strings are redacted: only the values of known harmless parameters
// (lang, async, save) are kept, so a password someone put into a URL never
// reaches a log.
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'

const KEPT_PARAMS = new Set(['lang', 'async', 'save'])

/** The URL as it may be logged: the path, and the query with unknown values replaced. */
export function redactUrl (url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const path = url.slice(0, q)
  const parts = url.slice(q + 1).split('&').filter(Boolean).map((kv) => {
    const eq = kv.indexOf('=')
    const k = eq < 0 ? kv : kv.slice(0, eq)
    let name: string
    try { name = decodeURIComponent(k.replace(/\+/g, ' ')) } catch { name = '' }
    if (KEPT_PARAMS.has(name) && /^[A-Za-z0-9_-]{0,16}$/.test(eq < 0 ? '' : kv.slice(eq + 1))) return kv
    return `${/^[A-Za-z0-9_-]{1,32}$/.test(k) ? k : '_'}=[redacted]`
  })
  return parts.length ? `${path}?${parts.join('&')}` : path
}

function useful (req: FastifyRequest, status: number): boolean {
  return status >= 400 || (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS')
}

/** Polled paths: no hook at all on their routes (an onResponse hook costs a hook pass per request). */
export const QUIET_PATHS = new Set(['/api/v1/ip', '/healthz', '/readyz', '/metrics'])

async function requestLogPlugin (app: FastifyInstance): Promise<void> {
  // A plain callback hook: an async one costs a promise each time.
  const onResponse = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const status = reply.statusCode
    if (!useful(req, status)) return done()
    const line = { reqId: req.id, method: req.method, url: redactUrl(req.url), status, ms: Math.round(reply.elapsedTime * 10) / 10 }
    if (status >= 500) req.log.warn(line, 'request answered')
    else req.log.info(line, 'request answered')
    done()
  }
  // Route by route (registered after this plugin), so the polled ones carry none.
  app.addHook('onRoute', (route) => {
    if (QUIET_PATHS.has(route.url)) return
    const own = route.onResponse
    route.onResponse = own ? [...(Array.isArray(own) ? own : [own]), onResponse] as typeof own : onResponse as never
  })
}
// Not encapsulated (fp): its onRoute hook sees the routes of every later plugin.
export default fp(requestLogPlugin, { name: 'mxprobe-request-log' })
