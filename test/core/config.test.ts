import t from 'tap'
import { loadConfig, ConfigError } from '../../src/config.js'
import { testApp } from '../helpers.js'

t.test('defaults with no environment', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 3000)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.redisUrl, null)
  t.same(c.trustProxy, [])
  t.same(c.allowCidrs, [])
  t.equal(c.reportTtlSeconds, 7 * 24 * 3600)
  t.equal(c.rateLimits.receive.max, 10)
  t.equal(c.rateLimits.receive.windowSeconds, 600)
  t.equal(c.check.mailFrom, `mxprobe@${c.check.heloName}`)
  t.ok(c.check.checkDeadlineMs <= 45_000, 'any check stays under 45 s')
})

t.test('derived names', async (t) => {
  const c = loadConfig({ HELO_NAME: 'probe.mxprobe.example' })
  t.equal(c.check.mailFrom, 'mxprobe@probe.mxprobe.example')
  t.equal(c.check.relayProbeDomain, 'mxprobe.example')
  t.same(loadConfig({ DNS_SERVERS: '127.0.0.1:5353, [::1]:53, 192.0.2.53' }).dnsServers, ['127.0.0.1:5353', '[::1]:53', '192.0.2.53'])
  t.same(loadConfig({ RATE_LIMITS: 'receive=3/60' }).rateLimits.receive, { max: 3, windowSeconds: 60 })
})

t.test('bad values stop start-up with a message naming the variable', async (t) => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ TRUST_PROXY: 'proxy.example' }, /TRUST_PROXY/],
    [{ TARGET_ALLOW_CIDRS: '10.0.0.0/40' }, /TARGET_ALLOW_CIDRS/],
    [{ DNS_SERVERS: 'dns.example' }, /DNS_SERVERS/],
    [{ HELO_NAME: 'bad name\r\n' }, /HELO_NAME/],
    [{ MAIL_FROM: 'a b@c' }, /MAIL_FROM/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL/],
    [{ RATE_LIMITS: 'receive=ten' }, /RATE_LIMITS/],
    [{ RATE_LIMITS: 'bogus=1/1' }, /RATE_LIMITS/]
  ]
  for (const [env, msg] of bad) t.throws(() => loadConfig(env), { constructor: ConfigError, message: msg }, JSON.stringify(env))
})

t.test('OpenAPI description at /docs, generated from the route schemas', async (t) => {
  const app = await testApp({})
  t.teardown(() => app.close())
  const ui = await app.inject({ url: '/docs' })
  t.ok([200, 302].includes(ui.statusCode))
  const spec = await app.inject({ url: '/docs/json' })
  t.equal(spec.statusCode, 200)
  const doc = spec.json()
  t.ok(doc.openapi.startsWith('3.'))
  t.ok(doc.paths['/api/v1/ip'])
  t.ok(doc.paths['/api/v1/checks/dns'].post.requestBody)
})

t.test('5xx bodies leak no internals', async (t) => {
  const app = await testApp({})
  app.get('/test/crash', async () => { throw new Error('secret detail at /srv/x.js:12') })
  t.teardown(() => app.close())
  const r = await app.inject({ url: '/test/crash' })
  t.equal(r.statusCode, 500)
  t.same(r.json(), { error: 'internal', message: 'internal error' })
})

t.test('address proofs and the family origins', async (t) => {
  const d = loadConfig({})
  t.same(d.proof, { secret: null, ttlSeconds: 300 }, 'no PROOF_SECRET: a random key at start')
  t.same(d.check.origins, { 4: null, 6: null, public: null })
  t.equal(d.ipv6HomePrefix, 64)
  const c = loadConfig({ PROOF_SECRET: 'sixteen chars ok', PROOF_TTL_SECONDS: '120', IPV4_ORIGIN: 'https://V4.Example.net/', IPV6_ORIGIN: 'http://v6.example.net:8080', PUBLIC_ORIGIN: 'https://example.net', IPV6_HOME_PREFIX: '56' })
  t.same(c.proof, { secret: 'sixteen chars ok', ttlSeconds: 120 })
  t.same(c.check.origins, { 4: 'https://v4.example.net', 6: 'http://v6.example.net:8080', public: 'https://example.net' }, 'origins as a browser writes them in Origin')
  t.equal(c.ipv6HomePrefix, 56)
  for (const [env, msg] of [
    [{ PROOF_SECRET: 'short' }, /PROOF_SECRET must be at least 16 characters/],
    [{ PROOF_TTL_SECONDS: '5' }, /PROOF_TTL_SECONDS must be between 30 and 3600/],
    [{ IPV4_ORIGIN: 'v4.example.net' }, /IPV4_ORIGIN must be a URL/],
    [{ IPV6_ORIGIN: 'https://v6.example.net/app' }, /IPV6_ORIGIN must be an http\(s\) origin without path/],
    [{ PUBLIC_ORIGIN: 'ftp://example.net' }, /PUBLIC_ORIGIN must be an http\(s\) origin/],
    [{ IPV4_ORIGIN: 'https://user:pw@v4.example.net' }, /without path, query or credentials/],
    [{ IPV6_ORIGIN: 'https://[2001:db8::1]' }, /IPV6_ORIGIN must name its host .* not an IP literal/],
    [{ IPV6_HOME_PREFIX: '32' }, /IPV6_HOME_PREFIX must be between 48 and 128/]
  ] as const) t.throws(() => loadConfig(env), { constructor: ConfigError, message: msg }, JSON.stringify(env))
})
