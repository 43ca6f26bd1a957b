// /healthz, /readyz and /metrics: each metric the operator is promised must
// actually move when the thing it counts happens.
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { testApp, randomLoopback, REDIS_URL } from '../helpers.js'
import { startScriptedServer, sseClient, freePort, startRedis, tmpDir } from './fixtures.js'

const home = randomLoopback()

function metric (text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = line.match(/^([a-z_]+)(\{([^}]*)\})? ([0-9.e+-]+|NaN)$/)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries((m[3] ?? '').split(',').filter(Boolean).map((kv) => { const [k, v] = kv.split('='); return [k, v.replace(/^"|"$/g, '')] }))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4])
  }
  return 0
}

t.test('metrics move', async (t) => {
  const dns = await startDns({ 'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] }, 'mx.home.example': { A: [home] } })
  t.teardown(() => dns.close())
  const smtp = await startScriptedServer(home, 25, { delayMs: 700 })
  t.teardown(() => smtp.close())
  const app = await testApp({ REDIS_URL, DNS_SERVERS: dns.server, RATE_LIMITS: 'dns=1/60' })
  t.teardown(() => app.close())
  const metrics = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body
  const m0 = await metrics()
  t.match(m0, /# TYPE mxprobe_checks_total counter/)

  t.equal((await app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: home, payload: { domain: 'home.example' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: home, payload: { domain: 'home.example' } })).statusCode, 429)

  // a ports check followed over a real HTTP SSE connection while it runs
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as any).port}`
  const started = await app.inject({ method: 'POST', url: '/api/v1/checks/ports?async=1', remoteAddress: home, payload: { ports: [25, 587] } })
  const id = started.json().id
  const sse = sseClient(`${base}/api/v1/checks/${id}/events`)
  // The stream is counted once its headers are out (the check waits 700 ms for the banner).
  for (let i = 0; i < 100 && sse.status === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  const during = await metrics()
  t.equal(metric(during, 'mxprobe_sse_streams'), 1, 'one open SSE stream')
  await sse.done
  await Promise.allSettled([...app.mx.runner.running])
  const after = await metrics()
  t.equal(metric(after, 'mxprobe_sse_streams'), 0, 'stream closed')
  t.equal(metric(after, 'mxprobe_checks_total', { type: 'dns', status: 'pass' }) + metric(after, 'mxprobe_checks_total', { type: 'dns', status: 'warn' }), 1, 'dns check counted by type and status')
  t.equal(metric(after, 'mxprobe_checks_total', { type: 'ports', status: 'pass' }), 1, 'ports check counted (port 25 open, 587 refused: pass)')
  t.equal(metric(after, 'mxprobe_check_duration_seconds_count', { type: 'ports' }), 1)
  t.ok(metric(after, 'mxprobe_check_duration_seconds_sum', { type: 'ports' }) >= 0.5, 'duration includes the slow banner')
  t.equal(metric(after, 'mxprobe_outbound_connections_total', { port: '25', outcome: 'connected' }), 1, 'port 25 connected')
  t.equal(metric(after, 'mxprobe_outbound_connections_total', { port: '587', outcome: 'refused' }), 1, 'port 587 refused')
  t.equal(metric(after, 'mxprobe_rate_limited_total'), 1, 'one rate-limit rejection')
  t.ok(metric(after, 'mxprobe_process_resident_memory_bytes') > 0, 'default process metrics')
})

t.test('healthz and readyz', async (t) => {
  const app = await testApp({ REDIS_URL, READY_MAX_EVENT_LOOP_DELAY_MS: '50', READY_WARMUP_MS: '0' })
  t.teardown(() => app.close())
  t.same((await app.inject('/healthz')).json(), { status: 'ok' })
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { status: 'ready', store: 'redis' })

  // Saturate the event loop for longer than a sampling interval: /readyz says so, other routes keep answering.
  const until = Date.now() + 1200
  while (Date.now() < until) { /* busy: what a CPU-bound instance looks like */ }
  await new Promise((resolve) => setTimeout(resolve, 20))
  const pressed = await app.inject('/readyz')
  t.equal(pressed.statusCode, 503, JSON.stringify(pressed.json()))
  t.equal(pressed.json().status, 'under_pressure')
  t.equal((await app.inject('/healthz')).statusCode, 200, 'liveness unaffected')
  t.equal((await app.inject({ url: '/api/v1/ip', remoteAddress: home })).statusCode, 200, 'other routes unaffected')
  // and it recovers by itself
  await new Promise((resolve) => setTimeout(resolve, 1200))
  t.equal((await app.inject('/readyz')).statusCode, 200)
})

t.test('readyz is 503 while Redis is down, and recovers', async (t) => {
  const port = await freePort()
  const dir = tmpDir('redis')
  let redis = await startRedis(port, dir)
  t.teardown(() => redis.stop())
  const app = await testApp({ REDIS_URL: `redis://127.0.0.1:${port}` })
  t.teardown(() => app.close())
  t.equal((await app.inject('/readyz')).statusCode, 200)
  await redis.stop()
  const t0 = Date.now()
  const down = await app.inject('/readyz')
  t.equal(down.statusCode, 503)
  t.equal(down.json().status, 'unavailable')
  // Redis's command timeout is 1 s and nothing waits for a reconnect; hanging would take tap's timeout
  t.ok(Date.now() - t0 < 5000, 'answers without waiting for Redis')
  t.equal((await app.inject('/healthz')).statusCode, 200)
  redis = await startRedis(port, dir)
  let ok = false
  for (let i = 0; i < 40 && !ok; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    ok = (await app.inject('/readyz')).statusCode === 200
  }
  t.ok(ok, 'ready again once Redis is back')
})
