import t from 'tap'
import { SmtpClient, commandLine, probePath, POSTMASTER } from '../../src/smtp/client.js'
import { parseMailbox } from '../../src/smtp/address.js'
import { ReplyParser, parseEhlo } from '../../src/smtp/reply.js'
import { ProbeError } from '../../src/errors.js'
import type { CheckContext } from '../../src/checks/context.js'
import { startHostile, type HostileScript } from '../fixtures/hostile.js'
import { startSmtp } from '../fixtures/smtp.js'
import { randomLoopback, probeContext } from '../helpers.js'

const context = (callerIp: string, deadlineMs = 6000): CheckContext => probeContext(callerIp, 'smtp', deadlineMs)

t.test('reply parser', async (t) => {
  const lines: string[] = []
  const p = new ReplyParser({}, (l) => lines.push(l))
  const r = p.push(Buffer.from('250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n550 5.1.1 <a@b>: User unknown\r\n'))
  t.equal(r.length, 2)
  t.equal(r[0].code, 250)
  t.same([...parseEhlo(r[0]).keys()], ['PIPELINING', 'SIZE', 'STARTTLS'])
  t.same(parseEhlo(r[0]).get('SIZE'), ['1000'])
  t.equal(r[1].enhanced, '5.1.1')
  t.equal(r[1].lines[0], '<a@b>: User unknown')
  t.equal(lines.length, 5, 'every line seen as it completes')

  const split = new ReplyParser()
  t.same(split.push(Buffer.from('22')), [])
  t.equal(split.buffered, 2)
  t.equal(split.push(Buffer.from('0 hi\n'))[0].code, 220, 'bare LF and split chunks')

  const long = new ReplyParser().push(Buffer.from('250 ' + 'a'.repeat(700) + '\r\n'))[0]
  t.ok(long.truncated)
  t.ok(long.raw[0].length < 560 && /cut at 512/.test(long.raw[0]))

  t.throws(() => new ReplyParser().push(Buffer.from('199 low\r\n')), { name: 'ProbeError', kind: 'protocol' })
  t.throws(() => new ReplyParser().push(Buffer.from('600 high\r\n')), { name: 'ProbeError', kind: 'protocol' })
  t.throws(() => new ReplyParser().push(Buffer.from('hello\r\n')), { name: 'ProbeError', kind: 'protocol' })
  t.throws(() => new ReplyParser().push(Buffer.from('250-a\r\n220 b\r\n')), { name: 'ProbeError', kind: 'protocol' })
  t.throws(() => new ReplyParser({ maxLinesPerReply: 5 }).push(Buffer.from('250-x\r\n'.repeat(6))), { name: 'ProbeError', kind: 'protocol' })
  t.throws(() => new ReplyParser().push(Buffer.alloc(100_000, 0x61)), { name: 'ProbeError', kind: 'line_too_long' })
  t.equal(new ReplyParser().push(Buffer.from('250 2.0.0\r\n'))[0].enhanced, '2.0.0')
  t.equal(new ReplyParser().push(Buffer.from('550 4.1.1 mismatch\r\n'))[0].enhanced, null, 'class must match the code')
  t.match(new ReplyParser().push(Buffer.from('250 a\u0001b\r\n'))[0].raw[0], /\\x01/, 'controls escaped')
})

t.test('command lines and paths', async (t) => {
  t.equal(commandLine('MAIL FROM:', '<a@b.example>'), 'MAIL FROM:<a@b.example>\r\n')
  t.throws(() => commandLine('RCPT TO:', '<a@b>\r\nDATA'))
  t.throws(() => commandLine('EHLO', 'x\0y'))
  t.throws(() => commandLine('EHLO', 'x'.repeat(600)))
  t.throws(() => probePath('a b'))
  t.throws(() => probePath('a>b'))
  t.equal(probePath('user%other.example@home.example').text, 'user%other.example@home.example')
  t.equal(parseMailbox('Taro@例え.テスト').address, 'Taro@xn--r8jz45g.xn--zckzah')
  t.ok(parseMailbox('たろう@example.com').utf8)
  for (const bad of ['a\r\n@b.example', '<a@b.example>', 'a@b.example\0', 'a b@c.example', 'x'.repeat(65) + '@b.example', 'a@' + 'b'.repeat(250) + '.example', 'a..b@c.example', '"q"@c.example', 'nobody', '@b.example', 'a@127.0.0.1']) {
    t.throws(() => parseMailbox(bad), { code: 'bad_input', statusCode: 400 }, JSON.stringify(bad))
  }
})

t.test('hostile servers end in a ProbeError of the right kind, in time', async (t) => {
  const cases: Array<[HostileScript, string[]]> = [
    ['silent', ['silent']],
    ['close_before_banner', ['closed']],
    ['bad_banner', ['protocol']],
    ['trickle', ['timeout']],
    ['endless', ['protocol', 'byte_cap']],
    ['huge_line', ['line_too_long', 'byte_cap']],
    ['bad_code', ['protocol']],
    ['starttls_injection', ['protocol']]
  ]
  await Promise.all(cases.map(async ([script, kinds]) => {
    const h = await startHostile(script)
    try {
      const ctx = context(h.ip)
      const t0 = Date.now()
      let err: unknown = null
      let c: SmtpClient | null = null
      try {
        c = await SmtpClient.open(ctx, h.ip)
        await c.ehlo()
        if (c.supports('STARTTLS')) await c.startTls()
        await c.quit()
      } catch (e) { err = e }
      const ms = Date.now() - t0
      t.ok(err instanceof ProbeError, `${script}: ProbeError`)
      t.ok(kinds.includes((err as ProbeError).kind), `${script}: kind ${(err as ProbeError)?.kind} in ${kinds}`)
      t.ok(ms < 4000, `${script}: ended in ${ms} ms`)
      if (script === 'starttls_injection') {
        t.match((err as Error).message, /STARTTLS injection/)
        t.notOk(c?.supports('AUTH'), 'the injected capability never reached the client state')
      }
    } finally {
      await h.close()
    }
  }))
})

t.test('nothing listening: refused', async (t) => {
  const ip = randomLoopback()
  await t.rejects(SmtpClient.open(context(ip), ip), { name: 'ProbeError', kind: 'refused' })
})

t.test('a real session against smtp-server: EHLO, STARTTLS, pipelined envelope, QUIT', async (t) => {
  const srv = await startSmtp({ starttls: true, users: ['taro'], name: 'mx.home.test' })
  t.teardown(() => srv.close())
  const ctx = context(srv.ip)
  const c = await SmtpClient.open(ctx, srv.ip, { servername: 'mx.home.test' })
  t.equal(c.banner?.code, 220)
  await c.ehlo()
  t.ok(c.supports('STARTTLS'))
  t.ok(c.supports('PIPELINING'))
  const { reply, tls } = await c.startTls()
  t.equal(reply.code, 220)
  t.ok(tls?.protocol?.startsWith('TLS'))
  t.equal(tls?.cert?.selfSigned, true)
  t.equal(tls?.nameMatches, true)
  t.equal(c.ehloReply?.code, 250, 'EHLO again after TLS')
  t.notOk(c.supports('STARTTLS'), 'no STARTTLS offered inside TLS')
  const batch = await c.envelopeBatch(parseMailbox('mxprobe@probe.mxprobe.test'), [parseMailbox('taro@home.test'), parseMailbox('nobody@home.test'), POSTMASTER])
  t.equal(batch.pipelined, true)
  t.equal(batch.mail.code, 250)
  t.same(batch.rcpts.map((r) => r?.code), [250, 550, 250])
  t.equal(batch.rcpts[1]?.enhanced, '5.1.1')
  t.equal(batch.rset?.code, 250)
  const q = await c.quit()
  t.equal(q?.code, 221)
  t.equal(srv.delivered.length, 0, 'no DATA, no mail')
  const tr = ctx.report.report.transcript
  t.ok(tr.some((l) => l.dir === 'C' && l.text === 'STARTTLS'))
  t.ok(tr.some((l) => l.dir === 'I' && /TLS established/.test(l.text)))
  t.same(c.timings.map((x) => x.stage).slice(0, 4), ['connect', 'banner', 'ehlo', 'starttls'])
})

t.test('the session deadline ends a server that answers slowly but in time for each reply', async (t) => {
  const h = await startHostile('slow', { delayMs: 700 })
  t.teardown(() => h.close())
  const ctx = context(h.ip, 2000)
  const t0 = Date.now()
  const c = await SmtpClient.open(ctx, h.ip)
  await c.ehlo()
  await t.rejects(c.noop().then(() => c.noop()), { name: 'ProbeError', kind: 'deadline' })
  const ms = Date.now() - t0
  // Not before the deadline; the upper bound only says "did not hang" (the
  // script would answer for ever): a loaded machine may be late by seconds.
  t.ok(ms >= 1900, `ended at the deadline, not before (${ms} ms)`)
  t.ok(ms < 10_000, `and did not run on (${ms} ms)`)
  t.ok(ctx.report.report.transcript.some((l) => l.dir === 'I' && /time limit|deadline/.test(l.text)), 'the transcript says why it stopped')
})
