// The core Report model: the verdict comes from the steps, check data is
// typed and named, and the API schema is the model's own (a built report
// validates against it); the one mapping from typed errors to HTTP answers.
import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { ReportBuilder, ReportSchema, verdictOf, worst, type ReportEvent, type StepStatus } from '../../src/core/report.js'
import { BadInputError, ProbeError, RateLimitedError, RefusalError, StoreDownError, httpAnswer } from '../../src/errors.js'
import type { CheckContext, CheckDefinition } from '../../src/checks/context.js'
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

t.test('a report\'s status is always the worst of its steps (error > fail > warn > pass; info, skip neutral)', async (t) => {
  // An order written independently of src/core/report.ts, and a seeded walk over step lists.
  const rank: Record<string, number> = { info: -1, skip: -1, pass: 0, warn: 1, fail: 2, error: 3 }
  const all: StepStatus[] = ['pass', 'warn', 'fail', 'error', 'info', 'skip']
  let seed = 15
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  for (let i = 0; i < 300; i++) {
    const events: ReportEvent[] = []
    const b = new ReportBuilder('smtp', '127.0.0.5', 'en', (ev) => events.push(ev))
    const statuses = Array.from({ length: next(7) }, () => all[next(all.length)])
    for (const [n, st] of statuses.entries()) b.step(`step ${n}`, st, st)
    const expected = statuses.reduce<string>((a, s) => (rank[s] > rank[a] ? s : a), 'pass')
    const r = b.finish('summary')
    if (r.status !== expected || r.status !== verdictOf(r.steps)) {
      t.fail(`steps ${statuses.join(',')} gave ${r.status}, expected ${expected}`)
      return
    }
    const done = events.at(-1)
    if (done?.type !== 'done' || done.data.status !== expected) {
      t.fail('the done event carries the verdict')
      return
    }
  }
  t.pass('300 step lists: the status is the worst step')
})

t.test('a check that stops on an exception ends with the step its verdict follows from', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const cases: Array<{ name: string, run: (ctx: CheckContext) => Promise<void>, status: string, last: string }> = [
    { name: 'the server refused (its failure)', run: async (ctx) => { ctx.report.step('banner', 'pass', 'ok'); throw new ProbeError('refused', 'connection refused', 25) }, status: 'fail', last: 'stopped' },
    { name: 'a recorded failure gets no second step', run: async (ctx) => { ctx.report.step('connect', 'fail', 'refused'); throw new ProbeError('refused', 'connection refused', 25) }, status: 'fail', last: 'connect' },
    { name: 'a probe failure of no known kind (mxprobe\'s trouble)', run: async (ctx) => { ctx.report.step('connect', 'fail', 'x'); throw new ProbeError('other', 'strange', 25) }, status: 'error', last: 'mxprobe' },
    { name: 'the store went down', run: async () => { throw new StoreDownError() }, status: 'error', last: 'mxprobe' },
    { name: 'a bug', run: async (ctx) => { ctx.report.step('banner', 'warn', 'slow'); throw new Error('boom') }, status: 'error', last: 'mxprobe' },
    { name: 'no verdict at all', run: async (ctx) => { ctx.report.step('banner', 'pass', 'ok') }, status: 'error', last: 'mxprobe' }
  ]
  for (const c of cases) {
    const def: CheckDefinition<unknown, null> = { type: 'dns', probes: false, prepare: async () => null, run: c.run }
    const started = await app.mx.runner.start(def, {}, '127.0.0.5', 'ja')
    const r = await started.done
    t.equal(r.status, c.status, c.name)
    t.equal(r.status, verdictOf(r.steps), `${c.name}: the status is the steps' verdict`)
    t.equal(r.steps.at(-1)?.name, c.last, `${c.name}: the last step says why`)
    t.notOk(/^(stopped|mxprobe)$/.test(r.steps.at(-1)?.title ?? ''), `${c.name}: the step has a title for people`)
  }
})

t.test('check data is named and typed; a built report is valid by the API schema', async (t) => {
  const b = new ReportBuilder('ports', '127.0.0.5', 'en')
  b.set('ports', [{ port: 25, state: 'open', banner: '220 hi', ms: 3 }])
  b.set('cached', false)
  t.throws(() => (b.set as (k: string, v: unknown) => void)('id', 'x'), /unknown report field/)
  t.throws(() => (b.set as (k: string, v: unknown) => void)('whatever', 1), /unknown report field/)
  const r = b.finish('ok')
  t.ok(Value.Check(ReportSchema, JSON.parse(JSON.stringify(r))), [...Value.Errors(ReportSchema, r)].map((e) => `${e.path} ${e.message}`).join('; '))
  const bad = { ...JSON.parse(JSON.stringify(r)), ports: [{ port: 25, state: 'maybe', ms: 1 }] }
  t.notOk(Value.Check(ReportSchema, bad), 'a port state outside the model is not a report')
  t.ok(Value.Check(ReportSchema, { ...JSON.parse(JSON.stringify(r)), somethingNew: 1 }), 'new fields extend, never break')
})

t.test('each check\'s data is typed, and the API answers it exactly as stored', async (t) => {
  const b = new ReportBuilder('send', '127.0.0.5', 'en')
  b.step('send-arrival', 'pass', 'arrived')
  b.set('dns', { domain: 'home.example', implicitMx: false, nullMx: false, mx: [{ host: 'mx.home.example', priority: 10, addresses: ['127.0.0.5'], ttl: 300, error: undefined }, { host: 'mx2.home.example', priority: 20, addresses: [], ttl: null, error: 'SERVFAIL' }] })
  b.set('smtp', { banner: '220 mx ESMTP', bannerName: null, esmtp: true, extensions: { SIZE: ['10240000'], PIPELINING: [] }, starttls: false, sizeLimit: null, pipelining: true, eightBitMime: false, smtpUtf8: false, postmasterAccepted: null, pipelinedProbe: true })
  b.set('relay', { outsideDomain: 'out.example', attempts: 20, tested: 18, untested: 2, retried: 1, nmapTests: 16, connections: 2, parallel: 2, roundTrips: 5, connectionTrips: [3, 2], drops: 0, errorBudget: 9, synprotBudget: 3, strict: false, pipelining: true, banner: null, stoppedEarly: null, tls: false, ms: 812.5 })
  b.set('pop3', { ports: [{ port: 110, reachable: true, greeting: '+OK', pop3: true, capabilities: null, stls: { offered: true, works: false, error: '-ERR no' }, quit: { clean: true } }, { port: 995, reachable: false, error: 'refused', errorKind: 'refused' }] })
  b.set('login', { tried: true, username: 'taro', ok: false, port: 110, method: 'USER', reply: '-ERR [AUTH] failed' })
  b.set('inbound', {
    address: 't-0123456789abcdef0123@send.example',
    connectingIp: '127.0.0.5',
    isCallerIp: true,
    isMxAddress: false,
    ptr: null,
    ptrNames: [],
    fcrdns: null,
    ptrGeneric: false,
    helo: 'mx.home.example',
    heloResolves: true,
    tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    mailFrom: '',
    spf: { result: 'none', domain: 'home.example' },
    spfHelo: null,
    dkim: [{ result: 'fail', domain: 'home.example', selector: null, reason: 'body hash' }],
    dmarc: { result: 'none', policy: null, domain: null },
    dnsbl: [{ zone: 'bl.example', listed: true, answer: '127.0.0.2', reason: null, dynamic: false }],
    headers: null,
    subject: null,
    size: 120,
    charset: { declared: false, charsets: [], undeclaredParts: 1 },
    excerpt: 'hi',
    receivedAt: new Date(0).toISOString(),
    lookupMs: 12,
    analysisMs: 3.5
  })
  b.set('reply', { sent: false, stage: 'smtp', reason: 'refused', reply: '450 later', ms: 40 })
  const r = JSON.parse(JSON.stringify(b.finish('arrived')))
  t.same([...Value.Errors(ReportSchema, r)].map((e) => `${e.path} ${e.message}`), [], 'the writers\' shapes are the model')
  const wrong: Array<[string, unknown]> = [
    ['dns', { domain: 'home.example', implicitMx: 'no', nullMx: false, mx: [] }],
    ['smtp', { ...r.smtp, banner: 220 }],
    ['relay', { ...r.relay, attempts: 'many' }],
    ['pop3', { ports: [{ port: 110 }] }],
    ['login', { ok: true }],
    ['inbound', { ...r.inbound, dkim: 'pass' }],
    ['reply', { sent: 'yes' }]
  ]
  for (const [field, bad] of wrong) t.notOk(Value.Check(ReportSchema, { ...r, [field]: bad }), `${field}: a wrong shape is not a report`)
  t.ok(Value.Check(ReportSchema, { ...r, smtp: { ...r.smtp, somethingNew: 1 } }), 'check data may grow')

  // The response schema is the model: what the API answers is what was stored, field for field.
  const app = await testApp()
  t.teardown(() => app.close())
  await app.mx.store.saveReport(r, 600)
  const res = await app.inject({ url: `/api/v1/checks/${r.id}` })
  t.equal(res.statusCode, 200)
  t.same(res.json(), r, 'serialized through the typed schema unchanged')
  t.strictSame(res.json().inbound.dkim, r.inbound.dkim)
})

t.test('httpAnswer: one mapping of the typed errors', async (t) => {
  const limited = httpAnswer(new RateLimitedError('slow down', 0))
  t.same([limited.status, limited.headers['retry-after'], limited.body.error], [429, '1', 'rate_limited'])
  const busy = httpAnswer(new TooBusyError('busy', 30))
  t.same([busy.status, busy.headers['retry-after'], busy.body.error], [429, '30', 'too_many_concurrent'])
  // over a rate limit: the limit travels with the error, its text is the answer's language
  const over = RateLimitedError.over({ kind: 'domain', max: 3, windowSeconds: 600 }, 7)
  t.same([httpAnswer(over).status, httpAnswer(over).headers['retry-after'], httpAnswer(over).body.error], [429, '7', 'rate_limited'])
  t.equal(httpAnswer(over, 'en').body.message, 'too many checks of this domain: at most 3 per 600 s; try again in 7 s')
  t.equal(httpAnswer(over, 'ja').body.message, 'このドメインへのテストが多すぎます (600 秒に 3 回まで)。7 秒後にもう一度お試しください。')
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
