// Live events of a report as Server-Sent Events: GET /api/v1/checks/:id/events.
// The whole stream lifecycle lives here:
//   - Last-Event-ID is a bounded non-negative integer (garbage counts as 0), so
//     no header can make the stream skip the final `done`; a finished report's
//     stream always ends with `done`;
//   - streams are capped per caller (IPv6: per /64) and in all, through slots in
//     the shared store, so the caps hold across instances; over a cap: 429 with
//     Retry-After, before anything is subscribed;
//   - every stream has a maximum lifetime: then the client is told to reconnect
//     (EventSource does, with Last-Event-ID) and the slot is freed;
//   - on shutdown open streams are told to reconnect elsewhere and closed, so
//     server.close() is not held open by a stream for a check running elsewhere.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { REPORT_ID, type ReportEvent } from '../core/report.js'
import { NotFoundError } from '../errors.js'
import { parseIp, rateLimitKey } from '../net/ip.js'
import { bi, pickLang } from '../i18n/index.js'

export interface SseOptions {
  /** open streams per caller (IPv6: per /64), counted across instances */
  perCaller: number
  /** open streams in all, counted across instances */
  total: number
  /** a stream is closed (the client told to reconnect) after this long */
  maxSeconds: number
  /** comment line that keeps proxies from closing an idle stream */
  heartbeatMs?: number
}

/** The largest event id mxprobe ever writes fits comfortably in 15 digits. */
const MAX_EVENT_ID_DIGITS = 15

/**
 * Last-Event-ID as the sequence number the client has seen: a plain decimal
 * integer of at most 15 digits; anything else (Infinity, 1e400, -1, 2^60, text)
 * is 0, which replays the whole stream: duplicates are harmless, a skipped
 * `done` is not.
 */
export function parseLastEventId (value: unknown): number {
  const v = Array.isArray(value) ? value[0] : value
  if (typeof v !== 'string') return 0
  const s = v.trim()
  if (s.length === 0 || s.length > MAX_EVENT_ID_DIGITS || !/^\d+$/.test(s)) return 0
  return Number(s)
}

const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })

/** Whom a stream is counted against: the caller's IP (trusted proxies resolved), IPv6 per /64. */
function callerKey (req: FastifyRequest): string {
  const ip = parseIp(req.ip)
  return ip ? rateLimitKey(ip) : req.ip
}

export default async function ssePlugin (app: FastifyInstance, opts: SseOptions): Promise<void> {
  const heartbeatMs = opts.heartbeatMs ?? 15_000
  const lifetimeMs = opts.maxSeconds * 1000
  // A slot outlives its stream by a margin only if this instance dies: then it frees itself.
  const slotTtlMs = lifetimeMs + 60_000
  const retryAfter = String(Math.min(60, Math.max(1, Math.ceil(opts.maxSeconds / 10))))
  const openStreams = new Set<(reason: string) => void>()

  app.addHook('preClose', async () => {
    for (const close of [...openStreams]) close('instance shutting down')
  })

  app.get('/api/v1/checks/:id/events', {
    schema: {
      summary: 'The report as it grows, as Server-Sent Events (transcript, step, advice, target, done)',
      description: `At most ${opts.perCaller} open streams per caller and ${opts.total} in all (429 with Retry-After over that); a stream lasts at most ${opts.maxSeconds} s, then the client is told to reconnect with Last-Event-ID.`,
      tags: ['reports'],
      params: IdParams
    }
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const store = app.mx.store
    const report = REPORT_ID.test(id) ? await store.getReport(id) : null
    if (!report) throw new NotFoundError(`no report ${id}`)
    const lastId = parseLastEventId(req.headers['last-event-id'])

    // Caps: the caller's slot first, then the instance-wide one; both or neither.
    const token = randomUUID()
    const mine = `sse:caller:${callerKey(req)}`
    const all = 'sse:total'
    const refuse = (message: string) => {
      app.mx.metrics.rateLimited()
      return reply.code(429).header('retry-after', retryAfter).send({ error: 'too_many_streams', message })
    }
    const lang = pickLang((req.query as { lang?: unknown } | undefined)?.lang, req.headers['accept-language'], 'en')
    if (!await store.acquireSlot(mine, token, opts.perCaller, slotTtlMs)) {
      return refuse(bi(lang, `同時に開けるイベントストリームは 1 つの接続元につき ${opts.perCaller} 本までです。開いているページを閉じてから、${retryAfter} 秒後にもう一度お試しください。`,
        `at most ${opts.perCaller} open event streams per caller; close some and try again in ${retryAfter} s`))
    }
    let gotTotal = false
    try {
      gotTotal = await store.acquireSlot(all, token, opts.total, slotTtlMs)
    } finally {
      if (!gotTotal) await store.releaseSlot(mine, token).catch(() => {})
    }
    if (!gotTotal) {
      return refuse(bi(lang, `mxprobe は今、イベントストリームを開けません (上限 ${opts.total} 本)。${retryAfter} 秒後にもう一度お試しください。`,
        `mxprobe serves as many event streams as it can (${opts.total}); try again in ${retryAfter} s`))
    }

    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    // The client (and a proxy) sees the stream open at once, not with the first event.
    res.flushHeaders()
    app.mx.metrics.sseStreams.inc()
    let sent = lastId
    let ended = false
    const opened = Date.now()
    const queue: ReportEvent[] = []
    let unsubscribe: () => Promise<void> = async () => {}
    const end = (): void => {
      if (ended) return
      ended = true
      openStreams.delete(reconnect)
      clearInterval(heartbeat)
      clearTimeout(lifetime)
      sock?.removeListener('end', end)
      app.mx.metrics.sseStreams.dec()
      unsubscribe().catch(() => {})
      Promise.allSettled([store.releaseSlot(mine, token), store.releaseSlot(all, token)]).catch(() => {})
      res.end()
      // One line per stream, when it ends: which instance served whom, and for how long.
      req.log.info({ checkId: id, lastEventId: sent, ms: Date.now() - opened }, 'event stream ended')
    }
    /** Tell the client to come back (EventSource reconnects with Last-Event-ID), then close. */
    const reconnect = (reason: string): void => {
      if (!ended) res.write(`retry: 1000\nevent: reconnect\ndata: ${JSON.stringify({ reason })}\n\n`)
      end()
    }
    openStreams.add(reconnect)
    const write = (ev: ReportEvent): void => {
      if (ended || ev.seq <= sent) return
      sent = ev.seq
      res.write(`id: ${ev.seq}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev.data)}\n\n`)
      if (ev.type === 'done') end()
    }
    const heartbeat = setInterval(() => { if (!ended) res.write(': keep-alive\n\n') }, heartbeatMs)
    const lifetime = setTimeout(() => reconnect('stream lifetime reached'), lifetimeMs)
    lifetime.unref()
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
        // A finished report always ends its stream with `done`, whatever the client says it
        // has seen (its events may have expired, or its Last-Event-ID be past them all).
        const now = await store.getReport(id)
        if (!ended && now && now.status !== 'running') {
          res.write(`id: ${Number.MAX_SAFE_INTEGER}\nevent: done\ndata: ${JSON.stringify(now)}\n\n`)
          end()
        }
      }
    } catch (err) {
      req.log.warn({ err, id }, 'event stream failed')
      if (!ended) res.write('event: error\ndata: {"error":"store_unavailable"}\n\n')
      end()
    }
  })
}
