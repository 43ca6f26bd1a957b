// Caller IP: the TCP peer, or X-Forwarded-For only from TRUST_PROXY.
import t from 'tap'
import { testApp } from '../helpers.js'
import { startDns, reverseName } from '../fixtures/dns.js'

/** The answer beside its proof (test/api/proofs.test.ts tests that). */
function withoutProof (j: Record<string, unknown>): Record<string, unknown> {
  const { proof, ...rest } = j
  return typeof proof === 'string' || proof === undefined ? rest : j
}

t.test('without TRUST_PROXY the header is ignored', async (t) => {
  const app = await testApp({})
  t.teardown(() => app.close())
  const r = await app.inject({ url: '/api/v1/ip', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' } })
  t.equal(r.statusCode, 200)
  t.equal(r.json().ip, '127.0.0.1')
  t.equal(r.json().family, 4)
})

t.test('with TRUST_PROXY the proxy\'s header is believed, rightmost untrusted entry', async (t) => {
  const dns = await startDns({ [reverseName('203.0.113.5')]: { PTR: ['home.example.net'] } })
  t.teardown(() => dns.close())
  const app = await testApp({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8', DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  const one = await app.inject({ url: '/api/v1/ip', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5' } })
  t.same(withoutProof(one.json()), { ip: '203.0.113.5', family: 4, ptr: 'home.example.net' })
  const spoofed = await app.inject({ url: '/api/v1/ip', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' } })
  t.equal(spoofed.json().ip, '203.0.113.5', 'a client-supplied entry left of the proxy\'s is not believed')
  const chain = await app.inject({ url: '/api/v1/ip', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.5, 10.1.2.3' } })
  t.equal(chain.json().ip, '203.0.113.5', 'trusted hops are skipped')
  const untrusted = await app.inject({ url: '/api/v1/ip', remoteAddress: '127.0.0.9', headers: { 'x-forwarded-for': '203.0.113.5' } })
  t.equal(untrusted.json().ip, '127.0.0.9', 'a spoofed header from an untrusted peer changes nothing')
  const v6 = await app.inject({ url: '/api/v1/ip', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '2001:DB8::1' } })
  t.same(withoutProof(v6.json()), { ip: '2001:db8::1', family: 6, ptr: null })
})

t.test('IPv4-mapped peers are IPv4', async (t) => {
  const app = await testApp({})
  t.teardown(() => app.close())
  const r = await app.inject({ url: '/api/v1/ip', remoteAddress: '::ffff:127.0.0.5' })
  t.same(withoutProof(r.json()), { ip: '127.0.0.5', family: 4, ptr: null })
})
