// The reply leg of the send test: the result goes back, as a real reply,
// to the envelope sender, and only under the receive test's rule (the
// sender domain's MX is the IP the caller started the test from). Built
// on the receive test's delivery path: nodemailer's SMTPConnection driven
// over a socket from THE guarded connector (its `connection` option), so
// the connector's target rule, absolute deadline and byte cap hold; every
// line goes to the report's transcript as it is sent or read.
// (The `receive` branch is adding DATA to mxprobe's own SMTP client; when
// that lands, this can move onto it.)
import { format } from 'node:util'
import type net from 'node:net'
import SMTPConnection from 'nodemailer/lib/smtp-connection'
import MailComposer from 'nodemailer/lib/mail-composer'
import type { CheckContext, CheckSettings } from '../checks/context.js'
import type { ReportBuilder } from '../checks/report.js'
import { mailTargetFor } from '../checks/mailhosts.js'
import { parseMailbox } from '../smtp/address.js'
import type { DnsClient } from '../dns/resolver.js'
import type { GuardedConnector, GuardedSocket } from '../net/connect.js'
import { RefusalError } from '../errors.js'
import type { Lang } from '../i18n/index.js'

export interface ReplyDeps {
  dns: DnsClient
  connector: GuardedConnector
  settings: CheckSettings
}

export type ReplyOutcome =
  | { sent: true, host: string, ip: string, response: string, ms: number }
  | { sent: false, stage: 'rule' | 'connect' | 'smtp', reason: string, reply?: string, ms: number }

const MAX_LINE = 512

/** The reply message: the result in the report's language, threaded to the user's mail. */
export async function composeReply (o: { from: string, to: string, subject: string | null, messageId: string | null, reportId: string, lang: Lang, text: string, heloName: string }): Promise<Buffer> {
  const subject = (o.subject ?? '').replace(/[\r\n\u0000]+/g, ' ').slice(0, 200)
  const ref = o.messageId && /^<[^<>\s]{1,250}>$/.test(o.messageId) ? o.messageId : undefined
  const composer = new MailComposer({
    from: { name: 'mxprobe', address: o.from },
    to: o.to,
    subject: `Re: ${subject || (o.lang === 'ja' ? 'mxprobe 送信テスト' : 'mxprobe send test')}`.slice(0, 220),
    text: o.text,
    inReplyTo: ref,
    references: ref,
    messageId: `<${o.reportId}.reply@${o.heloName}>`,
    headers: { 'Auto-Submitted': 'auto-replied', 'X-Mxprobe-Check-Id': o.reportId }
  })
  return await composer.compile().build()
}

/**
 * Deliver `message` to `to` (the envelope sender) if the rule allows it.
 * Never throws: the outcome says what happened, the transcript shows it.
 */
export async function sendReply (deps: ReplyDeps, r: ReportBuilder, o: { callerIp: string, to: string, message: Buffer, checkId: string, deadline: number }): Promise<ReplyOutcome> {
  const t0 = Date.now()
  const s = deps.settings
  let plan: { host: string, ip: string, rcpt: string }
  try {
    const mailbox = parseMailbox(o.to, 'mailFrom')
    const ctx = { callerIp: o.callerIp, dns: deps.dns, connector: deps.connector } as unknown as CheckContext
    const { match } = await mailTargetFor(ctx, mailbox.domain.ascii)
    plan = { host: match.host.host, ip: match.address.address, rcpt: mailbox.address }
  } catch (err) {
    const reason = err instanceof RefusalError ? err.message : (err as Error).message
    return { sent: false, stage: 'rule', reason, ms: Date.now() - t0 }
  }
  r.info(`reply: connecting to ${plan.ip} port 25 (${plan.host})`)
  let guarded: GuardedSocket
  try {
    guarded = await deps.connector.connect({
      callerIp: o.callerIp,
      ip: plan.ip,
      port: 25,
      servername: plan.host,
      connectTimeoutMs: s.connectTimeoutMs,
      deadline: o.deadline,
      maxBytes: s.maxBytesPerConnection,
      checkId: o.checkId,
      checkType: 'send'
    })
  } catch (err) {
    r.info(`reply: ${(err as Error).message}`)
    return { sent: false, stage: 'connect', reason: (err as Error).message, ms: Date.now() - t0 }
  }
  const line = (dir: 'C' | 'S', text: string): void => {
    for (const l of text.split(/\r?\n/)) if (l !== '') r.line(dir, l.length > MAX_LINE ? l.slice(0, MAX_LINE) + '…' : l)
  }
  const log = (entry: Record<string, unknown>, msg: unknown, ...args: unknown[]): void => {
    const text = typeof msg === 'string' ? format(msg, ...args) : String(msg ?? '')
    if (entry?.tnx === 'client') line('C', text)
    else if (entry?.tnx === 'server') line('S', text)
    else if (entry?.tnx === 'message') { /* our own message: its size is noted below */ } else if (/Connection upgraded with STARTTLS/.test(text)) r.info('reply: STARTTLS: TLS started')
  }
  const conn = new SMTPConnection({
    connection: guarded.socket as net.Socket,
    host: plan.ip,
    port: 25,
    name: s.heloName,
    tls: { rejectUnauthorized: false, servername: plan.host },
    opportunisticTLS: true,
    greetingTimeout: s.bannerTimeoutMs,
    socketTimeout: s.commandTimeoutMs,
    connectionTimeout: s.connectTimeoutMs + s.bannerTimeoutMs,
    maxResponseSize: 64 * 1024,
    socketCloseTimeout: 0,
    logger: { trace: () => {}, debug: log, info: log, warn: log, error: log, fatal: log } as never,
    debug: true,
    transactionLog: true
  })
  const stop = (): void => {
    try { conn.close() } catch { /* closed */ }
    guarded.raw.on('error', () => {})
    guarded.close()
  }
  let failed: Error | null = null
  conn.on('error', (err: Error) => { failed = failed ?? err })
  const deadline = setTimeout(() => { failed = failed ?? new Error('the time limit for the reply was reached'); stop() }, Math.max(0, o.deadline - Date.now()))
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('end', () => reject(failed ?? new Error('the server closed the connection')))
      conn.connect((err?: Error | null) => err ? reject(err) : resolve())
    })
    r.info(`reply: ${o.message.length} bytes`)
    const res = await new Promise<{ err: (Error & { response?: string }) | null, response: string | null }>((resolve) => {
      conn.send({ from: s.mailFrom, to: [plan.rcpt] }, o.message, (err: Error | null, info?: { response?: string }) => resolve({ err: err as (Error & { response?: string }) | null, response: info?.response ?? null }))
    })
    if (res.err) {
      stop()
      return { sent: false, stage: 'smtp', reason: res.err.message, reply: res.err.response ?? res.err.message, ms: Date.now() - t0 }
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.min(2000, s.commandTimeoutMs))
      conn.once('end', () => { clearTimeout(t); resolve() })
      try { conn.quit() } catch { clearTimeout(t); resolve() }
    })
    stop()
    return { sent: true, host: plan.host, ip: plan.ip, response: res.response ?? '', ms: Date.now() - t0 }
  } catch (err) {
    stop()
    const e = failed ?? (err as Error)
    return { sent: false, stage: 'smtp', reason: e.message, reply: (e as Error & { response?: string }).response, ms: Date.now() - t0 }
  } finally {
    clearTimeout(deadline)
  }
}
