// When Redis is down, endpoints that need it answer 503 within a second and
// open no socket; GET /api/v1/ip keeps working; all recovers by itself.
import t from 'tap'
import { testApp, randomLoopback } from '../helpers.js'
import { startDns } from '../fixtures/dns.js'
import { startOwnRedis } from '../fixtures/redis.js'

t.test('Redis stops and comes back', async (t) => {
  const home = randomLoopback()
  const dns = await startDns({ 'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] }, 'mx.home.example': { A: [home] } })
  t.teardown(() => dns.close())
  const redis = await startOwnRedis()
  t.teardown(() => redis.stop())
  const app = await testApp({ REDIS_URL: redis.url, DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  await new Promise((resolve) => setTimeout(resolve, 200))
  const check = () => app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain: 'home.example' }, remoteAddress: home })

  const before = await check()
  t.equal(before.statusCode, 200)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)

  await redis.stop()
  const decisions = app.mx.connector.decisions.length
  const t0 = Date.now()
  const down = await check()
  const took = Date.now() - t0
  t.equal(down.statusCode, 503, 'fails closed')
  t.equal(down.json().error, 'store_unavailable')
  t.notMatch(down.body, /ECONNREFUSED|ioredis|stack/i, 'no internals leak')
  // no offline queue, no retries: the answer does not wait for Redis (which never comes back here)
  t.ok(took < 5000, `answered in ${took} ms, without waiting for Redis`)
  t.equal(app.mx.connector.decisions.length, decisions, 'no socket was asked for')
  const stored = await app.inject({ url: `/api/v1/checks/${before.json().id}` })
  t.equal(stored.statusCode, 503, 'reading reports needs the store too')
  const ip = await app.inject({ url: '/api/v1/ip', remoteAddress: home })
  t.equal(ip.statusCode, 200, '/api/v1/ip keeps working')
  t.equal(ip.json().ip, home)
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503)

  await redis.start()
  let after = await check()
  for (let i = 0; i < 50 && after.statusCode !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    after = await check()
  }
  t.equal(after.statusCode, 200, 'recovers by itself when Redis returns')
  t.equal(after.json().status, before.json().status, 'the same verdict as before')
})
