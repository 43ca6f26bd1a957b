// The per-domain limit counts the validated, normalised name for every check:
// " home.test", "ｈｏｍｅ.test" (full width) and "home。test" (ideographic
// full stop) are one domain and share one counter. A name with CR/LF is
// refused before any limiter runs and never becomes part of a Redis key.
import t from 'tap'
import { Redis } from 'ioredis'
import { testApp, uniquePrefix, randomLoopback, REDIS_URL } from '../helpers.js'
import { startDns } from '../fixtures/dns.js'

const home = randomLoopback()
const caller = randomLoopback()

t.test('respelled domains share one per-domain counter, for every check', async (t) => {
  const dns = await startDns({
    'home.test': { MX: [{ exchange: 'mx.home.test', priority: 10 }], A: [home] },
    'mx.home.test': { A: [home] }
  })
  t.teardown(() => dns.close())
  const prefix = uniquePrefix()
  const app = await testApp({
    REDIS_URL,
    REDIS_PREFIX: prefix,
    DNS_SERVERS: dns.server,
    RATE_LIMITS: 'dns=1000/600,relay=1000/600,roles=1000/600,pop3=1000/600,smtp=1000/600',
    DOMAIN_RATE_LIMITS: 'dns=3/600,relay=3/600,roles=3/600,pop3=3/600,smtp=3/600'
  })
  t.teardown(() => app.close())
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.quit())

  // The caller is not the domain's address: every check is refused (403) quickly, but counted.
  for (const type of ['dns', 'relay', 'roles', 'pop3', 'smtp']) {
    const codes: number[] = []
    for (const domain of [' home.test', 'ｈｏｍｅ.test', 'home。test', 'HOME.test.']) {
      const r = await app.inject({ method: 'POST', url: `/api/v1/checks/${type}`, payload: { domain }, remoteAddress: caller })
      codes.push(r.statusCode)
    }
    t.not(codes[0], 429, `${type}: the first spelling is let through (${codes.join(' ')})`)
    t.not(codes[2], 429, `${type}: the third spelling is still within the limit`)
    t.equal(codes[3], 429, `${type}: the fourth spelling of home.test is over the limit of 3 (${codes.join(' ')})`)
  }

  // Bad names: 400, and no key holds them.
  for (const domain of ['home.test\r\nFLUSHALL', 'home\n.test', 'x'.repeat(300) + '.test']) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/checks/relay', payload: { domain }, remoteAddress: caller })
    t.equal(r.statusCode, 400, JSON.stringify(domain).slice(0, 40))
  }
  const keys = await redis.keys(`${prefix}*`)
  t.ok(keys.includes(`${prefix}rl:domain:relay:home.test`), `the per-domain key is named and holds the normalised name: ${keys.join(', ')}`)
  t.ok(keys.includes(`${prefix}rl:ip:relay:${caller}`), 'the per-caller key is named by its limit and the caller')
  t.notOk(keys.some((k) => k.includes('undefined')), 'no key carries the name of a route a limiter does not have')
  t.notOk(keys.some((k) => /[\r\n ]|flushall|xxxxxxxx/i.test(k)), `no key holds an unvalidated name: ${keys.join(', ')}`)
})
