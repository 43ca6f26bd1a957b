// An event stream whose client goes away must leave nothing behind: no
// heartbeat timer, no open-stream count, no Redis subscription. Clients
// that vanish while the handler is still awaiting the store (reading the
// report, subscribing) are the ones that used to be missed.
import t from 'tap'
import net from 'node:net'
import { Redis } from 'ioredis'
import { testApp, uniquePrefix, REDIS_URL } from '../helpers.js'
import { ReportBuilder } from '../../src/core/report.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('SSE clients that disconnect at once leak no stream or subscription', async (t) => {
  const prefix = uniquePrefix()
  const app = await testApp({ REDIS_URL, REDIS_PREFIX: prefix })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as net.AddressInfo).port
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.quit())

  for (let i = 0; i < 50 && !app.mx.store.isReady(); i++) await sleep(50)
  // A check that is still running: its stream stays open until 'done'.
  const b = new ReportBuilder('dns', '127.0.0.1', 'en')
  await app.mx.store.saveReport(b.report, 600)
  const id = b.report.id

  const abrupt = (delayMs: number) => new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`GET /api/v1/checks/${id}/events HTTP/1.1\r\nhost: x\r\n\r\n`)
      setTimeout(() => { s.destroy(); resolve() }, delayMs)
    })
    s.on('error', () => resolve())
  })
  for (let i = 0; i < 30; i++) await abrupt(i % 3)
  await Promise.all(Array.from({ length: 30 }, (_, i) => abrupt(i % 5)))
  // Closing and unsubscribing take a few round trips; a loaded machine gets five seconds.
  const open = async () => (await app.mx.metrics.sseStreams.get()).values[0]?.value ?? 0
  const subscribers = async () => Number((await redis.pubsub('NUMSUB', `${prefix}ev:${id}`) as [string, number])[1])
  const settle = async () => { for (let i = 0; i < 100 && (await open() > 0 || await subscribers() > 0); i++) await sleep(50) }
  // Twice: a zero may be passing while a late handler's subscribe is still in flight.
  await settle()
  await sleep(500)
  await settle()
  t.equal(await open(), 0, 'every stream was closed')
  t.equal(await subscribers(), 0, 'no Redis subscription is left for the report')
})
