// Scale-out: two app instances on one Redis. A check started on instance A
// is followed live by an SSE client connected to instance B (Redis pub/sub
// plus the stored event list), over real HTTP.
import t from 'tap'
import { testApp, randomLoopback, REDIS_URL, uniquePrefix } from '../helpers.js'
import { startScriptedServer, sseClient } from './fixtures.js'

const home = randomLoopback()

t.test('SSE on B follows a check running on A', async (t) => {
  // The banner arrives after 1.5 s, so B subscribes while the check is still running on A.
  const smtp = await startScriptedServer(home, 25, { delayMs: 1500, banner: '220 slow.home.example ESMTP\r\n' })
  t.teardown(() => smtp.close())
  const prefix = uniquePrefix()
  const a = await testApp({ REDIS_URL, REDIS_PREFIX: prefix })
  const b = await testApp({ REDIS_URL, REDIS_PREFIX: prefix })
  t.teardown(async () => { await a.close(); await b.close() })
  await a.listen({ port: 0, host: '127.0.0.1' })
  await b.listen({ port: 0, host: '127.0.0.1' })
  const urlOf = (app: typeof a) => `http://127.0.0.1:${(app.server.address() as any).port}`

  // Started with inject so the caller IP is the home server's loopback address.
  const viaInject = await a.inject({ method: 'POST', url: '/api/v1/checks/ports?async=1', remoteAddress: home, payload: { ports: [25] } })
  t.equal(viaInject.statusCode, 202)
  const id = viaInject.json().id
  t.equal(a.mx.runner.running.size >= 1, true, 'running on A')
  t.equal(b.mx.runner.running.size, 0, 'nothing runs on B')

  const sse = sseClient(`${urlOf(b)}/api/v1/checks/${id}/events`)
  const events = await sse.done
  t.equal(sse.status, 200)
  t.match(sse.headers['content-type'], /text\/event-stream/)
  const types = events.map((e) => e.event)
  t.ok(types.includes('transcript'), 'transcript lines arrive on B')
  const banner = events.find((e) => e.event === 'transcript' && JSON.parse(e.data).text.includes('slow.home.example'))
  t.ok(banner, 'the banner received on A after B connected is streamed by B')
  t.equal(types.at(-1), 'done')
  const final = JSON.parse(events.at(-1)!.data)
  t.equal(final.id, id)
  t.not(final.status, 'running')
  const seqs = events.filter((e) => e.id).map((e) => Number(e.id))
  t.same(seqs, [...seqs].sort((x, y) => x - y), 'in order')
  t.equal(new Set(seqs).size, seqs.length, 'no duplicates')

  // A late follower on B replays the history from Redis and ends.
  const late = await sseClient(`${urlOf(b)}/api/v1/checks/${id}/events`).done
  t.equal(late.at(-1)!.event, 'done')
  t.ok(late.some((e) => e.event === 'transcript'))
  // Resuming with Last-Event-ID skips what was seen.
  const mid = seqs[Math.floor(seqs.length / 2)]
  const resumed = await sseClient(`${urlOf(b)}/api/v1/checks/${id}/events`, { headers: { 'last-event-id': String(mid) } }).done
  t.ok(resumed.filter((e) => e.id && Number(e.id) < 1e15).every((e) => Number(e.id) > mid), 'resumes after Last-Event-ID')

  // B serves the stored report too
  const stored = await fetch(`${urlOf(b)}/api/v1/checks/${id}`)
  t.equal((await stored.json()).id, id)
})

t.test('concurrency slots are shared: a caller at its cap on A is refused on B', async (t) => {
  const smtp = await startScriptedServer(home, 587, { delayMs: 1500 })
  t.teardown(() => smtp.close())
  const prefix = uniquePrefix()
  const env = { REDIS_URL, REDIS_PREFIX: prefix, CONCURRENCY_PER_CALLER: '1' }
  const a = await testApp(env)
  const b = await testApp(env)
  t.teardown(async () => { await a.close(); await b.close() })
  const r1 = await a.inject({ method: 'POST', url: '/api/v1/checks/ports?async=1', remoteAddress: home, payload: { ports: [587] } })
  t.equal(r1.statusCode, 202)
  const r2 = await b.inject({ method: 'POST', url: '/api/v1/checks/ports?async=1', remoteAddress: home, payload: { ports: [587] } })
  t.equal(r2.statusCode, 429)
  t.equal(r2.json().error, 'too_many_concurrent')
  await Promise.allSettled([...a.mx.runner.running])
  const r3 = await b.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: home, payload: { ports: [587] } })
  t.equal(r3.statusCode, 200, 'free again once A finished')
})
