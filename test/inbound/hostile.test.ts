// The send test under the red team's hostile mails (issue 22), through the
// real listener: a scripted client sends each attack, a real sender (swaks)
// sends an ordinary test mail meanwhile. What must hold: the message is read
// in a worker, so a timer on the main thread keeps firing and /healthz keeps
// answering; at most a few signatures are verified (From's domain first),
// with the DNS lookups that go with them; nothing a library prints reaches
// stdout; a job past its budget is terminated and the report says what was
// known; reports stay small.
import t from 'tap'
import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { dkimSign } from 'mailauth/lib/dkim/sign.js'
import { startDns, publishMx, type Zone } from '../fixtures/dns.js'
import { testApp, randomLoopback, reportModelErrors, requireTool, waitReportDone } from '../helpers.js'
import { talk } from '../fixtures/smtp-talk.js'
import { hListBomb, lBomb, signatureFlood } from '../fixtures/hostile-mail.js'
import type { FastifyInstance } from 'fastify'
import type { Report } from '../../src/core/report.js'

const home = randomLoopback()
const { publicKey, privateKey } = generateKeyPairSync('ed25519')
const rawKey = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('base64')
const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string

function zone (): Zone {
  const z: Zone = {}
  publishMx(z, 'home.test', home)
  z['home.test'].TXT = [`v=spf1 ip4:${home} -all`]
  z['evil.test'] = { TXT: [`v=spf1 ip4:${home} -all`] }
  z['good._domainkey.evil.test'] = { TXT: [`v=DKIM1; k=ed25519; p=${rawKey}`] }
  z['slow._domainkey.evil.test'] = { silent: true }
  z['_dmarc.evil.test'] = { TXT: ['v=DMARC1; p=none'] }
  return z
}

const waitDone = (app: FastifyInstance, id: string): Promise<Report> => waitReportDone(app, id, 30_000, 50)

async function start (app: FastifyInstance, lang = 'en'): Promise<{ id: string, address: string }> {
  const res = await app.inject({ method: 'POST', url: `/api/v1/checks/send?lang=${lang}`, payload: { domain: 'home.test' }, remoteAddress: home })
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
  const r = res.json() as Report
  return { id: r.id, address: String(r.address) }
}

async function send (app: FastifyInstance, address: string, message: string, from = 'm@evil.test'): Promise<string> {
  const s = await talk(app.mx.inbound!.host, app.mx.inbound!.port, home)
  await s.cmd('EHLO mx.home.test')
  await s.cmd(`MAIL FROM:<${from}>`)
  const rcpt = await s.cmd(`RCPT TO:<${address}>`)
  if (!rcpt.startsWith('250')) throw new Error(`RCPT: ${rcpt}`)
  await s.cmd('DATA')
  const reply = await s.data(message)
  await s.cmd('QUIT')
  return reply
}

/** An ordinary mail from a real sender (swaks), as a home server would send it. */
function swaks (app: FastifyInstance, address: string): Promise<{ code: number | null, out: string }> {
  return new Promise((resolve) => {
    execFile('swaks', ['--server', app.mx.inbound!.host, '--port', String(app.mx.inbound!.port), '--local-interface', home, '--helo', 'mx.home.test',
      '--from', 'taro@home.test', '--to', address, '--header', 'Subject: ordinary test', '--body', 'hello from a real sender', '--timeout', '30'],
    { timeout: 40_000 }, (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, out: stdout + stderr }))
  })
}

const size = (x: unknown): number => Buffer.byteLength(JSON.stringify(x))

t.test('an h= list bomb: the main thread keeps running, a real sender gets through', async (t) => {
  if (!requireTool(t, 'swaks')) return
  const dns = await startDns(zone())
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600', SEND_ADDRESSES_PER_CALLER: '10' })
  t.teardown(() => app.close())
  const hostile = await start(app)
  const legit = await start(app)
  const done0 = app.mx.send.pool.completed

  // A timer on the main thread: before, one such mail held the event loop for 16 s.
  let last = Date.now()
  let worstGap = 0
  let ticks = 0
  const timer = setInterval(() => { const now = Date.now(); worstGap = Math.max(worstGap, now - last); last = now; ticks++ }, 10)
  t.teardown(() => clearInterval(timer))
  const bomb = hListBomb(hostile.address)
  t.ok(bomb.length > 500_000, `the bomb is ${Math.round(bomb.length / 1024)} KiB: 50,000 names over 50,000 fields`)
  const [reply, real] = await Promise.all([send(app, hostile.address, bomb), swaks(app, legit.address)])
  t.match(reply, /^250 /, 'the hostile mail is accepted')
  const healthz = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(healthz.statusCode, 200, '/healthz answers while it is analysed')
  const [h, l] = await Promise.all([waitDone(app, hostile.id), waitDone(app, legit.id)])
  clearInterval(timer)
  t.ok(ticks > 0 && worstGap < 2000, `the main-thread timer kept firing (${ticks} ticks, worst gap ${worstGap} ms)`)
  t.ok(app.mx.send.pool.completed >= done0 + 2, 'both messages were read in the analysis workers')

  t.equal(real.code, 0, `swaks delivered: ${real.out.split('\n').filter((x) => /^<~? *250|^ ?<\*\*/.test(x)).join(' ')}`)
  t.not(l.status, 'error', 'the real sender\'s test completes')
  t.match((l.inbound as any).spf, { result: 'pass' })

  t.same(reportModelErrors(h), [])
  const hi = h.inbound as any
  t.match(hi.analysis, { stopped: false, bounds: { signatures: 1, checked: 0, headerTruncated: true } }, 'the over-long signature was not verified; the header block was cut')
  t.match(h.steps.find((s) => s.name === 'send-dkim')?.detail, /none of the 1 signatures was checked/)
  t.match(h.steps.find((s) => s.name === 'send-headers')?.detail, /only its first 64 KiB were analysed/)
  t.equal(hi.analysis.lookups.dkim, 0, 'no key was looked up')
  t.ok(size(h) < 300 * 1024, `the report is ${Math.round(size(h) / 1024)} KiB`)
})

t.test('1500 signatures: five verified, the From domain\'s first; few lookups; a small report', async (t) => {
  const dns = await startDns(zone())
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600', INBOUND_MAX_MESSAGE_BYTES: String(4 * 1024 * 1024) })
  t.teardown(() => app.close())
  const r = await start(app, 'ja')
  const { junk, message } = signatureFlood(r.address, 1500)
  const real = (await dkimSign(message, { signatureData: [{ signingDomain: 'evil.test', selector: 'good', privateKey: pem, algorithm: 'ed25519-sha256' }] })).signatures
  dns.queries.length = 0
  t.match(await send(app, r.address, junk + real + message), /^250 /)
  const done = await waitDone(app, r.id)
  const inbound = done.inbound as any
  const keyLookups = dns.queries.filter((q) => q.name.includes('._domainkey.'))
  t.ok(keyLookups.length <= 5, `${keyLookups.length} key lookups (before: 1500)`)
  t.ok(dns.queries.length <= 30, `${dns.queries.length} DNS queries for the whole mail`)
  t.match(inbound.dkim.find((d: any) => d.selector === 'good'), { result: 'pass', domain: 'evil.test' }, 'the real signature, last in the header, was verified')
  t.equal(inbound.dkim.length, 5, 'five signatures verified')
  t.match(inbound.analysis.bounds, { signatures: 1501, checked: 5 })
  t.match(done.steps.find((s) => s.name === 'send-dkim')?.detail, /ほか 1496 個の署名は確認していません/, 'the rest is said to be unchecked')
  t.ok(done.advice.filter((a) => a.code === 'send.dkim_fail').length <= 2, 'one advice paragraph per cause, not per signature')
  t.ok(done.advice.length <= 15, `${done.advice.length} advice entries (before: 1505)`)
  const events = await app.mx.store.getEvents(r.id, 0)
  t.ok(size(done) < 300 * 1024, `report ${Math.round(size(done) / 1024)} KiB (before: 1.87 MB)`)
  t.ok(size(events) < 300 * 1024, `events ${Math.round(size(events) / 1024)} KiB (before: 4.25 MB)`)
})

t.test('600 l= signatures: bounded work, nothing printed to stdout', async (t) => {
  const dns = await startDns(zone())
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600' })
  t.teardown(() => app.close())
  const r = await start(app)
  const printed: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (/TOTAL|EXPECTING/.test(String(chunk))) { printed.push(String(chunk)); return true }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
  }) as typeof process.stdout.write
  t.teardown(() => { process.stdout.write = write })
  t.match(await send(app, r.address, lBomb(r.address, 600)), /^250 /)
  const done = await waitDone(app, r.id)
  await new Promise((resolve) => setTimeout(resolve, 200))
  process.stdout.write = write
  t.same(printed, [], 'no "TOTAL … EXPECTING …" line reached stdout')
  t.match((done.inbound as any).analysis.bounds, { signatures: 600, checked: 5 })
  t.ok(size(done) < 300 * 1024, `report ${Math.round(size(done) / 1024)} KiB (before: 970 KiB)`)
})

t.test('past its budget the analysis is terminated; the report says so and keeps what was known', async (t) => {
  const dns = await startDns(zone())
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, DNS_TIMEOUT_MS: '5000', INBOUND_LISTEN: `${randomLoopback()}:0`, INBOUND_DOMAIN: 'send.test', DNSBL_ZONES: '', SEND_WAIT_SECONDS: '600', INBOUND_ANALYSIS_MS: '2000', INBOUND_ANALYSIS_THREADS: '1' })
  t.teardown(() => app.close())
  const msg = `From: m@evil.test\r\nTo: x@send.test\r\nSubject: slow key\r\nDate: ${new Date().toUTCString()}\r\n\r\nhello\r\n`
  // The key's name never answers: the worker waits on it past the budget.
  const slow = (await dkimSign(msg, { signatureData: [{ signingDomain: 'evil.test', selector: 'slow', privateKey: pem, algorithm: 'ed25519-sha256' }] })).signatures + msg
  for (const lang of ['en', 'ja']) {
    const r = await start(app, lang)
    t.match(await send(app, r.address, slow), /^250 /)
    const done = await waitDone(app, r.id)
    const inbound = done.inbound as any
    t.equal(inbound.analysis.stopped, true, `${lang}: stopped`)
    const step = done.steps.find((s) => s.name === 'send-analysis')
    t.match(step, { status: 'warn' })
    t.match(step?.detail, lang === 'en' ? /too complex to analyse in 2 s/ : /複雑すぎて 2 秒以内に解析できなかった/, `${lang}: said in words`)
    t.match(inbound, { connectingIp: home, ptr: 'mx.home.test', helo: 'mx.home.test', spf: { result: 'pass', domain: 'evil.test' } }, `${lang}: what was known stays`)
    t.ok(done.advice.some((a) => a.code === 'send.analysis_stopped'))
    t.same(reportModelErrors(done), [])
  }
  t.equal(app.mx.send.pool.stopped, 2, 'both jobs were stopped at their budget')
  // The pool goes on with a fresh thread.
  const r = await start(app)
  const good = (await dkimSign(msg, { signatureData: [{ signingDomain: 'evil.test', selector: 'good', privateKey: pem, algorithm: 'ed25519-sha256' }] })).signatures + msg
  t.match(await send(app, r.address, good), /^250 /)
  const done = await waitDone(app, r.id)
  t.match((done.inbound as any).dkim, [{ result: 'pass', selector: 'good' }], 'the next mail is analysed')
})
