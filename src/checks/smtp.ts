// The SMTP server check: talk to the caller's own MX like a sending server
// would, without sending a mail. Greeting, EHLO extensions, STARTTLS and
// the certificate, reverse DNS, and whether postmaster is accepted
// (RFC 5321 §4.5.1). MAIL FROM + RCPT TO:<postmaster> is followed by RSET,
// and the session ends with QUIT.
import type { CheckContext, CheckDefinition } from './context.js'
import type { ReportBuilder, Status, StepStatus } from '../core/report.js'
import { worst } from '../core/report.js'
import { mailTargetFor } from './mailhosts.js'
import { forwardConfirmedPtr, reportPtr } from './dns.js'
import { SmtpClient, POSTMASTER, type TlsInfo } from '../smtp/client.js'
import { handshakeFacts } from '../tls/probe.js'
import { configuredMailbox } from '../smtp/address.js'
import { explainReply, explainedDetail, looksGreylisted } from '../smtp/codes.js'
import { replyHeadline, type Reply } from '../smtp/reply.js'
import { ProbeError } from '../errors.js'
import { unreachableSummary } from './runner.js'
import { understandDomain, noteUnderstood } from './target-input.js'
import { bi } from '../i18n/index.js'

export interface SmtpInput { domain: string }
export interface MailPlan { domain: string, host: string, ip: string }

/** RFC 5321 §4.5.3.2: what a sending client should wait, in ms. */
export const RFC5321_TIMEOUTS = { greeting: 300_000, mail: 300_000, rcpt: 300_000, dataInit: 120_000, dataBlock: 180_000, dataEnd: 600_000 }

/**
 * When mxprobe's limits are shorter than the RFC's, say so once, as an info
 * step: a detail for the curious, not advice (it is no finding about the
 * server, so it never comes first).
 */
export function noteDeadlines (ctx: CheckContext): void {
  const s = ctx.settings
  if (s.bannerTimeoutMs < RFC5321_TIMEOUTS.greeting || s.commandTimeoutMs < RFC5321_TIMEOUTS.mail) {
    const p = { banner: Math.round(s.bannerTimeoutMs / 100) / 10, command: Math.round(s.commandTimeoutMs / 100) / 10, total: Math.round(s.checkDeadlineMs / 1000) }
    ctx.report.step('deadlines', 'info', bi(ctx.lang,
      `mxprobe は挨拶を ${p.banner} 秒、各応答を ${p.command} 秒まで待ちます (テスト全体で最長 ${p.total} 秒)。RFC 5321 4.5.3.2 節が送信側に求める待ち時間 (挨拶・MAIL・RCPT は 5 分、本文の後は 10 分) より短い設定です`,
      `mxprobe waits ${p.banner} s for the greeting and ${p.command} s per reply (the whole check at most ${p.total} s); RFC 5321 §4.5.3.2 asks senders to wait 5 min for the greeting, MAIL and RCPT and 10 min after the message`))
  }
}

/** Every 4xx/5xx reply of a session, explained in both languages (advice `smtp.reply`). */
export function explainReplies (r: ReportBuilder, replies: Array<{ stage: string, reply: Reply }>): void {
  // RCPT replies of the current transaction: a DATA refused after all of them were refused is their consequence.
  let rcpts = 0
  let rcptsOk = 0
  for (const { stage, reply } of replies) {
    if (stage === 'mail' || stage === 'rset') { rcpts = 0; rcptsOk = 0 }
    if (stage === 'rcpt') { rcpts++; if (reply.code < 400) rcptsOk++ }
    if (reply.code < 400) continue
    // One paragraph per cause: greylisting already has its own advice.
    if (looksGreylisted(reply) && r.report.advice.some((a) => a.code === 'smtp.greylisted')) continue
    const e = explainReply(reply, { afterRefusedRcpt: stage === 'data' && rcpts > 0 && rcptsOk === 0 })
    r.advise('smtp.reply', { stage, reply: replyHeadline(reply), code: e.code, en: e.en, ja: e.ja })
  }
}

/** Probe failures get the checklist a home-server owner should go through. */
export function adviseUnreachable (ctx: CheckContext, err: unknown, ip: string): void {
  if (!(err instanceof ProbeError)) return
  const lang = ctx.lang
  const what: Record<string, string> = {
    refused: bi(lang, '接続拒否', 'connection refused'),
    timeout: bi(lang, '応答なし: 遮断', 'no answer: filtered'),
    unreachable: bi(lang, '到達不能', 'unreachable'),
    closed: bi(lang, 'サーバーが切断', 'closed by the server'),
    silent: bi(lang, '挨拶なし', 'no greeting')
  }
  if (what[err.kind]) ctx.report.advise('smtp.unreachable_checklist', { ip, what: what[err.kind] })
}

function stepFor (status: StepStatus, r: Reply, lang: 'ja' | 'en'): string {
  return status === 'pass' || status === 'info' ? replyHeadline(r) : explainedDetail(r, lang)
}

/**
 * Certificate findings as a step and advice. `finding: false` (the receive
 * test, whose verdict is the delivery) records the same step as `info`: the
 * advice still says what is wrong, the verdict is the SMTP check's business.
 */
export function judgeCertificate (r: ReportBuilder, t: TlsInfo, host: string, finding = true): void {
  const statuses: Status[] = []
  const lang = r.lang
  if (!t.cert) {
    r.step('certificate', finding ? 'warn' : 'info', bi(lang, 'サーバーが証明書を提示しませんでした', 'the server presented no certificate'))
    return
  }
  const c = t.cert
  const parts = lang === 'ja'
    ? [`サブジェクト ${c.subject}`, `SAN ${c.san.join(', ') || 'なし'}`, `発行者 ${c.issuer}`, `有効期間 ${c.validFrom.slice(0, 10)} 〜 ${c.validTo.slice(0, 10)} (残り ${c.daysLeft} 日)`,
        t.nameMatches === null ? '' : t.nameMatches ? `${host} と一致` : `${host} と不一致`, c.selfSigned ? '自己署名' : t.authorized ? '証明書チェーン検証済み' : `証明書チェーンを検証できません: ${t.authorizationError}`].filter(Boolean)
    : [`subject ${c.subject}`, `SAN ${c.san.join(', ') || 'none'}`, `issuer ${c.issuer}`, `valid ${c.validFrom.slice(0, 10)} to ${c.validTo.slice(0, 10)} (${c.daysLeft} days left)`,
        t.nameMatches === null ? '' : t.nameMatches ? `matches ${host}` : `does not match ${host}`, c.selfSigned ? 'self-signed' : t.authorized ? 'chain verified' : `chain not verified: ${t.authorizationError}`].filter(Boolean)
  if (c.daysLeft < 0) { statuses.push('fail'); r.advise('smtp.cert_expired', { validTo: c.validTo }) } else if (c.daysLeft < 14) { statuses.push('warn'); r.advise('smtp.cert_expiring', { days: c.daysLeft, validTo: c.validTo }) }
  if (c.selfSigned) { statuses.push('warn'); r.advise('smtp.cert_self_signed', { subject: c.subjectCN ?? c.subject, host }) } else if (!t.authorized) { statuses.push('warn'); r.advise('smtp.cert_untrusted', { reason: t.authorizationError ?? 'unknown' }) }
  if (t.nameMatches === false) { statuses.push('warn'); r.advise('smtp.cert_name_mismatch', { host, names: c.san.length ? c.san.map((n) => n.replace(/^DNS:/, '')) : [c.subjectCN ?? c.subject] }) }
  const st = worst(...statuses)
  r.step('certificate', finding || st === 'pass' ? st : 'info', parts.join('; '))
}

/** The TLS version and cipher as a step; `finding` as in judgeCertificate. */
export function judgeTls (r: ReportBuilder, t: TlsInfo, finding = true): void {
  const old = t.protocol === 'TLSv1' || t.protocol === 'TLSv1.1' || t.protocol === 'SSLv3'
  r.step('tls', !old ? 'pass' : finding ? 'warn' : 'info', bi(r.lang, `${t.protocol ?? '?'}、暗号スイート ${t.cipher ?? '?'}${old ? ' (古いバージョンです)' : ''}`, `${t.protocol ?? '?'}, cipher ${t.cipher ?? '?'}${old ? ' (outdated)' : ''}`))
}

/** The first word of the greeting text: the name the server calls itself. */
export function bannerName (banner: Reply): string | null {
  const w = (banner.lines[0] ?? '').trim().split(/\s+/)[0]
  return w && /^[A-Za-z0-9.-]+$/.test(w) ? w.toLowerCase().replace(/\.$/, '') : null
}

export async function prepareMailTarget (ctx: CheckContext, domainInput: unknown): Promise<MailPlan> {
  const u = understandDomain(domainInput)
  const d = u.domain
  ctx.report.target({ domain: d.ascii })
  noteUnderstood(ctx.report, u)
  const { match } = await mailTargetFor(ctx, d.ascii)
  ctx.report.target({ host: match.host.host, ip: match.address.address })
  return { domain: d.ascii, host: match.host.host, ip: match.address.address }
}

export const smtpCheck: CheckDefinition<SmtpInput, MailPlan> = {
  type: 'smtp',
  probes: true,
  async prepare (ctx, input) {
    return await prepareMailTarget(ctx, input.domain)
  },
  async run (ctx, plan) {
    const r = ctx.report
    const lang = r.lang
    noteDeadlines(ctx)
    const ptrP = forwardConfirmedPtr(ctx, plan.ip)

    let c: SmtpClient
    try {
      c = await SmtpClient.open(ctx, plan.ip, { servername: plan.host })
    } catch (err) {
      r.step('connect', 'fail', err instanceof ProbeError ? unreachableSummary(lang, err, plan.ip, 25) : (err as Error).message)
      adviseUnreachable(ctx, err, plan.ip)
      throw err
    }
    try {
      r.step('connect', 'pass', bi(lang, `${plan.ip} のポート 25 (${plan.host})`, `${plan.ip} port 25 (${plan.host})`), c.connectMs)
      const banner = c.banner!
      const bannerMs = c.timings.find((x) => x.stage === 'banner')?.ms
      if (banner.code !== 220) {
        const st: Status = banner.code >= 500 ? 'fail' : 'warn'
        r.step('banner', st, stepFor(st, banner, lang), bannerMs)
        if (banner.code === 554 || banner.code === 521) r.advise('smtp.banner_refused', { reply: replyHeadline(banner) })
        explainReplies(r, c.replies)
        await c.quit()
        r.finish(bi(lang, `${plan.host} (${plan.ip}) は接続直後に拒否しました: ${replyHeadline(banner)}`, `${plan.host} (${plan.ip}) refused the session: ${replyHeadline(banner)}`))
        return
      }
      r.step('banner', 'pass', replyHeadline(banner), bannerMs)

      const ptr = await ptrP
      r.set('ptr', ptr)
      const name = bannerName(banner)
      reportPtr(r, plan.ip, ptr)
      const names = [...ptr.names, plan.host].map((n) => n.toLowerCase())
      if (name && names.includes(name)) {
        r.step('banner name', 'pass', bi(lang, `挨拶のホスト名 ${name} は${ptr.names.includes(name) ? ` ${plan.ip} の逆引き` : ' MX ホスト'}と一致します`, `the greeting names ${name}, ${ptr.names.includes(name) ? 'the PTR of ' + plan.ip : 'the MX host'}`))
      } else {
        r.step('banner name', 'info', bi(lang, `挨拶のホスト名: ${name ?? '(なし)'}、逆引き: ${ptr.names.join(', ') || 'なし'}、MX: ${plan.host}`, `the greeting names ${name ?? '(nothing)'}; PTR: ${ptr.names.join(', ') || 'none'}; MX: ${plan.host}`))
        r.advise('smtp.banner_name_mismatch', { banner: name ?? replyHeadline(banner), ip: plan.ip, ptr: ptr.names.join(', '), host: plan.host })
      }

      const ehlo = await c.ehlo()
      const ehloMs = c.timings.filter((x) => x.stage === 'ehlo' || x.stage === 'helo').reduce((a, b) => a + b.ms, 0)
      if (ehlo.code !== 250) {
        r.step(c.usedHelo ? 'helo' : 'ehlo', 'fail', stepFor('fail', ehlo, lang), ehloMs)
        explainReplies(r, c.replies)
        await c.quit()
        r.finish(bi(lang, `${plan.host} は EHLO も HELO も拒否しました: ${replyHeadline(ehlo)}`, `${plan.host} refused EHLO and HELO: ${replyHeadline(ehlo)}`))
        return
      }
      if (c.usedHelo) {
        r.step('ehlo', 'warn', bi(lang, 'EHLO は拒否され、HELO は受け付けられました (ESMTP の拡張機能なし)', 'EHLO refused; HELO accepted (no ESMTP extensions)'), ehloMs)
        r.advise('smtp.helo_only', {})
      } else {
        r.step('ehlo', 'pass', bi(lang, '拡張機能: ', 'extensions: ') + ([...c.extensions.entries()].map(([k, v]) => [k, ...v].join(' ')).join(', ') || bi(lang, 'なし', 'none')), ehloMs)
      }

      let tls: TlsInfo | null = null
      if (c.supports('STARTTLS')) {
        try {
          const res = await c.startTls()
          const ms = c.timings.filter((x) => x.stage === 'starttls' || x.stage === 'tls').reduce((a, b) => a + b.ms, 0)
          if (!res.tls) {
            r.step('starttls', 'fail', bi(lang, `提供されていますが拒否されました: ${stepFor('fail', res.reply, lang)}`, `offered, but refused: ${stepFor('fail', res.reply, lang)}`), ms)
            r.advise('smtp.starttls_failed', { reason: replyHeadline(res.reply) })
          } else {
            tls = res.tls
            if (ctx.handshakes && c.tlsSocket) ctx.handshakes.offer(plan.ip, 25, handshakeFacts(c.tlsSocket, ms))
            r.step('starttls', 'pass', bi(lang, '提供されていて、正常に動作します', 'offered and working'), ms)
            judgeTls(r, tls)
            judgeCertificate(r, tls, plan.host)
          }
        } catch (err) {
          if (err instanceof ProbeError && err.kind === 'tls') {
            r.step('starttls', 'fail', err.message)
            r.advise('smtp.starttls_failed', { reason: err.message })
            // The handshake took the session with it; go on over a fresh plain one.
            c.close()
            r.line('I', bi(lang, 'テストを続けるため、STARTTLS なしで接続し直します', 'reconnecting without STARTTLS to finish the check'))
            c = await SmtpClient.open(ctx, plan.ip, { servername: plan.host })
            await c.ehlo()
          } else {
            throw err
          }
        }
      } else {
        r.step('starttls', 'warn', bi(lang, 'STARTTLS が提供されていません。メールは暗号化されずに届きます', 'STARTTLS is not offered: mail reaches this server unencrypted'))
        r.advise('smtp.no_starttls', {})
      }
      r.set('tls', tls)

      const size = c.sizeLimit
      if (size === null) r.step('size', 'info', bi(lang, 'SIZE の広告なし: 上限はメールを送るまでわかりません', 'SIZE not advertised: the limit is unknown until a message is sent'))
      else if (size === 0) r.step('size', 'pass', bi(lang, 'SIZE は広告されていますが、上限は決まっていません', 'SIZE advertised without a fixed limit'))
      else if (size < 10_000_000) {
        r.step('size', 'warn', bi(lang, `1 通あたり最大 ${size} バイト`, `at most ${size} bytes per message`))
        r.advise('smtp.size_small', { size, mb: Math.round(size / 100_000) / 10 })
      } else r.step('size', 'pass', bi(lang, `1 通あたり最大 ${size} バイト (${Math.round(size / 100_000) / 10} MB)`, `at most ${size} bytes per message (${Math.round(size / 100_000) / 10} MB)`))
      for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8']) {
        r.step(ext, c.supports(ext) ? 'pass' : 'info', c.supports(ext) ? bi(lang, '対応', 'offered') : bi(lang, '非対応', 'not offered'))
      }

      // RFC 5321 §4.5.1: postmaster without a domain must be accepted.
      const batch = await c.envelopeBatch(configuredMailbox(ctx.settings.mailFrom), [POSTMASTER])
      const mailMs = c.timings.filter((x) => x.stage === 'mail').at(-1)?.ms
      if (batch.mail.code >= 400) {
        const st: Status = batch.mail.code >= 500 ? 'fail' : 'warn'
        r.step('mail from', st, stepFor(st, batch.mail, lang), mailMs)
        r.advise('smtp.mail_refused', { from: ctx.settings.mailFrom, reply: replyHeadline(batch.mail) })
      } else {
        r.step('mail from', 'pass', replyHeadline(batch.mail), mailMs)
      }
      const pm = batch.rcpts[0]
      const rcptMs = c.timings.filter((x) => x.stage === 'rcpt').at(-1)?.ms
      if (!pm) {
        r.step('postmaster', 'skip', bi(lang, 'MAIL FROM が拒否されたため、テストしていません', 'not tried: MAIL FROM was refused'))
      } else if (pm.code < 400) {
        r.step('postmaster', 'pass', bi(lang, `RCPT TO:<postmaster> は受け付けられました: ${replyHeadline(pm)}`, `RCPT TO:<postmaster> accepted: ${replyHeadline(pm)}`), rcptMs)
      } else if (pm.code < 500) {
        r.step('postmaster', 'warn', stepFor('warn', pm, lang), rcptMs)
        if (looksGreylisted(pm)) r.advise('smtp.greylisted', { reply: replyHeadline(pm), helo: ctx.settings.heloName })
      } else {
        r.step('postmaster', 'fail', stepFor('fail', pm, lang), rcptMs)
        r.advise('smtp.postmaster_refused', { reply: replyHeadline(pm) })
      }
      r.set('smtp', {
        banner: replyHeadline(banner),
        bannerName: name,
        esmtp: !c.usedHelo,
        extensions: Object.fromEntries(c.extensions),
        starttls: tls !== null,
        sizeLimit: size,
        pipelining: c.supports('PIPELINING'),
        eightBitMime: c.supports('8BITMIME'),
        smtpUtf8: c.supports('SMTPUTF8'),
        postmasterAccepted: pm ? pm.code < 400 : null,
        pipelinedProbe: batch.pipelined
      })
      const quit = await c.quit()
      r.step('quit', quit?.code === 221 ? 'pass' : 'info', quit ? replyHeadline(quit) : bi(lang, 'QUIT に応答がありません', 'no reply to QUIT'))
      r.set('timings', c.timings)
      explainReplies(r, c.replies)
      const status = r.verdict()
      r.finish(status === 'pass'
        ? bi(lang, `${plan.host} (${plan.ip}) は SMTP を正しく話します${tls ? ' (STARTTLS も正常)' : ''}`, `${plan.host} (${plan.ip}) speaks SMTP correctly${tls ? ' with working STARTTLS' : ''}`)
        : status === 'warn'
          ? bi(lang, `${plan.host} (${plan.ip}) は動作していますが、注意点があります`, `${plan.host} (${plan.ip}) works, with warnings`)
          : bi(lang, `${plan.host} (${plan.ip}) に問題があります`, `${plan.host} (${plan.ip}) has problems`))
    } catch (err) {
      explainReplies(r, c.replies)
      r.set('timings', c.timings)
      c.close()
      adviseUnreachable(ctx, err, plan.ip)
      throw err
    }
  }
}
