// The receive test's events reach Redis in batches: a transcript of a few
// dozen lines costs a handful of writes, not one Redis transaction per line,
// and the stored stream is still complete and in order. Real Redis; the
// store is the real RedisStore, subclassed only to count its writes.
import t from 'tap'
import { startDns, publishMx } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { testApp, randomLoopback, REDIS_URL, uniquePrefix } from '../helpers.js'
import { RedisStore } from '../../src/store/redis.js'
import { MemoryStore } from '../../src/store/memory.js'
import type { ReportEvent } from '../../src/core/report.js'

class CountingStore extends RedisStore {
  writes = 0
  events = 0
  override async appendEvent (id: string, ev: ReportEvent, ttl: number): Promise<void> {
    this.writes++
    this.events++
    await super.appendEvent(id, ev, ttl)
  }

  override async appendEvents (id: string, evs: ReportEvent[], ttl: number): Promise<void> {
    this.writes++
    this.events += evs.length
    await super.appendEvents(id, evs, ttl)
  }
}

t.test('events are written in batches, complete and in order', async (t) => {
  const dns = await startDns({})
  t.teardown(() => dns.close())
  const home = randomLoopback()
  const srv = await startSmtp({ ip: home, starttls: true, users: ['taro'], name: 'mx.batch.test' })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'batch.test', home)
  const store = new CountingStore(REDIS_URL, uniquePrefix())
  t.teardown(() => store.close())
  t.ok(await store.waitReady(3000), 'redis is up')
  const app = await testApp({ DNS_SERVERS: dns.server }, store)
  t.teardown(() => app.close())

  const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/receive', payload: { address: 'taro@batch.test' }, remoteAddress: home })).json()
  t.equal(r.status, 'pass', r.summary)
  t.equal(srv.delivered.length, 1)
  const stored = await store.getEvents(r.id, 0)
  t.equal(stored.length, store.events, 'every event emitted was stored')
  t.same(stored.map((e) => e.seq), stored.map((_e, i) => i + 1), 'seq 1, 2, 3 … without a gap, in order')
  t.equal(stored.at(-1)?.type, 'done')
  t.same(stored.filter((e) => e.type === 'transcript').map((e) => (e.data as { text: string }).text), r.transcript.map((l: { text: string }) => l.text), 'the stream carries the whole transcript')
  t.ok(stored.length >= 40, `${stored.length} events`)
  t.ok(store.writes * 4 <= stored.length, `${store.writes} writes for ${stored.length} events`)
})

t.test('a store without appendEvents still gets every event, in order', async (t) => {
  const dns = await startDns({})
  t.teardown(() => dns.close())
  const home = randomLoopback()
  const srv = await startSmtp({ ip: home, users: ['taro'], name: 'mx.plain.test' })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'plain.test', home)
  // an older store: appendEvent only
  const store = new MemoryStore()
  Object.defineProperty(store, 'appendEvents', { value: undefined })
  let single = 0
  const one = store.appendEvent.bind(store)
  store.appendEvent = async (id, ev, ttl) => { single++; await one(id, ev, ttl) }
  t.teardown(() => store.close())
  const app = await testApp({ DNS_SERVERS: dns.server }, store)
  t.teardown(() => app.close())
  const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/receive', payload: { address: 'taro@plain.test' }, remoteAddress: home })).json()
  t.equal(r.status, 'pass', r.summary)
  const stored = await store.getEvents(r.id, 0)
  t.equal(single, stored.length, 'one appendEvent per event')
  t.same(stored.map((e) => e.seq), stored.map((_e, i) => i + 1))
  t.equal(stored.at(-1)?.type, 'done')
})
