// The send test's settings: defaults, and bad values stop start-up naming the variable.
import t from 'tap'
import { loadConfig, ConfigError, DEFAULT_DNSBL_ZONES } from '../../src/config.js'

t.test('defaults', async (t) => {
  const c = loadConfig({ HELO_NAME: 'probe.example.net' })
  t.equal(c.inbound.listen, null, 'off without INBOUND_LISTEN')
  t.equal(c.inbound.domain, 'example.net', 'INBOUND_DOMAIN defaults to the domain of HELO_NAME')
  t.equal(c.inbound.waitSeconds, 900)
  t.equal(c.inbound.maxMessageBytes, 1024 * 1024)
  t.same(c.inbound.dnsblZones, DEFAULT_DNSBL_ZONES)
  t.same(c.rateLimits.send, { max: 10, windowSeconds: 600 })
})

t.test('values', async (t) => {
  const c = loadConfig({ HELO_NAME: 'probe.example.net', INBOUND_LISTEN: '[::1]:2525', INBOUND_DOMAIN: 'Send.Example.ORG.', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '60', RATE_LIMITS: 'send=3/60' })
  t.same(c.inbound.listen, [{ host: '::1', port: 2525 }])
  t.same(loadConfig({ INBOUND_LISTEN: '0.0.0.0:25, [::]:25' }).inbound.listen, [{ host: '0.0.0.0', port: 25 }, { host: '::', port: 25 }], 'a comma list: one listener each')
  t.equal(c.inbound.maxConnectionsPerIp, 3, 'three connections per address (per /64) by default')
  t.equal(c.inbound.domain, 'send.example.org')
  t.same(c.inbound.dnsblZones, [], 'an empty DNSBL_ZONES looks nothing up')
  t.equal(c.inbound.waitSeconds, 60)
  t.same(c.rateLimits.send, { max: 3, windowSeconds: 60 })
})

t.test('bad values name the variable', async (t) => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ INBOUND_LISTEN: 'mail.example.org:25' }, /INBOUND_LISTEN/],
    [{ INBOUND_LISTEN: '127.0.0.1' }, /INBOUND_LISTEN/],
    [{ INBOUND_LISTEN: '127.0.0.1:99999' }, /INBOUND_LISTEN/],
    [{ INBOUND_LISTEN: '127.0.0.1:25,mail.example.org:25' }, /INBOUND_LISTEN/],
    [{ INBOUND_LISTEN: '127.0.0.1:25,127.0.0.1:25' }, /twice/],
    [{ INBOUND_DOMAIN: 'not a domain' }, /INBOUND_DOMAIN/],
    [{ INBOUND_TLS_CERT: '/tmp/cert.pem' }, /INBOUND_TLS_CERT and INBOUND_TLS_KEY/],
    [{ DNSBL_ZONES: 'zen.spamhaus.org,bad zone' }, /DNSBL_ZONES/],
    [{ SEND_WAIT_SECONDS: '0' }, /SEND_WAIT_SECONDS/],
    [{ INBOUND_MAX_MESSAGE_BYTES: '10' }, /INBOUND_MAX_MESSAGE_BYTES/]
  ]
  for (const [env, re] of bad) t.throws(() => loadConfig({ HELO_NAME: 'probe.example.net', ...env }), { constructor: ConfigError, message: re }, JSON.stringify(env))
})
