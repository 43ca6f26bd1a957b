// The reply leg of the send test: the result goes back, as a real reply,
// to the envelope sender, and only under the receive test's rule (the
// sender domain's MX is the IP the caller started the test from). It is
// delivered like the receive test's mail: deliverMessage() over mxprobe's
// own SMTP client (src/smtp/), on a socket from THE guarded connector, so
// the target rule, absolute deadline, byte and reply caps hold and every
// line goes to the report's transcript as it is sent or read.
import MailComposer from 'nodemailer/lib/mail-composer'
import type { CheckSettings } from '../checks/context.js'
import type { ReportBuilder } from '../core/report.js'
import { mailTargetFor } from '../checks/mailhosts.js'
import { parseMailbox, configuredMailbox, type Mailbox } from '../smtp/address.js'
import { deliverMessage } from '../smtp/deliver.js'
import { replyHeadline } from '../smtp/reply.js'
import type { DnsClient } from '../dns/resolver.js'
import type { GuardedConnector } from '../net/connect.js'
import { RefusalError } from '../errors.js'
import type { Lang } from '../i18n/index.js'

export interface ReplyDeps {
  dns: DnsClient
  connector: GuardedConnector
  settings: CheckSettings
}

export type ReplyOutcome =
  | { sent: true, host: string, ip: string, response: string, queueId: string | null, ms: number }
  | { sent: false, stage: 'rule' | 'connect' | 'smtp', reason: string, reply?: string, ms: number }

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
  let plan: { host: string, ip: string, mailbox: Mailbox }
  try {
    const mailbox = parseMailbox(o.to, 'mailFrom')
    // The receive test's rule, as the caller would meet it: refusal texts in the report's language.
    const rule = { callerIp: o.callerIp, dns: deps.dns, connector: deps.connector, lang: r.lang }
    const { match } = await mailTargetFor(rule, mailbox.domain.ascii)
    plan = { host: match.host.host, ip: match.address.address, mailbox }
  } catch (err) {
    const reason = err instanceof RefusalError ? err.message : (err as Error).message
    return { sent: false, stage: 'rule', reason, ms: Date.now() - t0 }
  }
  const ctx = {
    settings: s,
    deadline: o.deadline,
    lang: r.lang,
    report: r,
    connect: async (ip: string, port: number, opts: { tls?: boolean, servername?: string, connectTimeoutMs?: number, maxBytes?: number, deadline?: number } = {}) => await deps.connector.connect({
      callerIp: o.callerIp,
      ip,
      port,
      tls: opts.tls,
      servername: opts.servername,
      connectTimeoutMs: opts.connectTimeoutMs ?? s.connectTimeoutMs,
      deadline: Math.min(opts.deadline ?? Infinity, o.deadline),
      maxBytes: Math.min(opts.maxBytes ?? Infinity, s.maxBytesPerConnection),
      checkId: o.checkId,
      checkType: 'send'
    })
  }
  const out = await deliverMessage(ctx, {
    ip: plan.ip,
    servername: plan.host,
    from: configuredMailbox(s.mailFrom),
    to: plan.mailbox,
    utf8: plan.mailbox.utf8,
    message: o.message,
    lang: r.lang
  })
  const ms = Date.now() - t0
  if (out.accepted) return { sent: true, host: plan.host, ip: plan.ip, response: out.response ?? '', queueId: out.queueId, ms }
  if (out.refused) return { sent: false, stage: 'smtp', reason: `${out.refused.stage}: ${replyHeadline(out.refused.reply)}`, reply: replyHeadline(out.refused.reply), ms }
  const connected = out.sessions.length > 0
  return { sent: false, stage: connected ? 'smtp' : 'connect', reason: out.error?.message ?? 'the reply was not accepted', ms }
}
