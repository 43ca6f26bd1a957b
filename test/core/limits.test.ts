// Rate limits and concurrency caps live in Redis, so several instances
// share them. Real Redis, two app instances, one key prefix.
import t from 'tap'
import { testApp, uniquePrefix, REDIS_URL } from '../helpers.js'
import { startDns } from '../fixtures/dns.js'
import { RedisStore } from '../../src/store/redis.js'

t.test('per-IP limit shared by two instances, with Retry-After', async (t) => {
  const dns = await startDns({ 'home.example': { A: ['127.0.0.5'] }, 'other.example': { A: ['127.0.0.5'] } })
  t.teardown(() => dns.close())
  const env = { REDIS_URL, REDIS_PREFIX: uniquePrefix(), DNS_SERVERS: dns.server, RATE_LIMITS: 'dns=3/60', DOMAIN_RATE_LIMITS: 'dns=100/60' }
  const a = await testApp(env)
  const b = await testApp(env)
  t.teardown(async () => { await a.close(); await b.close() })
  const post = (app: typeof a, ip: string, domain = 'home.example') => app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain }, remoteAddress: ip })
  t.equal((await post(a, '127.0.0.5')).statusCode, 200)
  t.equal((await post(b, '127.0.0.5')).statusCode, 200)
  t.equal((await post(a, '127.0.0.5', 'other.example')).statusCode, 200)
  const over = await post(b, '127.0.0.5')
  t.equal(over.statusCode, 429, 'the fourth request, on the other instance, is over the limit')
  t.equal(over.json().error, 'rate_limited')
  const ra = Number(over.headers['retry-after'])
  t.ok(ra >= 1 && ra <= 60, `Retry-After ${ra}`)
  t.equal((await post(a, '127.0.0.6')).statusCode, 200, 'another caller is not affected')
  const ip = await a.inject({ url: '/api/v1/ip', remoteAddress: '127.0.0.5' })
  t.equal(ip.statusCode, 200, 'GET /api/v1/ip is not a check')
})

t.test('IPv6 callers are limited per /64', async (t) => {
  const dns = await startDns({ 'home.example': { A: ['127.0.0.5'] } })
  t.teardown(() => dns.close())
  const app = await testApp({ REDIS_URL, DNS_SERVERS: dns.server, RATE_LIMITS: 'dns=2/60' })
  t.teardown(() => app.close())
  const post = (ip: string) => app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain: 'home.example' }, remoteAddress: ip })
  t.equal((await post('2001:db8:1:2::1')).statusCode, 200)
  t.equal((await post('2001:db8:1:2::ffff')).statusCode, 200)
  t.equal((await post('2001:db8:1:2:abcd::1')).statusCode, 429, 'same /64')
  t.equal((await post('2001:db8:1:3::1')).statusCode, 200, 'another /64')
})

t.test('per-domain limit across callers', async (t) => {
  const dns = await startDns({ 'home.example': { A: ['127.0.0.5'] } })
  t.teardown(() => dns.close())
  const app = await testApp({ REDIS_URL, DNS_SERVERS: dns.server, DOMAIN_RATE_LIMITS: 'dns=2/60' })
  t.teardown(() => app.close())
  const post = (ip: string, domain = 'home.example') => app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain }, remoteAddress: ip })
  t.equal((await post('127.0.0.7')).statusCode, 200)
  t.equal((await post('127.0.0.8')).statusCode, 200)
  const r = await post('127.0.0.9', 'HOME.example.')
  t.equal(r.statusCode, 429, 'case and trailing dot do not make a new domain')
  t.ok(Number(r.headers['retry-after']) >= 1)
})

t.test('concurrency slots are shared through Redis and expire', async (t) => {
  const prefix = uniquePrefix()
  const s1 = new RedisStore(REDIS_URL, prefix)
  const s2 = new RedisStore(REDIS_URL, prefix)
  t.teardown(async () => { await s1.close(); await s2.close() })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.ok(await s1.acquireSlot('caller:x', 'a', 2, 10_000))
  t.ok(await s2.acquireSlot('caller:x', 'b', 2, 10_000))
  t.notOk(await s1.acquireSlot('caller:x', 'c', 2, 10_000), 'full across instances')
  await s2.releaseSlot('caller:x', 'a')
  t.ok(await s1.acquireSlot('caller:x', 'c', 2, 10_000), 'released by the other instance')
  t.ok(await s1.acquireSlot('caller:y', 'short', 1, 150))
  t.notOk(await s1.acquireSlot('caller:y', 'next', 1, 150))
  await new Promise((resolve) => setTimeout(resolve, 250))
  t.ok(await s2.acquireSlot('caller:y', 'next', 1, 150), 'a crashed holder\'s slot frees itself')
})
