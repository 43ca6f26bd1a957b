// The core Report model: the verdict comes from the steps, check data is
// typed and named, and the API schema is the model's own (a built report
// validates against it); the one mapping from typed errors to HTTP answers.
import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { ReportBuilder, ReportSchema, verdictOf, worst, type ReportEvent } from '../../src/core/report.js'
import { BadInputError, RateLimitedError, RefusalError, StoreDownError, httpAnswer } from '../../src/errors.js'
import { TooBusyError } from '../../src/checks/runner.js'
import { startDns, reverseName } from '../fixtures/dns.js'
import { testApp, randomLoopback } from '../helpers.js'

t.test('the verdict is the worst step status; info and skip count for nothing', async (t) => {
  t.equal(verdictOf([]), 'pass')
  const b = new ReportBuilder('ports', '127.0.0.5', 'en')
  b.step('connect', 'pass', 'ok')
  b.step('note', 'info', 'fyi')
  b.step('skipped', 'skip', 'not run')
  t.equal(b.verdict(), 'pass')
  b.step('banner', 'warn', 'slow')
  t.equal(b.verdict(), 'warn')
  b.step('tls', 'fail', 'none')
  const r = b.finish('from the steps')
  t.equal(r.status, 'fail', 'finish(summary) takes the steps\' verdict')
  t.equal(r.summary, 'from the steps')
  t.type(r.durationMs, 'number')
  t.equal(worst('pass', 'error', 'warn'), 'error')
})

t.test('an explicit status is still accepted, and events carry the report', async (t) => {
  const events: ReportEvent[] = []
  const b = new ReportBuilder('dns', '127.0.0.5', 'ja', (ev) => events.push(ev))
  b.target({ domain: 'home.example' })
  b.line('C', 'EHLO x')
  b.advise('net.refused', { ip: '127.0.0.5', port: 25 })
  b.finish('error', 'mxprobe trouble')
  t.same(events.map((e) => e.type), ['target', 'transcript', 'advice', 'done'])
  t.equal(b.report.status, 'error')
})

t.test('check data is named and typed; a built report is valid by the API schema', async (t) => {
  const b = new ReportBuilder('ports', '127.0.0.5', 'en')
  b.set('ports', [{ port: 25, state: 'open', banner: '220 hi', ms: 3 }])
  b.set('cached', false)
  t.throws(() => (b.set as (k: string, v: unknown) => void)('id', 'x'), /unknown report field/)
  t.throws(() => (b.set as (k: string, v: unknown) => void)('whatever', 1), /unknown report field/)
  const r = b.finish('pass', 'ok')
  t.ok(Value.Check(ReportSchema, JSON.parse(JSON.stringify(r))), [...Value.Errors(ReportSchema, r)].map((e) => `${e.path} ${e.message}`).join('; '))
  const bad = { ...JSON.parse(JSON.stringify(r)), ports: [{ port: 25, state: 'maybe', ms: 1 }] }
  t.notOk(Value.Check(ReportSchema, bad), 'a port state outside the model is not a report')
  t.ok(Value.Check(ReportSchema, { ...JSON.parse(JSON.stringify(r)), somethingNew: 1 }), 'new fields extend, never break')
})

t.test('httpAnswer: one mapping of the typed errors', async (t) => {
  const limited = httpAnswer(new RateLimitedError('slow down', 0))
  t.same([limited.status, limited.headers['retry-after'], limited.body.error], [429, '1', 'rate_limited'])
  const busy = httpAnswer(new TooBusyError('busy', 30))
  t.same([busy.status, busy.headers['retry-after'], busy.body.error], [429, '30', 'too_many_concurrent'])
  const handMade = Object.assign(new Error('legacy'), { statusCode: 429, retryAfter: 7 })
  t.same([httpAnswer(handMade).status, httpAnswer(handMade).headers['retry-after']], [429, '7'])
  const refused = httpAnswer(new RefusalError('ip_mismatch', 'not yours', '127.0.0.9', { mx: [] }))
  t.same([refused.status, refused.body.error, refused.body.callerIp], [403, 'ip_mismatch', '127.0.0.9'])
  t.same(httpAnswer(new StoreDownError()).status, 503)
  t.same(httpAnswer(new BadInputError('bad domain')).body, { error: 'bad_input', message: 'bad domain' })
  t.same(httpAnswer(Object.assign(new Error('body/domain must be string'), { statusCode: 400, validation: [], validationContext: 'body' })).body.message, 'body/domain must be string')
  t.same(httpAnswer(Object.assign(new Error('big'), { statusCode: 413 })).body.error, 'too_large')
  t.same(httpAnswer(Object.assign(new Error('nope'), { statusCode: 405, code: 'FST_ERR_X' })).body.error, 'bad_request')
  const internal = httpAnswer(new Error('secret detail'))
  t.same([internal.status, internal.body.message], [500, 'internal error'], 'internals never leak')
})

t.test('the form route starts checks through the API\'s submitter: same validation, same budget', async (t) => {
  const home = randomLoopback()
  const dns = await startDns({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: [home] },
    [reverseName(home)]: { PTR: ['mx.home.example'] }
  })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, RATE_LIMITS: 'dns=2/600' })
  t.teardown(() => app.close())
  const form = (body: string) => app.inject({ method: 'POST', url: '/check/dns?lang=en', payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: home })

  const empty = await form('domain=')
  t.equal(empty.statusCode, 400, 'validated by the API route\'s own schema')
  t.match(empty.headers['content-type'], /text\/html/)

  const viaForm = await form('domain=home.example')
  t.equal(viaForm.statusCode, 303, viaForm.body)
  const id = String(viaForm.headers.location).match(/^\/r\/([A-Za-z0-9_-]{16})\?lang=en$/)?.[1]
  t.ok(id, 'redirected to the report page')
  const api = await app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain: 'home.example' }, remoteAddress: home })
  t.equal(api.statusCode, 200, 'the API spends the second of the two')
  const third = await form('domain=home.example')
  t.equal(third.statusCode, 429, 'one budget for the form and the API')
  t.ok(Number(third.headers['retry-after']) > 0)
  t.match(third.headers['content-type'], /text\/html/)
})
