// The receive test: deliver ONE real test mail to an address at the
// caller's own mail server, and show the whole dialogue.
//
// Why nodemailer here (and our own client everywhere else): this is the one
// place where a real message is sent, and nodemailer's SMTPConnection is a
// well-tested sender (dot-stuffing, SMTPUTF8/8BITMIME parameters, the
// PIPELINING a real MTA would use), so the test behaves like the mail
// servers that will deliver to the visitor. It never opens a connection of
// its own: it gets our guarded socket through its `connection` option (the
// same hook nodemailer's transport `getSocket()` feeds), so the connector's
// target rule, absolute deadline and byte cap hold. Its STARTTLS wraps that
// same TCP socket (no new connection). What nodemailer does not give us we
// add around it: every byte the server sends is also read by our own
// ReplyParser (line/reply caps, code validation, transcript lines as they
// arrive, STARTTLS-injection check), a watchdog gives each reply an
// absolute time limit (nodemailer's socket timeout is an inactivity timer
// that a one-byte-a-second server never trips), and the check's deadline
// ends the session whatever state nodemailer is in.
import { format } from 'node:util'
import { randomBytes } from 'node:crypto'
import type net from 'node:net'
import type tls from 'node:tls'
import SMTPConnection from 'nodemailer/lib/smtp-connection'
import MailComposer from 'nodemailer/lib/mail-composer'
import type { CheckContext, CheckDefinition } from './context.js'
import type { Status } from './report.js'
import { mailTargetFor } from './mailhosts.js'
import { parseMailbox, type Mailbox } from '../smtp/address.js'
import { ReplyParser, parseEhlo, replyHeadline, type Reply } from '../smtp/reply.js'
import { describeTls, tlsSummary, type StageTiming, type TlsInfo } from '../smtp/client.js'
import { explainedDetail, looksGreylisted } from '../smtp/codes.js'
import { noteDeadlines, explainReplies, adviseUnreachable, judgeTls, judgeCertificate } from './smtp.js'
import { ProbeError } from '../errors.js'
import type { GuardedSocket } from '../net/connect.js'

export interface ReceiveInput { address: string }
export interface ReceivePlan { mailbox: Mailbox, domain: string, host: string, ip: string }

export interface DeliveryResult {
  messageId: string
  /** the server's final reply to the message */
  response: string | null
  /** queue id from "queued as …" (Postfix, Exim, smtp-server fixtures), when the reply names one */
  queueId: string | null
  accepted: boolean
}

/** The fixed test message: the visitor controls nothing in it but the recipient. */
export async function composeTestMail (ctx: CheckContext, plan: ReceivePlan, messageId: string, at: Date): Promise<Buffer> {
  const jst = new Date(at.getTime() + 9 * 3600_000).toISOString().replace('T', ' ').slice(0, 19) + ' JST'
  const utc = at.toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
  const text = [
    'これは mxprobe の受信テストで送られたメールです。',
    'このメールが届いていれば、インターネットからあなたのメールサーバーへメールが配送できています。',
    '',
    `  試験 ID: ${ctx.id}`,
    `  宛先: ${plan.mailbox.display}`,
    `  試験を依頼した IP アドレス: ${ctx.callerIp}`,
    `  配送先: ${plan.host} (${plan.ip})`,
    `  送信日時: ${jst}`,
    '',
    'このメールには返信不要です。削除してかまいません。',
    '',
    '----',
    '',
    'This mail was sent by the mxprobe receive test.',
    'If you can read it, mail from the internet reaches your mail server.',
    '',
    `  Check ID: ${ctx.id}`,
    `  Recipient: ${plan.mailbox.display}`,
    `  Requested from IP address: ${ctx.callerIp}`,
    `  Delivered to: ${plan.host} (${plan.ip})`,
    `  Sent at: ${utc}`,
    '',
    'No reply is needed; you may delete this mail.',
    ''
  ].join('\n')
  const composer = new MailComposer({
    from: { name: 'mxprobe', address: ctx.settings.mailFrom },
    to: plan.mailbox.address,
    subject: `mxprobe 受信テスト / receive test ${ctx.id}`,
    text,
    date: at,
    messageId,
    headers: {
      'Auto-Submitted': 'auto-generated',
      'X-Mxprobe-Check-Id': ctx.id
    }
  })
  return await composer.compile().build()
}

const STAGES: Array<[RegExp, string]> = [
  [/^EHLO\b/i, 'ehlo'], [/^HELO\b/i, 'helo'], [/^LHLO\b/i, 'lhlo'], [/^STARTTLS\b/i, 'starttls'],
  [/^MAIL FROM:/i, 'mail'], [/^RCPT TO:/i, 'rcpt'], [/^DATA\b/i, 'data'], [/^RSET\b/i, 'rset'], [/^QUIT\b/i, 'quit'], [/^NOOP\b/i, 'noop']
]

interface Pending { stage: string, sentAt: number }

/**
 * nodemailer driven over a guarded socket, watched by our own parser,
 * watchdog and deadline. One instance per delivery.
 */
class WatchedDelivery {
  readonly replies: Array<{ stage: string, reply: Reply }> = []
  readonly timings: StageTiming[] = []
  tls: TlsInfo | null = null
  failure: ProbeError | null = null
  readonly failed: Promise<never>
  readonly conn: SMTPConnection

  private readonly pending: Pending[]
  private readonly parser: ReplyParser
  private bytes = 0
  private watchdog: NodeJS.Timeout | null = null
  private readonly deadlineTimer: NodeJS.Timeout
  private rejectFailed: (e: Error) => void = () => {}
  private starttlsAt = 0
  private tlsSocket: tls.TLSSocket | null = null
  private ended = false
  private readonly tap = (chunk: Buffer): void => this.receive(chunk)

  constructor (private readonly ctx: CheckContext, private readonly guarded: GuardedSocket, private readonly plan: ReceivePlan, connectedAt: number) {
    const s = ctx.settings
    this.failed = new Promise<never>((_resolve, reject) => { this.rejectFailed = reject })
    this.failed.catch(() => {})
    this.pending = [{ stage: 'banner', sentAt: connectedAt }]
    this.parser = new ReplyParser({}, (line) => ctx.report.line('S', line))
    const log = (level: string) => (entry: Record<string, unknown>, msg: unknown, ...args: unknown[]): void => {
      this.onLog(level, entry ?? {}, typeof msg === 'string' ? format(msg, ...args) : String(msg ?? ''))
    }
    this.conn = new SMTPConnection({
      // The guarded socket: nodemailer never connects anywhere by itself.
      connection: guarded.socket as net.Socket,
      host: plan.ip,
      port: 25,
      name: s.heloName,
      servername: plan.host,
      // Certificates are checked and reported by us, not required: port 25 STARTTLS is opportunistic.
      tls: { rejectUnauthorized: false, servername: plan.host },
      opportunisticTLS: true,
      // Ours fire first; nodemailer's are a backstop.
      greetingTimeout: s.bannerTimeoutMs + 1000,
      socketTimeout: s.commandTimeoutMs + 1000,
      connectionTimeout: s.bannerTimeoutMs + 2 * s.commandTimeoutMs,
      maxResponseSize: 256 * 1024,
      socketCloseTimeout: 0,
      logger: { trace: () => {}, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), fatal: log('fatal') } as never,
      debug: true,
      transactionLog: true
    })
    this.conn.on('error', (err: Error) => this.fail(this.classify(err)))
    this.conn.on('end', () => { if (!this.ended) this.fail(new ProbeError('closed', this.pending[0]?.stage === 'banner' ? 'the server closed the connection before its greeting' : 'the server closed the connection')) })
    // Our reader goes first, so the transcript has each reply before nodemailer's next command.
    guarded.socket.prependListener('data', this.tap)
    guarded.raw.on('error', (err: Error) => { if (err instanceof ProbeError) this.fail(err) })
    this.deadlineTimer = setTimeout(() => this.fail(new ProbeError('deadline', 'the check\'s time limit was reached during the SMTP dialogue')), Math.max(0, ctx.deadline - Date.now()))
    this.deadlineTimer.unref?.()
    this.rearm()
  }

  /** the EHLO reply of the current (latest) session state */
  get ehlo (): Reply | null {
    return [...this.replies].reverse().find((x) => x.stage.startsWith('ehlo'))?.reply ?? null
  }

  /** the EHLO reply before TLS (to know what was offered in plain text) */
  get firstEhlo (): Reply | null {
    return this.replies.find((x) => x.stage === 'ehlo')?.reply ?? null
  }

  private classify (err: Error & { code?: string }): ProbeError {
    if (err instanceof ProbeError) return err
    const waiting = this.pending[0]?.stage
    // nodemailer reports a failed handshake as a socket error of the TLS socket
    if (this.starttlsAt && !this.tls && err.code !== 'ETIMEDOUT') {
      const reason = /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message
      return new ProbeError('tls', `the TLS handshake after STARTTLS failed: ${reason}`)
    }
    switch (err.code) {
      case 'ETIMEDOUT': return waiting === 'banner' ? new ProbeError('silent', 'the server sent no greeting in time') : new ProbeError('timeout', `no reply to ${waiting ?? 'the last command'} in time`)
      case 'ECONNECTION': return new ProbeError('closed', waiting === 'banner' ? 'the server closed the connection before its greeting' : `the connection broke: ${err.message}`)
      case 'ETLS': return new ProbeError('tls', `TLS after STARTTLS failed: ${err.message}`)
      case 'EPROTOCOL': return new ProbeError('protocol', err.message)
      case 'ESOCKET': return new ProbeError(/ECONNRESET|EPIPE/.test(String((err as { originalCode?: string }).originalCode ?? err.message)) ? 'closed' : 'other', `socket error: ${err.message}`)
      default: return new ProbeError('other', err.message)
    }
  }

  private onLog (level: string, entry: Record<string, unknown>, text: string): void {
    if (this.failure) return
    const r = this.ctx.report
    switch (entry.tnx) {
      case 'client': {
        const line = text.replace(/\r?\n$/, '')
        r.line('C', line)
        const stage = STAGES.find(([re]) => re.test(line))?.[1] ?? 'command'
        const st = stage === 'ehlo' && this.tls ? 'ehlo (tls)' : stage
        this.pending.push({ stage: st, sentAt: Date.now() })
        if (this.pending.length === 1) this.rearm()
        return
      }
      case 'message':
        // our own fixed message, as it went on the wire (dot-stuffed, ending in ".")
        for (const l of text.split(/\r?\n/)) r.line('C', l)
        return
      case 'server':
        return // read by our own parser from the socket
      default:
        if (/Connection upgraded with STARTTLS/.test(text)) this.onUpgraded()
        else if (level === 'warn' && /Discarded \d+ bytes/.test(text)) this.fail(new ProbeError('protocol', 'the server sent data after "220" to STARTTLS, before the TLS handshake (STARTTLS injection); it was discarded and the test stopped'))
    }
  }

  private onUpgraded (): void {
    const sock = (this.conn as unknown as { _socket: tls.TLSSocket })._socket
    this.guarded.socket.removeListener('data', this.tap)
    this.parser.reset()
    this.tlsSocket = sock
    sock.prependListener('data', this.tap)
    this.timings.push({ stage: 'tls', ms: Date.now() - this.starttlsAt })
    this.tls = describeTls(sock, this.plan.host)
    this.ctx.report.line('I', tlsSummary(this.tls))
  }

  private receive (chunk: Buffer): void {
    if (this.failure) return
    this.bytes += chunk.length
    if (this.bytes > this.ctx.settings.maxBytesPerConnection) {
      this.fail(new ProbeError('byte_cap', `the server sent more than ${this.ctx.settings.maxBytesPerConnection} bytes`))
      return
    }
    let replies: Reply[]
    try {
      replies = this.parser.push(chunk)
    } catch (err) {
      this.fail(err instanceof ProbeError ? err : new ProbeError('protocol', (err as Error).message))
      return
    }
    for (let i = 0; i < replies.length; i++) {
      const reply = replies[i]
      const now = Date.now()
      const p = this.pending.shift() ?? { stage: 'unsolicited', sentAt: now }
      this.timings.push({ stage: p.stage, ms: now - p.sentAt })
      this.replies.push({ stage: p.stage, reply })
      if (p.stage === 'data' && reply.code === 354) this.pending.unshift({ stage: 'end of data', sentAt: now })
      if (p.stage === 'starttls' && reply.code === 220) {
        this.starttlsAt = now
        if (i < replies.length - 1 || this.parser.buffered > 0) {
          this.fail(new ProbeError('protocol', 'the server sent more data right after "220" to STARTTLS, before the TLS handshake (STARTTLS injection); mxprobe discards it and stops'))
          return
        }
      }
    }
    // Only a complete reply moves the clock: bytes trickling in do not.
    if (replies.length) this.rearm()
  }

  /** Each expected reply must be complete within its limit from when we started waiting for it. */
  private rearm (): void {
    if (this.watchdog) clearTimeout(this.watchdog)
    this.watchdog = null
    const p = this.pending[0]
    if (!p || this.failure) return
    const s = this.ctx.settings
    const limit = p.stage === 'banner' ? s.bannerTimeoutMs : s.commandTimeoutMs
    const left = this.ctx.deadline - Date.now()
    this.watchdog = setTimeout(() => {
      this.fail(left <= limit
        ? new ProbeError('deadline', `the check's time limit was reached while waiting for the reply to ${p.stage}`)
        : p.stage === 'banner' ? new ProbeError('silent', `the server sent no greeting within ${limit} ms`) : new ProbeError('timeout', `no complete reply to ${p.stage} within ${limit} ms`))
    }, Math.max(0, Math.min(limit, left)))
  }

  fail (err: ProbeError): void {
    if (this.failure || this.ended) return
    this.failure = err
    this.ctx.report.line('I', `stopped: ${err.message}`)
    this.stop()
    this.rejectFailed(err)
  }

  private stop (): void {
    this.ended = true
    if (this.watchdog) clearTimeout(this.watchdog)
    clearTimeout(this.deadlineTimer)
    try { this.conn.close() } catch { /* already closed */ }
    this.guarded.raw.on('error', () => {})
    this.tlsSocket?.on('error', () => {})
    this.guarded.close()
  }

  /** a promise, raced against any failure of the session */
  async guard<T> (p: Promise<T>): Promise<T> {
    return await Promise.race([p, this.failed])
  }

  async connect (): Promise<void> {
    await this.guard(new Promise<void>((resolve, reject) => this.conn.connect((err?: Error | null) => err ? reject(this.classify(err)) : resolve())))
  }

  async send (from: string, to: string, message: Buffer): Promise<{ err: (Error & { code?: string }) | null, response: string | null }> {
    return await this.guard(new Promise((resolve) => {
      this.conn.send({ from, to: [to] }, message, (err: Error | null, info?: { response?: string }) => resolve({ err, response: info?.response ?? null }))
    }))
  }

  /** QUIT, wait briefly for the server's 221 and close; never throws. */
  async quit (): Promise<void> {
    if (this.failure || this.ended) return
    const waitMs = Math.min(2000, this.ctx.settings.commandTimeoutMs, Math.max(0, this.ctx.deadline - Date.now()))
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs)
      this.conn.once('end', () => { clearTimeout(timer); resolve() })
      this.ended = true // the server closing after 221 is expected now
      try { this.conn.quit() } catch { clearTimeout(timer); resolve() }
    })
    this.stop()
  }
}

function stageStep (ctx: CheckContext, name: string, x: { stage: string, reply: Reply } | undefined, ms: number | undefined): Status | null {
  if (!x) return null
  const st: Status = x.reply.code < 400 ? 'pass' : x.reply.code < 500 ? 'warn' : 'fail'
  const ok = x.stage.startsWith('ehlo') && x.reply.code === 250
    ? `extensions: ${[...parseEhlo(x.reply).entries()].map(([k, v]) => [k, ...v].join(' ')).join(', ') || 'none'}`
    : replyHeadline(x.reply)
  ctx.report.step(name, st, st === 'pass' ? ok : explainedDetail(x.reply, ctx.report.lang), ms)
  return st
}

export const receiveCheck: CheckDefinition<ReceiveInput, ReceivePlan> = {
  type: 'receive',
  probes: true,
  async prepare (ctx, input) {
    const mailbox = parseMailbox(input.address)
    ctx.report.target({ domain: mailbox.domain.ascii })
    const { match } = await mailTargetFor(ctx, mailbox.domain.ascii)
    ctx.report.target({ host: match.host.host, ip: match.address.address })
    ctx.report.set('recipient', mailbox.display)
    return { mailbox, domain: mailbox.domain.ascii, host: match.host.host, ip: match.address.address }
  },
  async run (ctx, plan) {
    const r = ctx.report
    noteDeadlines(ctx)
    const t0 = Date.now()
    r.line('I', `connecting to ${plan.ip} port 25 (${plan.host})`)
    let guarded: GuardedSocket
    try {
      guarded = await ctx.connect(plan.ip, 25, { servername: plan.host })
    } catch (err) {
      r.step('connect', 'error', (err as Error).message, Date.now() - t0)
      adviseUnreachable(ctx, err, plan.ip)
      throw err
    }
    const connectMs = Date.now() - t0
    r.line('I', `connected in ${connectMs} ms`)
    r.step('connect', 'pass', `${plan.ip} port 25 (${plan.host})`, connectMs)
    const d = new WatchedDelivery(ctx, guarded, plan, Date.now())
    const timing = (stage: string): number | undefined => d.timings.filter((x) => x.stage === stage).reduce<number | undefined>((a, b) => (a ?? 0) + b.ms, undefined)
    const finishReport = (): void => {
      r.set('timings', [{ stage: 'connect', ms: connectMs }, ...d.timings])
      r.set('tls', d.tls)
      explainReplies(r, d.replies)
    }
    try {
      try {
        await d.connect()
      } catch (err) {
        // The server refused the session (a 554 greeting, EHLO and HELO both refused …):
        // nodemailer reports that as an error, we as a verdict with the reply explained.
        const refused = d.replies.find((x) => x.reply.code >= 400)
        if (!refused) throw err
        stageStep(ctx, 'banner', d.replies.find((x) => x.stage === 'banner'), timing('banner'))
        if (refused.stage !== 'banner') stageStep(ctx, refused.stage, refused, timing(refused.stage))
        if (refused.stage === 'banner' && refused.reply.code >= 500) r.advise('smtp.banner_refused', { reply: replyHeadline(refused.reply) })
        finishReport()
        r.finish(refused.reply.code >= 500 ? 'fail' : 'warn', `${plan.host} refused the session at ${refused.stage}: ${replyHeadline(refused.reply)}`)
        return
      }
      stageStep(ctx, 'banner', d.replies.find((x) => x.stage === 'banner'), timing('banner'))
      const first = d.firstEhlo
      const offered = first && first.code === 250 ? parseEhlo(first) : new Map<string, string[]>()
      stageStep(ctx, 'ehlo', d.replies.find((x) => x.stage === 'ehlo' || x.stage === 'helo'), timing('ehlo'))
      if (d.tls) {
        r.step('starttls', 'pass', 'offered and working', (timing('starttls') ?? 0) + (timing('tls') ?? 0))
        judgeTls(r, d.tls)
        judgeCertificate(r, d.tls, plan.host)
        stageStep(ctx, 'ehlo (tls)', d.replies.find((x) => x.stage === 'ehlo (tls)'), timing('ehlo (tls)'))
      } else if (offered.has('STARTTLS')) {
        const st = d.replies.find((x) => x.stage === 'starttls')
        r.step('starttls', 'warn', st ? `offered, but refused: ${explainedDetail(st.reply, r.lang)}` : 'offered, not used')
        r.advise('smtp.starttls_failed', { reason: st ? replyHeadline(st.reply) : 'not used' })
      } else {
        r.step('starttls', 'info', 'STARTTLS is not offered: the test mail travels unencrypted')
        r.advise('smtp.no_starttls', {})
      }
      const now = d.ehlo ? parseEhlo(d.ehlo) : new Map<string, string[]>()
      if (plan.mailbox.utf8 && !now.has('SMTPUTF8')) {
        r.step('smtputf8', 'fail', `${plan.mailbox.display} needs SMTPUTF8, which the server does not offer`)
        r.advise('smtp.utf8_unsupported', { address: plan.mailbox.display })
        finishReport()
        await d.quit()
        r.finish('fail', `the server cannot receive mail for ${plan.mailbox.display}: no SMTPUTF8`)
        return
      }

      const at = new Date()
      const messageId = `<${ctx.id}.${randomBytes(4).toString('hex')}@${ctx.settings.heloName}>`
      const message = await composeTestMail(ctx, plan, messageId, at)
      r.set('message', { messageId, subject: `mxprobe 受信テスト / receive test ${ctx.id}`, date: at.toISOString(), bytes: message.length })
      const sent = await d.send(ctx.settings.mailFrom, plan.mailbox.address, message)
      const get = (stage: string) => d.replies.find((x) => x.stage === stage)
      const mail = get('mail')
      const rcpt = get('rcpt')
      const data = get('data')
      const end = get('end of data')
      // The verdict is the delivery's: the first refusing stage, or the final reply.
      stageStep(ctx, 'mail', mail, timing('mail'))
      stageStep(ctx, 'rcpt', rcpt, timing('rcpt'))
      stageStep(ctx, 'data', data, timing('data'))
      stageStep(ctx, 'end of data', end, timing('end of data'))
      if (!end && sent.err && !mail) throw d.failure ?? new ProbeError('other', sent.err.message)
      const refused = [mail, rcpt, data, end].find((x) => x && x.reply.code >= 400)
      const queueId = end ? /queued as ([A-Za-z0-9]+)/i.exec(end.reply.lines.join(' '))?.[1] ?? null : null
      const delivery: DeliveryResult = { messageId, response: end ? replyHeadline(end.reply) : null, queueId, accepted: !!end && end.reply.code < 300 }
      r.set('delivery', delivery)
      await d.quit()
      finishReport()
      if (delivery.accepted) {
        r.finish('pass', `the test mail was accepted by ${plan.host} (${plan.ip}) for ${plan.mailbox.display}${queueId ? `, queue id ${queueId}` : ''}`)
        return
      }
      if (!refused) {
        if (d.failure) throw d.failure
        throw new ProbeError('other', sent.err?.message ?? 'the server did not accept the message')
      }
      const reply = refused.reply
      const head = replyHeadline(reply)
      if (reply.code < 500) {
        if (looksGreylisted(reply)) r.advise('smtp.greylisted', { reply: head, helo: ctx.settings.heloName })
        r.finish('warn', `the server deferred the test mail at ${refused.stage}: ${head}`)
        return
      }
      if (refused.stage === 'mail') r.advise('smtp.mail_refused', { from: ctx.settings.mailFrom, reply: head })
      else if (refused.stage === 'rcpt') {
        const unknown = reply.enhanced === '5.1.1' || /unknown|no such|does not exist|not found|invalid recipient/i.test(reply.lines.join(' '))
        r.advise(unknown ? 'smtp.rcpt_unknown' : 'smtp.rcpt_refused', { address: plan.mailbox.display, domain: plan.mailbox.domain.unicode, reply: head })
      } else r.advise('smtp.data_refused', { reply: head })
      r.finish('fail', `the server refused the test mail at ${refused.stage}: ${head}`)
    } catch (err) {
      d.fail(err instanceof ProbeError ? err : new ProbeError('other', (err as Error).message))
      finishReport()
      const e = d.failure ?? err
      if (e instanceof ProbeError && e.kind === 'tls') r.advise('smtp.tls_broken_receive', { reason: e.message })
      adviseUnreachable(ctx, e, plan.ip)
      r.step('dialogue', 'error', (e as Error).message)
      throw e
    }
  }
}
