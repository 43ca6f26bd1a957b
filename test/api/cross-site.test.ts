// The check endpoints start probes: a page on another site must not be able
// to start one in a visitor's browser. A JSON body needs a CORS preflight
// (which mxprobe never grants), but an HTML form post to /api/v1/checks/*
// with application/x-www-form-urlencoded is a "simple" request that
// @fastify/formbody parses; it must be refused like the /check/:type form.
import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { testApp, randomLoopback } from '../helpers.js'

const home = randomLoopback()

t.test('cross-site posts to the probe API are refused before any socket', async (t) => {
  const dns = await startDns({ 'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] }, 'mx.home.example': { A: [home] } })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  const before = app.mx.connector.decisions.length

  const form = await app.inject({
    method: 'POST',
    url: '/api/v1/checks/dns',
    remoteAddress: home,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    payload: 'domain=home.example'
  })
  t.equal(form.statusCode, 403, 'a form post from another site')
  t.equal(form.json().error, 'cross_site')

  const old = await app.inject({
    method: 'POST',
    url: '/api/v1/checks/smtp',
    remoteAddress: home,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', host: 'mxprobe.example' },
    payload: 'domain=home.example'
  })
  t.equal(old.statusCode, 403, 'without fetch metadata, a foreign Origin is refused')
  t.equal(app.mx.connector.decisions.length, before, 'no socket was even considered')

  const same = await app.inject({
    method: 'POST',
    url: '/api/v1/checks/dns',
    remoteAddress: home,
    headers: { 'sec-fetch-site': 'same-origin', origin: 'http://mxprobe.example', host: 'mxprobe.example' },
    payload: { domain: 'home.example' }
  })
  t.equal(same.statusCode, 200, 'mxprobe\'s own pages (and the embed frame) still work')

  const program = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', remoteAddress: home, payload: { domain: 'home.example' } })
  t.equal(program.statusCode, 200, 'programs (no Origin) still work')
})
