// The JSON API: who am I, the checks, stored reports and their live events.
import { isIPv6 } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { domainKeyOf } from '../src/checks/target-input.js'
import { callerIp, registerCheckRoute, DomainField, ErrorBody, ReportSchema } from './helpers.js'
import { dnsCheck } from '../src/checks/dns.js'
import { REPORT_ID, type ReportEvent } from '../src/checks/report.js'
import { NotFoundError } from '../src/errors.js'

/** How long /api/v1/ip remembers a PTR answer, and for how many addresses at most. */
const PTR_CACHE_MS = 30_000
const PTR_CACHE_MAX = 10_000

export default async function apiRoutes (app: FastifyInstance): Promise<void> {
  // /api/v1/ip is hit on every page load and by scripts polling for their
  // new dynamic address: a reverse lookup per request would make it DNS-bound
  // (bench:http). In-flight lookups are shared and answers kept briefly; the
  // checks themselves always ask DNS afresh.
  const ptrCache = new Map<string, { at: number, ptr: Promise<string | null> }>()
  const cachedPtr = (ip: string): Promise<string | null> => {
    const now = Date.now()
    const hit = ptrCache.get(ip)
    if (hit && now - hit.at < PTR_CACHE_MS) return hit.ptr
    if (ptrCache.size >= PTR_CACHE_MAX) {
      for (const [k, v] of ptrCache) if (now - v.at >= PTR_CACHE_MS) ptrCache.delete(k)
      if (ptrCache.size >= PTR_CACHE_MAX) ptrCache.delete(ptrCache.keys().next().value as string)
    }
    const ptr = app.mx.dns.ptr(ip).then((names) => names[0] ?? null, () => { ptrCache.delete(ip); return null })
    ptrCache.set(ip, { at: now, ptr })
    return ptr
  }

  app.get('/api/v1/ip', {
    schema: {
      summary: 'The caller\'s IP address as mxprobe sees it, with its reverse DNS',
      tags: ['info'],
      response: { 200: Type.Object({ ip: Type.String(), family: Type.Union([Type.Literal(4), Type.Literal(6)]), ptr: Type.Union([Type.String(), Type.Null()]) }) }
    }
  }, async (req) => {
    const ip = callerIp(req)
    return { ip, family: isIPv6(ip) ? 6 : 4, ptr: await cachedPtr(ip) }
  })

  registerCheckRoute(app, {
    path: '/api/v1/checks/dns',
    def: dnsCheck,
    limit: 'dns',
    summary: 'Where mail for a domain goes (MX, addresses, TTL) and whether that is the caller\'s IP',
    body: Type.Object({ domain: DomainField }, { additionalProperties: false }),
    domainOf: (b) => domainKeyOf(b.domain)
  })

  // An id made of id characters that is not a stored report is "not found" (404),
  // whatever its length (a client cannot tell a mistyped id from an expired one);
  // other characters (paths, dots, spaces) are bad input (400).
  const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })

  // Open event streams of this instance. On shutdown they are told to come back
  // in a second and closed: the client's EventSource reconnects (through the
  // proxy, to another instance) with Last-Event-ID and resumes from Redis, and
  // this instance's server.close() is not held open by a stream for a check
  // that may be running elsewhere. Checks running here still finish.
  const openStreams = new Set<(reason: string) => void>()
  app.addHook('preClose', async () => {
    for (const close of [...openStreams]) close('shutdown')
  })

  app.get('/api/v1/checks/:id', {
    schema: { summary: 'A stored report', tags: ['reports'], params: IdParams, response: { 200: ReportSchema, 404: ErrorBody } }
  }, async (req) => {
    const { id } = req.params as { id: string }
    const r = REPORT_ID.test(id) ? await app.mx.store.getReport(id) : null
    if (!r) throw new NotFoundError(`no report ${id} (reports are kept for ${Math.round(app.mx.config.reportTtlSeconds / 86400)} days)`)
    return r
  })

  app.get('/api/v1/checks/:id/events', {
    schema: { summary: 'The report as it grows, as Server-Sent Events (transcript, step, advice, target, child (a diagnosis), done)', tags: ['reports'], params: IdParams }
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const store = app.mx.store
    const report = REPORT_ID.test(id) ? await store.getReport(id) : null
    if (!report) throw new NotFoundError(`no report ${id}`)
    const lastId = Number(req.headers['last-event-id'] ?? 0) || 0

    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    app.mx.metrics.sseStreams.inc()
    let sent = lastId
    let ended = false
    const queue: ReportEvent[] = []
    let unsubscribe: () => Promise<void> = async () => {}
    const end = (): void => {
      if (ended) return
      ended = true
      openStreams.delete(closeForShutdown)
      clearInterval(heartbeat)
      sock?.removeListener('end', end)
      app.mx.metrics.sseStreams.dec()
      unsubscribe().catch(() => {})
      res.end()
    }
    const closeForShutdown = (): void => {
      if (!ended) res.write('retry: 1000\nevent: reconnect\ndata: {"reason":"instance shutting down"}\n\n')
      end()
    }
    openStreams.add(closeForShutdown)
    const write = (ev: ReportEvent): void => {
      if (ended || ev.seq <= sent) return
      sent = ev.seq
      res.write(`id: ${ev.seq}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev.data)}\n\n`)
      if (ev.type === 'done') end()
    }
    const heartbeat = setInterval(() => { if (!ended) res.write(': keep-alive\n\n') }, 15_000)
    // The response's close is the connection's end (however early it came); a client that
    // left while getReport() was awaited is already gone and would never fire it again.
    res.on('close', end)
    // A client that half-closed (sent FIN) before the stream began never makes the response
    // close: node ends its side but the socket lingers. An event-stream client never half-closes.
    const sock = req.raw.socket
    sock?.once('end', end)
    // (explicit === true: app.inject's stand-in socket leaves these undefined)
    if (res.destroyed || sock?.destroyed === true || sock?.readableEnded === true) end()

    // Subscribe before reading history, so nothing falls between the two; seq numbers dedupe.
    let replaying = true
    try {
      unsubscribe = await store.subscribe(id, (ev) => { if (replaying) queue.push(ev); else write(ev) })
      // The client may have gone while subscribing: end() ran with the old no-op unsubscribe.
      if (ended) { await unsubscribe(); return }
      const history = await store.getEvents(id, sent)
      for (const ev of history) write(ev)
      replaying = false
      for (const ev of queue.splice(0).sort((a, b) => a.seq - b.seq)) write(ev)
      if (!ended) {
        // A check that finished before we subscribed (or whose events expired): send the final report.
        const now = await store.getReport(id)
        if (now && now.status !== 'running') write({ seq: Number.MAX_SAFE_INTEGER, type: 'done', data: now })
      }
    } catch {
      if (!ended) res.write('event: error\ndata: {"error":"store_unavailable"}\n\n')
      end()
    }
  })
}
