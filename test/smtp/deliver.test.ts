// DATA in mxprobe's own client: dot-stuffing, the byte cap, pipelined and
// one-by-one transactions, RFC 2920's lone "." after a refused RCPT, and
// deliverMessage() against real and scripted servers.
import t from 'tap'
import net from 'node:net'
import { SmtpClient, dotStuff } from '../../src/smtp/client.js'
import { deliverMessage } from '../../src/smtp/deliver.js'
import { parseMailbox, configuredMailbox } from '../../src/smtp/address.js'
import type { CheckContext } from '../../src/checks/context.js'
import { startSmtp } from '../fixtures/smtp.js'
import { randomLoopback, probeContext } from '../helpers.js'

const context = (callerIp: string, deadlineMs = 6000): CheckContext => probeContext(callerIp, 'receive', deadlineMs)

const FROM = configuredMailbox('mxprobe@probe.mxprobe.test')

t.test('dot-stuffing and line ends (RFC 5321 §4.5.2)', async (t) => {
  t.equal(dotStuff(Buffer.from('a\r\n.b\r\n..c\r\n.\r\nd')).toString(), 'a\r\n..b\r\n...c\r\n..\r\nd\r\n.\r\n')
  t.equal(dotStuff(Buffer.from('bare\nlf\n')).toString(), 'bare\r\nlf\r\n.\r\n', 'bare LF becomes CRLF')
  t.equal(dotStuff(Buffer.alloc(0)).toString(), '.\r\n')
  t.throws(() => dotStuff(Buffer.from('a\rb\r\n')), /bare CR/)
  t.throws(() => dotStuff(Buffer.from('a\0b\r\n')), /NUL/)
  t.throws(() => dotStuff(Buffer.from('x'.repeat(999) + '\r\n')), /998/)
})

const MESSAGE = Buffer.from([
  'From: mxprobe <mxprobe@probe.mxprobe.test>',
  'To: taro@home.test',
  'Subject: dots',
  '',
  'first line',
  '.a line that starts with a dot',
  '.',
  '..',
  'last line',
  ''
].join('\r\n'))

for (const pipelining of [true, false]) {
  t.test(`a message through smtp-server, ${pipelining ? 'pipelined' : 'one command at a time'}`, async (t) => {
    const srv = await startSmtp({ pipelining, users: ['taro'] })
    t.teardown(() => srv.close())
    const ctx = context(srv.ip)
    const c = await SmtpClient.open(ctx, srv.ip)
    await c.ehlo()
    t.equal(c.supports('PIPELINING'), pipelining)
    const res = await c.sendMessage(FROM, parseMailbox('taro@home.test'), MESSAGE, { quit: true })
    c.quitNoWait()
    t.equal(res.pipelined, pipelining)
    t.equal(res.accepted, true)
    t.equal(res.end?.code, 250)
    t.equal(srv.delivered.length, 1)
    t.equal(srv.delivered[0].raw, MESSAGE.toString(), 'the server un-stuffed exactly the message that was sent')
    const tr = ctx.report.report.transcript
    t.ok(tr.some((l) => l.dir === 'C' && l.text === 'Subject: dots'), 'header lines shown')
    t.notOk(tr.some((l) => l.dir === 'C' && /starts with a dot|first line/.test(l.text)), 'body lines not shown')
    t.ok(tr.some((l) => l.dir === 'I' && /message body: 5 lines/.test(l.text)))
    const quits = tr.filter((l) => l.dir === 'C' && l.text === 'QUIT').length
    t.equal(quits, 1, 'one QUIT, pipelined after the message or sent by quitNoWait')
    for (const s of ['mail', 'rcpt', 'data', 'end of data']) t.ok(c.timings.some((x) => x.stage === s), `timing ${s}`)
  })
}

t.test('the byte cap refuses a large message before MAIL', async (t) => {
  const srv = await startSmtp({})
  t.teardown(() => srv.close())
  const ctx = context(srv.ip)
  const c = await SmtpClient.open(ctx, srv.ip)
  t.teardown(() => c.close())
  await c.ehlo()
  await t.rejects(c.sendMessage(FROM, parseMailbox('taro@home.test'), Buffer.from('x\r\n'.repeat(1000)), { maxBytes: 1000 }), /more than the 1000 bytes/)
  t.notOk(ctx.report.report.transcript.some((l) => l.dir === 'C' && /^MAIL/.test(l.text)), 'no MAIL sent')
})

/** A scripted server that offers PIPELINING, refuses RCPT and still answers DATA with 354 (a broken server). */
async function sloppy (): Promise<{ ip: string, got: string[], close: () => Promise<void> }> {
  const ip = randomLoopback()
  const got: string[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.write('220 sloppy.test ESMTP\r\n')
    let buf = ''
    let data = false
    s.on('data', (d) => {
      buf += d.toString('latin1')
      let i
      while ((i = buf.indexOf('\n')) !== -1) {
        const l = buf.slice(0, i).replace(/\r$/, '')
        buf = buf.slice(i + 1)
        got.push(l)
        if (data) { if (l === '.') { data = false; s.write('554 5.5.1 Error: no valid recipients\r\n') } continue }
        if (/^EHLO/i.test(l)) s.write('250-sloppy.test\r\n250 PIPELINING\r\n')
        else if (/^MAIL/i.test(l)) s.write('250 2.1.0 Ok\r\n')
        else if (/^RCPT/i.test(l)) s.write('550 5.1.1 User unknown\r\n')
        else if (/^DATA/i.test(l)) { data = true; s.write('354 go ahead\r\n') } else if (/^QUIT/i.test(l)) s.end('221 Bye\r\n')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(25, ip, resolve))
  return { ip, got, close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>((resolve) => server.close(() => resolve())) } }
}

t.test('354 after a refused RCPT: a lone "." instead of the message (RFC 2920 §3.1)', async (t) => {
  const srv = await sloppy()
  t.teardown(() => srv.close())
  const ctx = context(srv.ip)
  const out = await deliverMessage(ctx, { ip: srv.ip, servername: 'mx.sloppy.test', from: FROM, to: parseMailbox('taro@sloppy.test'), utf8: false, message: MESSAGE, lang: 'en' })
  t.equal(out.error, null)
  t.equal(out.accepted, false)
  t.equal(out.refused?.stage, 'rcpt')
  t.equal(out.message?.data?.code, 354)
  t.equal(out.message?.end?.code, 554)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const afterData = srv.got.slice(srv.got.indexOf('DATA') + 1)
  t.same(afterData.filter((l) => l !== 'QUIT'), ['.'], 'nothing of the message reached the server')
})

t.test('deliverMessage takes the message as a promise (composed while the connection opens) and delivers inside TLS 1.3', async (t) => {
  const srv = await startSmtp({ starttls: true, users: ['taro'], name: 'mx.home.test' })
  t.teardown(() => srv.close())
  const ctx = context(srv.ip)
  let composedAt = 0
  const message = new Promise<Buffer>((resolve) => setTimeout(() => { composedAt = Date.now(); resolve(MESSAGE) }, 50))
  const out = await deliverMessage(ctx, { ip: srv.ip, servername: 'mx.home.test', from: FROM, to: parseMailbox('taro@home.test'), utf8: false, message, lang: 'en' })
  t.equal(out.error, null)
  t.equal(out.accepted, true)
  t.equal(out.sessions.length, 1)
  t.equal(out.sessions[0].tls?.protocol, 'TLSv1.3')
  t.match(out.queueId, /^FIX/)
  t.ok(composedAt > 0)
  t.equal(srv.delivered[0].raw, MESSAGE.toString())
})
