// The event-stream plugin (src/plugins/sse.ts) over real HTTP and real Redis:
// Last-Event-ID cannot make a stream skip its end, streams are capped per
// caller (IPv6 per /64) and in all across instances, and every stream ends
// after SSE_MAX_SECONDS with a `reconnect` event.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { testApp, uniquePrefix, REDIS_URL } from '../helpers.js'
import { sseClient } from '../ops/fixtures.js'
import { ReportBuilder } from '../../src/core/report.js'
import { parseLastEventId } from '../../src/plugins/sse.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const urlOf = (app: FastifyInstance) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

/** Resolves with the events, or with 'open' when the stream is still open after `ms`. */
async function within<T> (p: Promise<T>, ms: number): Promise<T | 'open'> {
  let timer!: NodeJS.Timeout
  const r = await Promise.race([p, new Promise<'open'>((resolve) => { timer = setTimeout(() => resolve('open'), ms) })])
  clearTimeout(timer)
  return r
}

async function runningReport (app: FastifyInstance): Promise<string> {
  const b = new ReportBuilder('dns', '127.0.0.1', 'en')
  await app.mx.store.saveReport(b.report, 600)
  return b.report.id
}

t.test('Last-Event-ID is a bounded integer: garbage or huge values never skip the final done', async (t) => {
  t.equal(parseLastEventId('12'), 12)
  t.equal(parseLastEventId(' 7 '), 7)
  for (const bad of ['Infinity', '1e400', '1e3', '-1', '0x10', '9007199254740993', '99999999999999999999', '1.5', '', 'abc', undefined]) {
    t.equal(parseLastEventId(bad), 0, `${String(bad)} counts as 0`)
  }

  const app = await testApp({ REDIS_URL, REDIS_PREFIX: uniquePrefix() })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  // A finished report with its events stored.
  const b = new ReportBuilder('dns', '127.0.0.1', 'en')
  const id = b.report.id
  b.report.status = 'pass'
  b.report.finishedAt = new Date().toISOString()
  await app.mx.store.saveReport(b.report, 600)
  await app.mx.store.appendEvent(id, { seq: 1, type: 'target', data: b.report.target }, 600)
  await app.mx.store.appendEvent(id, { seq: 2, type: 'done', data: b.report }, 600)

  for (const lastId of ['Infinity', '1e400', '9007199254740993', '99999999999999999999', '-5', 'abc', '2', '5']) {
    const sse = sseClient(`${urlOf(app)}/api/v1/checks/${id}/events`, { headers: { 'last-event-id': lastId } })
    const events = await within(sse.done, 8000)
    if (events === 'open') {
      sse.abort()
      t.fail(`Last-Event-ID ${lastId}: the stream of a finished report stayed open`)
      continue
    }
    t.equal(events.at(-1)?.event, 'done', `Last-Event-ID ${lastId}: the stream ends with done`)
    t.equal(JSON.parse(events.at(-1)!.data).id, id)
  }
})

t.test('streams are capped per caller (IPv6 per /64) and in all, across instances', async (t) => {
  const prefix = uniquePrefix()
  const env = { REDIS_URL, REDIS_PREFIX: prefix, SSE_PER_CALLER: '2', SSE_TOTAL: '5', TRUST_PROXY: '127.0.0.1' }
  const a = await testApp(env)
  const b = await testApp(env)
  t.teardown(async () => { await a.close(); await b.close() })
  await a.listen({ host: '127.0.0.1', port: 0 })
  await b.listen({ host: '127.0.0.1', port: 0 })
  const id = await runningReport(a)
  const open: Array<ReturnType<typeof sseClient>> = []
  t.teardown(() => { for (const s of open) s.abort() })
  const stream = async (app: FastifyInstance, xff: string) => {
    const s = sseClient(`${urlOf(app)}/api/v1/checks/${id}/events`, { headers: { 'x-forwarded-for': xff } })
    open.push(s)
    s.done.catch(() => {})
    for (let i = 0; i < 200 && s.status === 0; i++) await sleep(25)
    return s
  }

  // Two hosts of one IPv6 /64, on two instances: one caller.
  t.equal((await stream(a, '2001:db8:1:2::1')).status, 200)
  t.equal((await stream(b, '2001:db8:1:2::99')).status, 200)
  const third = await stream(a, '2001:db8:1:2:ffff::7')
  t.equal(third.status, 429, 'a third stream of the same /64 is refused, whichever instance')
  t.ok(Number(third.headers['retry-after']) >= 1, 'with Retry-After')
  // Another /64 is another caller.
  t.equal((await stream(b, '2001:db8:1:3::1')).status, 200)
  t.equal((await stream(b, '2001:db8:1:3::2')).status, 200)
  t.equal((await stream(a, '192.0.2.10')).status, 200, 'five streams in all')
  const over = await stream(b, '192.0.2.11')
  t.equal(over.status, 429, 'the sixth stream is over the total, counted across both instances')

  // A stream that ends frees its slots.
  open[0].abort()
  let again = 0
  for (let i = 0; i < 40 && again !== 200; i++) {
    await sleep(100)
    const s = await stream(a, '2001:db8:1:2::5')
    again = s.status
    if (again !== 200) s.abort()
  }
  t.equal(again, 200, 'a freed slot can be taken again')
  t.equal((await a.inject({ url: `/api/v1/checks/${id}/events`, headers: { 'x-forwarded-for': '2001:db8:1:2::6' }, remoteAddress: '127.0.0.1' })).json().error, 'too_many_streams')
})

t.test('a stream lives at most SSE_MAX_SECONDS, then the client is told to reconnect', async (t) => {
  const app = await testApp({ REDIS_URL, REDIS_PREFIX: uniquePrefix(), SSE_MAX_SECONDS: '5', SSE_PER_CALLER: '1' })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const id = await runningReport(app)
  const t0 = Date.now()
  const sse = sseClient(`${urlOf(app)}/api/v1/checks/${id}/events`)
  const events = await within(sse.done, 30_000)
  if (events === 'open') {
    sse.abort()
    t.fail('the stream of a running report never ended')
    return
  }
  t.ok(Date.now() - t0 >= 4500, 'not before its lifetime')
  t.equal(events.at(-1)?.event, 'reconnect')
  t.match(JSON.parse(events.at(-1)!.data), { reason: /lifetime/ })
  // Its slot is free again: the one stream this caller may hold can be opened anew.
  let status = 0
  for (let i = 0; i < 40 && status !== 200; i++) {
    const s = sseClient(`${urlOf(app)}/api/v1/checks/${id}/events`)
    s.done.catch(() => {})
    for (let j = 0; j < 200 && s.status === 0; j++) await sleep(25)
    status = s.status
    s.abort()
    if (status !== 200) await sleep(100)
  }
  t.equal(status, 200)
})
