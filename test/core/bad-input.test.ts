// Bad input is a 400 (or 413) that says what is wrong, and costs no DNS
// query and no socket.
import t from 'tap'
import { testApp, randomLoopback } from '../helpers.js'
import { startDns } from '../fixtures/dns.js'

t.test('bad input to a check', async (t) => {
  const dns = await startDns({ 'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] } })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  const caller = randomLoopback()
  const post = (payload: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: payload as string, remoteAddress: caller, headers })

  const cases: Array<[string, unknown, RegExp]> = [
    ['wrong type', { domain: 5 }, /string/],
    ['missing field', {}, /domain/],
    ['unknown field', { domain: 'home.example', extra: 1 }, /additional/],
    ['CR', { domain: 'home.example\r' }, /control character \(CR\)/],
    ['LF', { domain: 'home.example\nRCPT TO:<x>' }, /control character \(LF\)/],
    ['NUL', { domain: 'home\u0000.example' }, /NUL/],
    ['name over 253 octets', { domain: `${'a'.repeat(60)}.`.repeat(5) + 'example' }, /253/],
    ['label over 63', { domain: `${'a'.repeat(64)}.example` }, /63/],
    ['dotted short IP', { domain: '127.1' }, /not an IP address/],
    ['hex IP', { domain: '0x7f.1' }, /not an IP address/],
    ['decimal IP', { domain: '2130706433' }, /not an IP address/],
    ['IP literal', { domain: '127.0.0.1' }, /not an IP address/],
    ['domain literal', { domain: '[127.0.0.1]' }, /not an IP address/],
    ['IPv6 literal', { domain: '::1' }, /not an IP address/],
    ['single label', { domain: 'localhost' }, /two labels/],
    ['numeric TLD', { domain: 'example.123' }, /top-level/],
    ['underscore', { domain: 'ho_me.example' }, /letters, digits/],
    ['white space', { domain: 'home example.com' }, /./],
    ['empty', { domain: '' }, /./]
  ]
  for (const [name, payload, msg] of cases) {
    const r = await post(payload)
    t.equal(r.statusCode, 400, `${name}: 400`)
    t.equal(r.json().error, 'bad_input', `${name}: error code`)
    t.match(r.json().message, msg, `${name}: says what is wrong (${r.json().message})`)
  }
  const badJson = await post('{"domain": ', { 'content-type': 'application/json' })
  t.equal(badJson.statusCode, 400, 'malformed JSON')
  const big = await post(JSON.stringify({ domain: 'a'.repeat(64 * 1024) }), { 'content-type': 'application/json' })
  t.equal(big.statusCode, 413, 'body over the limit')
  t.equal(big.json().error, 'too_large')
  const wrongType = await post('domain', { 'content-type': 'text/plain' })
  t.equal(wrongType.statusCode, 400, 'a text body is not an object')

  t.equal(dns.queries.length, 0, 'no DNS query was made for any of them')
  t.equal(app.mx.connector.decisions.length, 0, 'no socket was asked for')

  const idn = await post({ domain: 'ドメイン.テスト' })
  t.equal(idn.statusCode, 200, 'IDN accepted')
  t.equal(idn.json().target.domain, 'xn--eckwd4c7c.xn--zckzah', 'IDN converted to A-labels')
})

t.test('unknown report ids and routes', async (t) => {
  const app = await testApp({})
  t.teardown(() => app.close())
  const r = await app.inject({ url: '/api/v1/checks/AAAAAAAAAAAAAAAA' })
  t.equal(r.statusCode, 404)
  t.equal(r.json().error, 'not_found')
  const bad = await app.inject({ url: '/api/v1/checks/..%2f..%2fetc' })
  t.equal(bad.statusCode, 400)
  const none = await app.inject({ url: '/api/v1/nothing' })
  t.equal(none.statusCode, 404)
})
