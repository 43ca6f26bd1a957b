// The receive test: deliver ONE real test mail to an address at the
// caller's own mail server, and show the whole dialogue.
//
// The delivery goes through mxprobe's own SMTP engine (src/smtp/deliver.ts
// over src/smtp/client.ts): the guarded connector's socket, reply caps,
// absolute timeouts and the STARTTLS-injection check hold for it as for
// every probe. nodemailer's MailComposer builds the message (RFC 2047
// headers, MIME, line wrapping); it is composed while the connection
// opens. With PIPELINING, MAIL + RCPT + DATA go out as one group and QUIT
// is not waited for: over STARTTLS with TLS 1.3 the whole test costs the
// connection, EHLO, STARTTLS, the handshake, EHLO, the envelope and the
// message (bench:receive and test/checks/receive-rtt.test.ts count them).
import { randomBytes } from 'node:crypto'
import MailComposer from 'nodemailer/lib/mail-composer'
import type { CheckContext, CheckDefinition } from './context.js'
import type { Status } from '../core/report.js'
import type { StageTiming } from '../smtp/client.js'
import { mailTargetFor } from './mailhosts.js'
import { parseMailbox, configuredMailbox, type Mailbox } from '../smtp/address.js'
import { parseEhlo, replyHeadline, type Reply } from '../smtp/reply.js'
import { deliverMessage, type DeliveryOutcome, type DeliverySession } from '../smtp/deliver.js'
import { explainedDetail, looksGreylisted } from '../smtp/codes.js'
import { noteDeadlines, explainReplies, adviseUnreachable, judgeTls, judgeCertificate } from './smtp.js'
import { adviseProbeError } from './runner.js'
import { bi } from '../i18n/index.js'
import '../i18n/advice/receive.js'

export interface ReceiveInput { address: string }
export interface ReceivePlan { mailbox: Mailbox, domain: string, host: string, ip: string }

export interface DeliveryResult {
  messageId: string
  /** the server's final reply to the message */
  response: string | null
  /** queue id from "queued as …" (Postfix, Exim, smtp-server fixtures), when the reply names one */
  queueId: string | null
  accepted: boolean
  /** the message went inside TLS */
  tls: boolean
  /** MAIL, RCPT and DATA went as one pipelined group */
  pipelined: boolean
  /** connections used (2: the TLS handshake failed and the mail went in clear over a second one) */
  sessions: number
}

/** The subject of the test mail: people look for it in their mailbox. */
export function testSubject (id: string): string {
  return `mxprobe 受信テスト / receive test ${id}`
}

/** The fixed test message: the visitor controls nothing in it but the recipient. */
export async function composeTestMail (ctx: CheckContext, plan: ReceivePlan, messageId: string, at: Date): Promise<Buffer> {
  const jst = new Date(at.getTime() + 9 * 3600_000).toISOString().replace('T', ' ').slice(0, 19) + ' JST'
  const utc = at.toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
  const text = [
    'これは mxprobe の受信テストで送られたメールです。',
    'このメールが届いていれば、インターネットからあなたのメールサーバーへメールが配送できています。',
    '',
    `  テスト ID: ${ctx.id}`,
    `  宛先: ${plan.mailbox.display}`,
    `  テストを依頼した IP アドレス: ${ctx.callerIp}`,
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
    subject: testSubject(ctx.id),
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
    const lang = r.lang
    noteDeadlines(ctx)
    const at = new Date()
    const messageId = `<${ctx.id}.${randomBytes(4).toString('hex')}@${ctx.settings.heloName}>`
    const subject = testSubject(ctx.id)
    // Composed while the connection opens and the greeting, EHLO and TLS go back and forth.
    const message = composeTestMail(ctx, plan, messageId, at)
    const out = await deliverMessage(ctx, {
      ip: plan.ip,
      servername: plan.host,
      from: configuredMailbox(ctx.settings.mailFrom),
      to: plan.mailbox,
      utf8: plan.mailbox.utf8,
      message,
      lang
    })
    judgeDelivery(ctx, plan, out, { messageId, subject, at })
  }
}

/** Steps, advice, status and summary of one delivery. */
function judgeDelivery (ctx: CheckContext, plan: ReceivePlan, out: DeliveryOutcome, msg: { messageId: string, subject: string, at: Date }): void {
  const r = ctx.report
  const lang = r.lang
  const where = `${plan.host} (${plan.ip})`
  const last = out.sessions.at(-1) ?? null
  const timings: StageTiming[] = []
  const allReplies: Array<{ stage: string, reply: Reply }> = []
  for (const s of out.sessions) {
    const prefix = s.kind === 'first' ? '' : 'retry '
    for (const t of s.timings) timings.push({ stage: prefix + t.stage, ms: t.ms })
    allReplies.push(...s.replies)
  }
  const finishReport = (): void => {
    r.set('timings', timings)
    r.set('tls', last?.tls ?? null)
    explainReplies(r, allReplies)
  }
  const timing = (s: DeliverySession | null, stage: string): number | undefined =>
    s?.timings.filter((x) => x.stage === stage).reduce<number | undefined>((a, b) => (a ?? 0) + b.ms, undefined)
  const get = (s: DeliverySession | null, stage: string) => s?.replies.find((x) => x.stage === stage)

  for (const s of out.sessions) {
    if (s.kind === 'first') {
      r.step('connect', 'pass', bi(lang, `${plan.ip} の 25 番ポート (${plan.host})`, `${plan.ip} port 25 (${plan.host})`), s.connectMs)
    } else {
      r.step('reconnect', 'pass', bi(lang,
        `2 回目の接続 (暗号化なし): ${plan.ip} の 25 番ポート`,
        `second connection, without TLS: ${plan.ip} port 25`), s.connectMs)
    }
    stageStep(ctx, 'banner', get(s, 'banner'), timing(s, 'banner'))
    if (!s.ehlo) continue
    const ehloStage = get(s, 'helo') ? 'helo' : 'ehlo'
    stageStep(ctx, 'ehlo', get(s, ehloStage), (timing(s, 'ehlo') ?? 0) + (timing(s, 'helo') ?? 0))
    if (s.ehlo.code !== 250 || s.kind !== 'first') continue
    if (s.tls) {
      r.step('starttls', 'pass', bi(lang, '提供されていて、正常に使えます', 'offered and working'), (timing(s, 'starttls') ?? 0) + (timing(s, 'tls') ?? 0))
      // The receive test judges the delivery; certificate findings are the SMTP check's verdict.
      judgeTls(r, s.tls, false)
      judgeCertificate(r, s.tls, plan.host, false)
      stageStep(ctx, 'ehlo (tls)', get(s, 'ehlo (tls)'), timing(s, 'ehlo (tls)'))
    } else if (s.tlsError) {
      r.step('starttls', 'warn', bi(lang,
        `提供されていて「${s.starttls ? replyHeadline(s.starttls) : '220'}」と応答しましたが、TLS ハンドシェイクに失敗しました: ${s.tlsError.message}。接続し直して暗号化なしで配送を続けます`,
        `offered and answered "${s.starttls ? replyHeadline(s.starttls) : '220'}", but the TLS handshake failed: ${s.tlsError.message}; mxprobe connects again and delivers without TLS`))
      r.advise('smtp.tls_broken_receive', { reason: s.tlsError.message })
    } else if (s.starttls) {
      r.step('starttls', 'warn', bi(lang, `提供されていますが拒否されました: ${explainedDetail(s.starttls, lang)}`, `offered, but refused: ${explainedDetail(s.starttls, lang)}`))
      r.advise('smtp.starttls_failed', { reason: replyHeadline(s.starttls) })
    } else if (s.offered.has('STARTTLS')) {
      r.step('starttls', 'warn', bi(lang, '提供されていますが使えませんでした', 'offered, not used'))
    } else {
      r.step('starttls', 'info', bi(lang, 'STARTTLS が提供されていないため、テストメールは暗号化されずに届きます', 'STARTTLS is not offered: the test mail travels unencrypted'))
      r.advise('smtp.no_starttls', {})
    }
  }

  if (out.error) {
    // No connection, a silent or hostile server, a timeout: the server under test failed, not mxprobe.
    finishReport()
    const e = out.error
    if (!out.sessions.length) {
      r.step('connect', 'fail', e.message)
      adviseProbeError(ctx, e)
      adviseUnreachable(ctx, e, plan.ip)
    } else {
      r.step('dialogue', 'fail', e.message)
      // connected, then no reply in time: not a filtered port, a server that went quiet
      if (e.kind === 'timeout') r.advise('smtp.reply_timeout', { reason: e.message })
      else adviseProbeError(ctx, e)
    }
    r.finish(bi(lang, `受信テストを完了できませんでした: ${e.message}`, `the receive test could not be completed: ${e.message}`))
    return
  }

  if (out.refused && ['banner', 'ehlo', 'ehlo (tls)'].includes(out.refused.stage)) {
    // The server refused the session itself (a 554 greeting, EHLO and HELO both refused …).
    const { stage, reply } = out.refused
    if (stage === 'banner' && reply.code >= 500) r.advise('smtp.banner_refused', { reply: replyHeadline(reply) })
    finishReport()
    const head = replyHeadline(reply)
    r.finish(bi(lang,
      `${where} は ${stage} の段階でセッションを拒否しました: ${head}`,
      `${plan.host} refused the session at ${stage}: ${head}`))
    return
  }

  if (out.utf8Missing) {
    r.step('smtputf8', 'fail', bi(lang,
      `${plan.mailbox.display} 宛てには SMTPUTF8 が必要ですが、サーバーが提供していません`,
      `${plan.mailbox.display} needs SMTPUTF8, which the server does not offer`))
    r.advise('smtp.utf8_unsupported', { address: plan.mailbox.display })
    finishReport()
    r.finish(bi(lang,
      `サーバーは ${plan.mailbox.display} 宛てのメールを受け取れません: SMTPUTF8 に未対応です`,
      `the server cannot receive mail for ${plan.mailbox.display}: no SMTPUTF8`))
    return
  }

  const m = out.message!
  r.set('message', { messageId: msg.messageId, subject: msg.subject, date: msg.at.toISOString(), bytes: out.messageBytes })
  const mailStage = (stage: string, reply: Reply | null): void => {
    if (!reply) return
    const x = { stage, reply }
    const t = timing(last, stage)
    // A refused DATA after a refused RCPT is only the consequence: say so (codes.ts),
    // and weigh it as that RCPT (a deferred recipient stays a warning).
    if (stage === 'data' && reply.code >= 500 && m.rcpt && m.rcpt.code >= 400) {
      r.step('data', m.rcpt.code >= 500 ? 'fail' : 'warn', explainedDetail(reply, lang, { afterRefusedRcpt: true }), t)
      return
    }
    stageStep(ctx, stage, x, t)
  }
  mailStage('mail', m.mail)
  mailStage('rcpt', m.rcpt)
  mailStage('data', m.data)
  mailStage('end of data', m.end)
  const delivery: DeliveryResult = {
    messageId: msg.messageId,
    response: out.response,
    queueId: out.queueId,
    accepted: out.accepted,
    tls: !!last?.tls,
    pipelined: m.pipelined,
    sessions: out.sessions.length
  }
  r.set('delivery', delivery)
  finishReport()

  if (out.accepted) {
    const q = out.queueId
    const clear = out.sessions.some((s) => s.tlsError)
    // STARTTLS offered but broken or refused: the mail arrives, unencrypted, and some senders give up.
    // (its starttls step is a warning, so the verdict is one)
    r.finish(bi(lang,
      `テストメールは ${where} に受け付けられました${q ? ` (キュー ID ${q})` : ''}: 件名「${msg.subject}」のメールが ${plan.mailbox.display} のメールボックスに届いているか確認してください${clear ? '。ただし TLS ハンドシェイクに失敗したため、暗号化なしで配送しました' : ''}`,
      `the test mail was accepted by your server ${where}${q ? `, queue id ${q}` : ''}: look for the subject "${msg.subject}" in the mailbox of ${plan.mailbox.display}${clear ? '. The TLS handshake failed, so it went without encryption' : ''}`))
    return
  }
  const refused = out.refused
  if (!refused) {
    // Every reply was positive and yet no final 2xx: a server that stopped answering is caught as out.error.
    const why = bi(lang, 'サーバーはテストメールを受け付けませんでした', 'the server did not accept the test mail')
    r.step('delivery', 'fail', why)
    r.finish(why)
    return
  }
  const reply = refused.reply
  const head = replyHeadline(reply)
  if (reply.code < 500) {
    if (looksGreylisted(reply)) r.advise('smtp.greylisted', { reply: head, helo: ctx.settings.heloName })
    r.finish(bi(lang,
      `サーバーはテストメールを ${refused.stage} の段階で一時的に断りました: ${head}`,
      `the server deferred the test mail at ${refused.stage}: ${head}`))
    return
  }
  if (refused.stage === 'mail') r.advise('smtp.mail_refused', { from: ctx.settings.mailFrom, reply: head })
  else if (refused.stage === 'rcpt') {
    const unknown = reply.enhanced === '5.1.1' || /unknown|no such|does not exist|not found|invalid recipient/i.test(reply.lines.join(' '))
    r.advise(unknown ? 'smtp.rcpt_unknown' : 'smtp.rcpt_refused', { address: plan.mailbox.display, domain: plan.mailbox.domain.unicode, reply: head })
  } else r.advise('smtp.data_refused', { reply: head })
  r.finish(bi(lang,
    `サーバーはテストメールを ${refused.stage} の段階で拒否しました: ${head}`,
    `the server refused the test mail at ${refused.stage}: ${head}`))
}

function stageStep (ctx: CheckContext, name: string, x: { stage: string, reply: Reply } | undefined, ms: number | undefined): Status | null {
  if (!x) return null
  const lang = ctx.report.lang
  const st: Status = x.reply.code < 400 ? 'pass' : x.reply.code < 500 ? 'warn' : 'fail'
  const ok = x.stage.startsWith('ehlo') && x.reply.code === 250
    ? bi(lang, '拡張機能: ', 'extensions: ') + ([...parseEhlo(x.reply).entries()].map(([k, v]) => [k, ...v].join(' ')).join(', ') || bi(lang, 'なし', 'none'))
    : replyHeadline(x.reply)
  ctx.report.step(name, st, st === 'pass' ? ok : explainedDetail(x.reply, lang), ms)
  return st
}
