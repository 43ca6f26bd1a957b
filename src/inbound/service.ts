// The send test's state machine, shared by every instance through the
// store: a one-time address is created by the instance the caller asked
// (the check's `prepare`), taken by whichever instance's listener gets the
// RCPT, and settled exactly once, either by that listener (mail accepted →
// analysis → optional reply → finished report) or by the expiry sweep that
// every instance runs (deadline passed → `fail` with the likely causes).
// The report is written by resuming the stored one, so the caller's event
// stream on any instance sees it grow.
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Store, InboundAddress } from '../store/types.js'
import type { DnsClient } from '../dns/resolver.js'
import type { GuardedConnector } from '../net/connect.js'
import type { CheckSettings } from '../checks/context.js'
import type { InboundSettings } from '../config.js'
import { ReportBuilder, type Report, type ReportEvent, type Status, type StepStatus } from '../core/report.js'
import { registerAdvice, bi, type Lang } from '../i18n/index.js'
import { SEND_ADVICE } from '../i18n/advice/send.js'
import { parseIp, rateLimitKey } from '../net/ip.js'
import { analyzeMail, type InboundFindings, type ReceivedMail } from './analyze.js'
import { AnalysisPool } from './pool.js'
import { MAX_SIGNATURES } from './bound.js'
import { composeReply, sendReply, type ReplyOutcome } from './reply.js'
import { senderRules, rulesStepDetail, type SenderRulesVerdict } from './sender-rules.js'
import { senderRulesText } from '../i18n/sender-rules.js'

registerAdvice(SEND_ADVICE)

export interface SendServiceDeps {
  store: Store
  dns: DnsClient
  connector: GuardedConnector
  log: Logger
  settings: CheckSettings
  inbound: InboundSettings
  reportTtlSeconds: number
  onFinish?: (r: Report) => void
}

/** Step titles of the send test, in both languages. */
const TITLES: Record<string, { ja: string, en: string }> = {
  'send-address': { ja: 'テスト用アドレス', en: 'Test address' },
  'send-arrival': { ja: 'メールの到着', en: 'Mail arrival' },
  'send-ip': { ja: '送信元 IP アドレス', en: 'Sending IP address' },
  'send-ptr': { ja: '逆引き (PTR)', en: 'Reverse DNS (PTR)' },
  'send-helo': { ja: 'HELO の名前', en: 'HELO name' },
  'send-tls': { ja: '暗号化 (STARTTLS)', en: 'Encryption (STARTTLS)' },
  'send-envelope': { ja: 'エンベロープ送信者', en: 'Envelope sender' },
  'send-spf': { ja: 'SPF (MAIL FROM)', en: 'SPF (MAIL FROM)' },
  'send-spf-helo': { ja: 'SPF (HELO)', en: 'SPF (HELO)' },
  'send-dkim': { ja: 'DKIM 署名', en: 'DKIM signature' },
  'send-dmarc': { ja: 'DMARC', en: 'DMARC' },
  'send-dnsbl': { ja: 'ブラックリスト (DNSBL)', en: 'Block lists (DNSBL)' },
  'send-message': { ja: 'メールの内容', en: 'The message' },
  'send-headers': { ja: 'ヘッダーの解析', en: 'Header analysis' },
  'send-rules': { ja: senderRulesText('ja').stepTitle, en: senderRulesText('en').stepTitle },
  'send-analysis': { ja: '解析', en: 'Analysis' },
  'send-reply': { ja: '返信', en: 'Reply' }
}

export function sendStepTitle (name: string, lang: Lang): string {
  return TITLES[name]?.[lang] ?? name
}

/**
 * What one send-test report may store: a hostile mail's report stays at a few hundred KiB.
 * Lines beyond the cap, steps beyond the cap and transcript events beyond the byte cap are
 * dropped, with one "truncated" note each.
 */
export const REPORT_CAPS = { transcriptLines: 400, lineChars: 512, steps: 40, eventBytes: 256 * 1024 }

/** Bounds a report writer to REPORT_CAPS (its stored transcript and steps; the event bytes are capped in open()). */
export function capWriter (b: ReportBuilder): void {
  const line = b.line.bind(b)
  const step = b.step.bind(b)
  let stepsCut = false
  b.line = (dir, text, at) => {
    const n = b.report.transcript.length
    if (n > REPORT_CAPS.transcriptLines) return
    if (n === REPORT_CAPS.transcriptLines) { line('I', bi(b.lang, `… ここから先のやりとりは省略しました (1 件の結果に ${REPORT_CAPS.transcriptLines} 行まで)`, `… transcript truncated (at most ${REPORT_CAPS.transcriptLines} lines per report)`)); return }
    line(dir, text.length > REPORT_CAPS.lineChars ? text.slice(0, REPORT_CAPS.lineChars) + '…' : text, at)
  }
  b.step = (name, status, detail, ms, title) => {
    if (b.report.steps.length >= REPORT_CAPS.steps) {
      if (!stepsCut) { stepsCut = true; line('I', bi(b.lang, `… これ以降の確認結果は省略しました (1 件の結果に ${REPORT_CAPS.steps} 項目まで)`, `… further results omitted (at most ${REPORT_CAPS.steps} steps per report)`)) }
      return { name, title: title ?? name, status, detail }
    }
    return step(name, status, detail.length > 4 * REPORT_CAPS.lineChars ? detail.slice(0, 4 * REPORT_CAPS.lineChars) + '…' : detail, ms, title)
  }
}

/** the local part of a one-time address */
export const TOKEN_RE = /^t-([0-9a-f]{20})$/

export interface SendInput { domain: string, reply?: boolean }

export class SendService {
  readonly enabled: boolean
  /** completions running in this process (shutdown waits for them) */
  readonly running = new Set<Promise<unknown>>()
  private sweeper: NodeJS.Timeout | null = null
  private sweeping = false
  /** analyses running now, and those waiting for a turn (a burst of mails must not starve the event loop) */
  private active = 0
  private readonly queue: Array<() => void> = []
  static maxConcurrentAnalyses = 8

  /** the worker threads that read the received messages (started with the first mail) */
  readonly pool: AnalysisPool

  constructor (readonly deps: SendServiceDeps) {
    this.enabled = deps.inbound.listen !== null
    this.pool = new AnalysisPool({
      threads: deps.inbound.analysisThreads,
      budgetMs: deps.inbound.analysisBudgetMs,
      nice: deps.inbound.analysisNice,
      onError: (err) => deps.log.error({ err }, 'send test analysis worker failed'),
      onPrinted: (lines) => deps.log.debug({ lines }, 'send test analysis: library output dropped')
    })
  }

  get domain (): string { return this.deps.inbound.domain }

  addressOf (token: string): string { return `t-${token}@${this.deps.inbound.domain}` }

  private callerSlot (ip: string): string {
    const p = parseIp(ip)
    return `send-caller:${p ? rateLimitKey(p) : ip}`
  }

  /**
   * A new one-time address for the caller, bounded per caller and in all.
   * Returns null when the caller (or everyone) holds as many live addresses as allowed.
   */
  async create (reportId: string, callerIp: string, domain: string, reply: boolean, lang: Lang): Promise<{ rec: InboundAddress } | { busy: 'caller' | 'total' }> {
    const { store, inbound } = this.deps
    const token = randomBytes(10).toString('hex')
    const now = Date.now()
    const ttlMs = inbound.waitSeconds * 1000 + inbound.sessionMaxMs + 60_000
    if (!await store.acquireSlot('send-total', token, inbound.addressesTotal, ttlMs)) return { busy: 'total' }
    if (!await store.acquireSlot(this.callerSlot(callerIp), token, inbound.addressesPerCaller, ttlMs)) {
      await store.releaseSlot('send-total', token).catch(() => {})
      return { busy: 'caller' }
    }
    const rec: InboundAddress = { token, reportId, callerIp, domain, reply, lang, createdAt: now, expiresAt: now + inbound.waitSeconds * 1000, state: 'waiting' }
    // Kept an hour beyond the deadline, so a late or second use is told "expired" or "already used".
    await store.inboundCreate(rec, inbound.waitSeconds + 3600)
    return { rec }
  }

  private async settle (rec: InboundAddress): Promise<void> {
    const { store } = this.deps
    await Promise.allSettled([store.inboundSettled(rec.token), store.releaseSlot('send-total', rec.token), store.releaseSlot(this.callerSlot(rec.callerIp), rec.token)])
  }

  /** Take the stored report to go on writing it; null when it is gone or already over. */
  private async open (id: string): Promise<{ b: ReportBuilder, flush: () => Promise<void> } | null> {
    const { store, log, reportTtlSeconds: ttl } = this.deps
    const report = await store.getReport(id)
    if (!report || report.status !== 'running') return null
    const events = await store.getEvents(id, 0)
    const last = events.reduce((m, e) => Math.max(m, e.seq), 0)
    // Events of one tick go to the store as one batch (as the runner does): a
    // dialogue of many lines costs a few Redis round trips, not one per line.
    let chain: Promise<void> = Promise.resolve()
    let batch: ReportEvent[] = []
    let scheduled = false
    // Transcript events beyond the byte cap are not stored (the report's own transcript is capped too).
    let lineBytes = events.reduce((n, e) => n + (e.type === 'transcript' ? Buffer.byteLength(e.data.text) + 40 : 0), 0)
    let cutNoted = false
    const flushBatch = (): void => {
      scheduled = false
      if (!batch.length) return
      const evs = batch
      batch = []
      chain = chain.then(() => store.appendEvents
        ? store.appendEvents(id, evs, ttl)
        : evs.reduce<Promise<void>>((p, ev) => p.then(() => store.appendEvent(id, ev, ttl)), Promise.resolve())
      ).catch((err) => { log.warn({ err, id, events: evs.length }, 'send test events not stored') })
    }
    const emit = (ev: ReportEvent): void => {
      if (ev.type === 'transcript') {
        lineBytes += Buffer.byteLength(ev.data.text) + 40
        if (lineBytes > REPORT_CAPS.eventBytes) {
          if (cutNoted) return
          cutNoted = true
          ev = { ...ev, data: { ...ev.data, dir: 'I', text: bi(report.lang ?? 'en', `… ここから先のやりとりはライブ表示から省略しました (${REPORT_CAPS.eventBytes / 1024} KiB まで)`, `… live transcript truncated at ${REPORT_CAPS.eventBytes / 1024} KiB`) } }
        }
      }
      batch.push(ev)
      if (!scheduled) { scheduled = true; setImmediate(flushBatch) }
    }
    const b = ReportBuilder.resume(report, last, emit)
    capWriter(b)
    return {
      b,
      flush: async () => {
        flushBatch()
        await chain
        await store.saveReport(b.report, ttl)
      }
    }
  }

  private step (b: ReportBuilder, name: string, status: StepStatus, detail: string, ms?: number): void {
    b.step(name, status, detail, ms, sendStepTitle(name, b.lang))
  }

  // ---- the listener's calls

  /** RCPT for this token: take it (one session at a time), or say why not. */
  async claim (token: string): Promise<{ ok: true, rec: InboundAddress } | { ok: false, why: 'unknown' | 'expired' | 'used' | 'busy' }> {
    const now = Date.now()
    const t = await this.deps.store.inboundTransition(token, ['waiting'], 'receiving', now, { requireLive: true })
    if (t.ok && t.rec) return { ok: true, rec: t.rec }
    if (!t.rec) return { ok: false, why: 'unknown' }
    if (t.rec.state === 'expired' || now >= t.rec.expiresAt) return { ok: false, why: 'expired' }
    if (t.rec.state === 'used') return { ok: false, why: 'used' }
    return { ok: false, why: 'busy' }
  }

  /** A session that took the address ended without a message: note why, and free it for another try. */
  async release (rec: InboundAddress, note: { ip: string, reason: string }): Promise<void> {
    try {
      const o = await this.open(rec.reportId)
      if (o) {
        o.b.info(bi(o.b.lang, `${note.ip} から接続がありましたが、メールを受け取る前に終わりました: ${note.reason}`, `a session from ${note.ip} ended before a message was accepted: ${note.reason}`))
        await o.flush()
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'send test note not stored')
    }
    await this.deps.store.inboundTransition(rec.token, ['receiving'], 'waiting', Date.now()).catch(() => {})
  }

  /** The listener answered 250 to the message: analyse it and finish the report (in the background). */
  accepted (rec: InboundAddress, mail: ReceivedMail): Promise<Report | null> {
    const p = this.turn(() => this.complete(rec, mail)).catch(async (err) => {
      this.deps.log.error({ err, token: rec.token }, 'send test completion failed')
      await this.finishWithError(rec.reportId, (err as Error).message)
      return null
    })
    this.running.add(p)
    p.finally(() => {
      this.running.delete(p)
      this.deps.store.inboundSettled(rec.token).catch(() => {})
    }).catch(() => {})
    return p
  }

  private async turn<T> (fn: () => Promise<T>): Promise<T> {
    if (this.active >= SendService.maxConcurrentAnalyses) await new Promise<void>((resolve) => this.queue.push(resolve))
    this.active++
    try {
      return await fn()
    } finally {
      this.active--
      this.queue.shift()?.()
    }
  }

  /** mxprobe's own trouble (the store timing out under load …): the report must not stay `running`. */
  private async finishWithError (id: string, reason: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const o = await this.open(id)
        if (!o) return
        o.b.advise('net.error', { reason })
        const why = bi(o.b.lang, `メールは届きましたが、mxprobe 側の問題で結果をまとめられませんでした: ${reason}`, `the mail arrived, but mxprobe could not complete the report: ${reason}`)
        o.b.step('mxprobe', 'error', why)
        o.b.finish(why)
        await o.flush()
        this.deps.onFinish?.(o.b.report)
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)))
      }
    }
  }

  private async complete (rec: InboundAddress, mail: ReceivedMail): Promise<Report | null> {
    const { store, inbound, settings } = this.deps
    const t = await store.inboundTransition(rec.token, ['receiving'], 'used', Date.now())
    // The slots are free now, but the token stays on the sweep, due when this analysis should
    // long be over: if this instance dies mid-analysis, another instance's sweep finds the
    // report still running and ends it (expire() below). accepted() takes it off when done.
    await Promise.allSettled([store.releaseSlot('send-total', rec.token), store.releaseSlot(this.callerSlot(rec.callerIp), rec.token)])
    if (!t.ok) { await store.inboundSettled(rec.token).catch(() => {}); return null }
    await store.inboundDueAt(rec.token, Date.now() + this.analysisGraceMs()).catch(() => {})
    const o = await this.open(rec.reportId)
    if (!o) return null
    const { b } = o
    const lang = b.lang
    const address = this.addressOf(rec.token)
    b.info(bi(lang, `あなたのサーバーから mxprobe (${address}) への SMTP のやりとり (送信 = mxprobe の応答、受信 = あなたのサーバー):`, `the SMTP dialogue of your server delivering to mxprobe (${address}) (sent = mxprobe's replies, received = your server):`))
    for (const l of mail.dialogue) b.line(l.dir, l.text)
    const waited = Math.round((mail.acceptedAt - Date.parse(b.report.startedAt)) / 1000)
    const v = parseIp(mail.remoteIp)?.family === 6 ? 'IPv6' : 'IPv4'
    this.step(b, 'send-arrival', 'pass', bi(lang, `${mail.remoteIp} から ${v} で ${mail.size} バイトのメールが届きました (開始から ${waited} 秒)`, `a mail of ${mail.size} bytes arrived from ${mail.remoteIp} over ${v} (${waited} s after the start)`))

    const f = await analyzeMail(mail, { address, callerIp: rec.callerIp, domain: rec.domain }, { dns: this.deps.dns, dnsblZones: inbound.dnsblZones, mta: settings.heloName, pool: this.pool })
    this.judge(b, f, rec)
    const rules = senderRules(f, lang)
    this.judgeRules(b, f, rules)
    const status = b.verdict()
    const analysisMs = Date.now() - mail.acceptedAt
    const inboundField = {
      address,
      connectingIp: f.connectingIp,
      family: f.family,
      isCallerIp: f.isCallerIp,
      isMxAddress: f.isMxAddress,
      ptr: f.ptr,
      ptrNames: f.ptrNames,
      fcrdns: f.fcrdns,
      ptrGeneric: f.ptrGeneric,
      helo: f.helo,
      heloResolves: f.heloResolves,
      tls: f.tls,
      mailFrom: f.mailFrom,
      spf: f.spf,
      spfHelo: f.spfHelo,
      dkim: f.dkim,
      dmarc: f.dmarc,
      dnsbl: f.dnsbl.map(({ zone, listed, answer, reason, dynamic, error }) => ({ zone, listed, answer, reason, dynamic, ...(error ? { error } : {}) })),
      headers: f.headers,
      subject: f.subject,
      size: f.size,
      charset: f.charset,
      excerpt: f.excerpt,
      receivedAt: new Date(mail.acceptedAt).toISOString(),
      lookupMs: f.lookupMs,
      analysisMs,
      arc: f.arc,
      format: f.format,
      senderRules: rules,
      analysis: {
        stopped: f.stopped,
        budgetMs: f.budgetMs,
        lookups: f.lookups,
        ...(f.bounds ? { bounds: { headerBytes: f.bounds.headerBytes, headerTruncated: f.bounds.headerTruncated, signatures: f.bounds.signatures, checked: f.bounds.checked } } : {})
      }
    }
    b.set('inbound', inboundField)

    if (rec.reply) await this.replyLeg(b, rec, f, status)
    b.finish(this.summary(lang, f, b.verdict()))
    await o.flush()
    this.deps.onFinish?.(b.report)
    return b.report
  }

  /** Steps and advice from the findings: the verdict of the mail itself follows from them. */
  private judge (b: ReportBuilder, f: InboundFindings, rec: InboundAddress): void {
    const lang = b.lang
    const yes = (v: boolean | null): string => v === null ? '-' : v ? bi(lang, 'はい', 'yes') : bi(lang, 'いいえ', 'no')

    // The connecting IP
    const over = bi(lang, `${f.family === 6 ? 'IPv6' : 'IPv4'} で届きました。`, `came over ${f.family === 6 ? 'IPv6' : 'IPv4'}. `)
    if (f.isCallerIp) {
      this.step(b, 'send-ip', 'pass', bi(lang, `${f.connectingIp}: ${over}テストを始めた IP と同じです。${rec.domain} の MX のアドレス: ${yes(f.isMxAddress)}`, `${f.connectingIp}: ${over}The IP that started the test. An MX address of ${rec.domain}: ${yes(f.isMxAddress)}`))
      if (!f.isMxAddress && f.spf.result !== 'pass') b.advise('send.not_mx_ip', { ip: f.connectingIp, domain: rec.domain })
    } else {
      this.step(b, 'send-ip', 'info', bi(lang, `${f.connectingIp}: ${over}テストを始めた IP (${rec.callerIp}) とは別です。プロバイダのリレーなどを経由しています`, `${f.connectingIp}: ${over}Not the IP that started the test (${rec.callerIp}); the mail went through another server, such as the ISP's relay`))
      b.advise('send.via_relay', { ip: f.connectingIp, callerIp: rec.callerIp, domain: rec.domain })
    }

    // Reverse DNS
    if (!f.ptr) {
      this.step(b, 'send-ptr', 'warn', bi(lang, `${f.connectingIp} に逆引きがありません`, `${f.connectingIp} has no PTR record`))
      b.advise(f.family === 6 ? 'send.ptr_missing_v6' : 'send.ptr_missing', { ip: f.connectingIp })
    } else if (!f.fcrdns) {
      this.step(b, 'send-ptr', 'warn', bi(lang, `${f.ptr}: 正引きすると ${f.connectingIp} になりません`, `${f.ptr}: does not resolve back to ${f.connectingIp}`))
      b.advise('send.fcrdns_fail', { ip: f.connectingIp, ptr: f.ptr, rr: f.family === 6 ? 'AAAA' : 'A' })
    } else if (f.ptrGeneric) {
      this.step(b, 'send-ptr', 'warn', bi(lang, `${f.ptr}: 正引きと一致しますが、プロバイダの汎用の名前に見えます`, `${f.ptr}: forward-confirmed, but it looks like the ISP's generic name`))
      b.advise('send.ptr_generic', { ip: f.connectingIp, ptr: f.ptr })
    } else {
      this.step(b, 'send-ptr', 'pass', bi(lang, `${f.ptr} (正引きも一致)`, `${f.ptr} (forward-confirmed)`))
    }

    // HELO
    if (!f.helo) {
      this.step(b, 'send-helo', 'warn', bi(lang, 'HELO/EHLO がありませんでした', 'no HELO/EHLO was sent'))
    } else if (!f.heloFqdn && !/^\[/.test(f.helo)) {
      this.step(b, 'send-helo', 'warn', bi(lang, `「${f.helo}」は FQDN ではありません`, `"${f.helo}" is not a fully qualified name`))
      b.advise('send.helo_invalid', { helo: f.helo })
    } else if (!f.heloResolves) {
      this.step(b, 'send-helo', 'warn', bi(lang, `「${f.helo}」は ${f.connectingIp} に正引きできません`, `"${f.helo}" does not resolve to ${f.connectingIp}`))
      b.advise('send.helo_mismatch', { helo: f.helo, ip: f.connectingIp })
    } else {
      this.step(b, 'send-helo', 'pass', bi(lang, `「${f.helo}」は ${f.connectingIp} に正引きできます`, `"${f.helo}" resolves to ${f.connectingIp}`))
    }

    // TLS
    if (!f.tls) {
      this.step(b, 'send-tls', 'warn', bi(lang, 'STARTTLS を使わずに送信されました', 'sent without STARTTLS'))
      b.advise('send.no_tls', {})
    } else if (/^TLSv1(\.[01])?$|^SSL/.test(f.tls.version)) {
      this.step(b, 'send-tls', 'warn', `${f.tls.version} ${f.tls.cipher}`)
      b.advise('send.tls_old', { version: f.tls.version })
    } else {
      this.step(b, 'send-tls', 'pass', `${f.tls.version} ${f.tls.cipher}`)
    }

    // Envelope sender
    const senderDomain = f.mailFrom.includes('@') ? f.mailFrom.slice(f.mailFrom.lastIndexOf('@') + 1).toLowerCase() : ''
    if (!f.mailFrom) {
      this.step(b, 'send-envelope', 'warn', 'MAIL FROM:<>')
      b.advise('send.null_sender', {})
    } else if (senderDomain !== rec.domain) {
      this.step(b, 'send-envelope', 'info', f.mailFrom)
      b.advise('send.other_domain', { sender: f.mailFrom, domain: rec.domain, senderDomain })
    } else {
      this.step(b, 'send-envelope', 'pass', f.mailFrom)
    }

    // SPF
    const spf = f.spf
    if (spf.result === 'pass') this.step(b, 'send-spf', 'pass', `${spf.domain}: pass`)
    else if (spf.result === 'none') {
      this.step(b, 'send-spf', 'warn', bi(lang, `${spf.domain}: SPF レコードがありません`, `${spf.domain}: no SPF record`))
      b.advise('send.spf_none', { domain: spf.domain, ip: f.connectingIp })
    } else if (spf.result === 'fail' || spf.result === 'softfail' || spf.result === 'neutral') {
      const s: Status = spf.result === 'fail' ? 'fail' : 'warn'
      // Over IPv6 with a record that names no IPv6 address: the classic cause of Gmail's IPv6 refusals.
      const noIp6 = f.family === 6 && spf.record && !spf.record.ip6
      this.step(b, 'send-spf', s, `${spf.domain}: ${spf.result}` + (noIp6 ? bi(lang, ' (IPv6 で送られましたが、SPF レコードに ip6: がありません)', ' (sent over IPv6, but the SPF record has no ip6:)') : ''))
      if (noIp6) b.advise('send.spf_no_ip6', { domain: spf.domain, ip: f.connectingIp, result: spf.result, prefix: rateLimitKey(parseIp(f.connectingIp)!) })
      else b.advise('send.spf_fail', { domain: spf.domain, ip: f.connectingIp, result: spf.result })
    } else {
      this.step(b, 'send-spf', 'warn', `${spf.domain}: ${spf.result}${spf.reason ? ` (${spf.reason})` : ''}`)
      b.advise('send.spf_error', { domain: spf.domain, result: spf.result, reason: spf.reason ?? '' })
    }
    if (f.spfHelo) this.step(b, 'send-spf-helo', f.spfHelo.result === 'pass' ? 'pass' : 'info', `${f.spfHelo.domain}: ${f.spfHelo.result}`)

    // DKIM
    const bounds = f.bounds
    const more = bounds && bounds.signatures > bounds.checked
      ? bi(lang, `。ほか ${bounds.signatures - bounds.checked} 個の署名は確認していません (確認するのは 1 通 ${MAX_SIGNATURES} 個まで、From のドメインの署名が先)`, `; ${bounds.signatures - bounds.checked} more not checked (at most ${MAX_SIGNATURES} per mail, those of the From domain first)`)
      : ''
    if (f.stopped) {
      this.step(b, 'send-dkim', 'skip', bi(lang, '解析を打ち切ったため確認していません', 'not checked: the analysis was stopped'))
    } else if (!f.dkim.length && bounds?.signatures) {
      this.step(b, 'send-dkim', 'warn', bi(lang, `${bounds.signatures} 個の署名のどれも確認していません (h= に並ぶヘッダー名が多すぎるか、上限を超えています)`, `none of the ${bounds.signatures} signatures was checked (their h= lists are too long, or they are beyond the limit)`))
    } else if (!f.dkim.length) {
      this.step(b, 'send-dkim', 'warn', bi(lang, '署名がありません', 'no signature'))
      b.advise('send.dkim_none', { domain: rec.domain })
    } else {
      const good = f.dkim.filter((d) => d.result === 'pass')
      const detail = f.dkim.map((d) => `d=${d.domain ?? '?'} s=${d.selector ?? '?'}: ${d.result}${d.reason ? ` (${d.reason})` : ''}`).join('; ')
      this.step(b, 'send-dkim', good.length ? 'pass' : 'warn', detail + more)
      // One paragraph per cause, not per signature: the first failing signature of each result and reason.
      const causes = new Map<string, typeof f.dkim[number]>()
      for (const d of f.dkim.filter((x) => x.result !== 'pass')) if (!causes.has(`${d.result}|${d.reason ?? ''}`)) causes.set(`${d.result}|${d.reason ?? ''}`, d)
      for (const d of causes.values()) b.advise('send.dkim_fail', { domain: d.domain ?? '?', selector: d.selector ?? '?', result: d.result, reason: d.reason ?? '' })
    }

    // DMARC
    const dm = f.dmarc
    const dmDomain = dm.domain ?? rec.domain
    if (f.stopped) this.step(b, 'send-dmarc', 'skip', bi(lang, '解析を打ち切ったため確認していません', 'not checked: the analysis was stopped'))
    else if (dm.result === 'pass') this.step(b, 'send-dmarc', 'pass', `${dmDomain}: pass (p=${dm.policy ?? '-'})`)
    else if (dm.result === 'none') {
      this.step(b, 'send-dmarc', 'warn', bi(lang, `${dmDomain}: DMARC レコードがありません`, `${dmDomain}: no DMARC record`))
      b.advise('send.dmarc_none', { domain: dmDomain })
    } else {
      const s: Status = dm.result === 'fail' && (dm.policy === 'reject' || dm.policy === 'quarantine') ? 'fail' : 'warn'
      this.step(b, 'send-dmarc', s, `${dmDomain}: ${dm.result} (p=${dm.policy ?? '-'})`)
      b.advise('send.dmarc_fail', { domain: dmDomain, policy: dm.policy ?? 'none' })
    }

    // Block lists
    const listed = f.dnsbl.filter((x) => x.listed)
    if (!f.dnsbl.length) this.step(b, 'send-dnsbl', 'skip', bi(lang, '照会するリストが設定されていません (DNSBL_ZONES)', 'no lists configured (DNSBL_ZONES)'))
    else if (!listed.length) this.step(b, 'send-dnsbl', 'pass', bi(lang, `${f.dnsbl.length} 個のリストに登録なし`, `not listed in ${f.dnsbl.length} lists`) + (f.family === 6 ? bi(lang, ' (IPv6 アドレスを 4 ビットずつ逆順にして照会しました)', ' (the IPv6 address looked up nibble by nibble, reversed)') : '') + (f.dnsbl.some((x) => x.error) ? ` (${f.dnsbl.filter((x) => x.error).map((x) => `${x.zone}: ${x.error}`).join(', ')})` : ''))
    else {
      this.step(b, 'send-dnsbl', 'warn', listed.map((x) => `${x.zone}: ${x.answer}${x.reason ? ` "${x.reason}"` : ''}`).join('; '))
      for (const x of listed) b.advise(x.dynamic ? 'send.dnsbl_dynamic' : 'send.dnsbl_listed', { ip: f.connectingIp, zone: x.zone, answer: x.answer ?? '', reason: x.reason ?? '' })
    }

    // The message
    if (f.stopped) {
      const sec = Math.round(f.budgetMs / 100) / 10
      this.step(b, 'send-analysis', 'warn', bi(lang,
        `メールの内容が複雑すぎて ${sec} 秒以内に解析できなかったため、解析を打ち切りました。DKIM・DMARC・ヘッダーは確認していません。接続元 IP・逆引き・HELO・暗号化・SPF の結果は上のとおりです`,
        `the message was too complex to analyse in ${sec} s, so its analysis was stopped: DKIM, DMARC and the headers were not checked. The connecting IP, PTR, HELO, TLS and SPF results above stand`))
      b.advise('send.analysis_stopped', { seconds: sec })
      return
    }
    const cs = f.charset.charsets.length ? f.charset.charsets.join(', ') : bi(lang, 'なし', 'none')
    this.step(b, 'send-message', f.charset.declared ? 'pass' : 'warn', bi(lang, `件名: ${f.subject ?? '(なし)'} / ${f.size} バイト / charset: ${cs}`, `Subject: ${f.subject ?? '(none)'} / ${f.size} bytes / charset: ${cs}`))
    if (!f.charset.declared) b.advise('send.no_charset', {})
    if (f.headers) {
      const warns = f.headers.findings.filter((x) => x.severity === 'warn')
      const cut = bounds?.headerTruncated ? bi(lang, ` (ヘッダーが ${Math.round(bounds.headerBytes / 1024)} KiB あったため、先頭 64 KiB だけを解析しました)`, ` (the header block was ${Math.round(bounds.headerBytes / 1024)} KiB; only its first 64 KiB were analysed)`) : ''
      this.step(b, 'send-headers', warns.length || cut ? 'info' : 'pass', bi(lang, `ヘッダー ${f.headers.fieldCount} 個、Received ${f.headers.hops.length} 個${warns.length ? `、注意 ${warns.length} 件: ${warns.slice(0, 10).map((w) => w.ja).join(' ')}` : ''}`, `${f.headers.fieldCount} header fields, ${f.headers.hops.length} Received${warns.length ? `, ${warns.length} warnings: ${warns.slice(0, 10).map((w) => w.en).join(' ')}` : ''}`) + cut)
    }
  }

  /** The big receivers' checklist as a step (warn when a rule for every sender is unmet), and its advice. */
  private judgeRules (b: ReportBuilder, f: InboundFindings, rules: SenderRulesVerdict): void {
    const unmetAll = rules.receivers.some((r) => r.rules.some((x) => x.scope === 'all' && x.met === false))
    this.step(b, 'send-rules', unmetAll ? 'warn' : 'pass', rulesStepDetail(rules, b.lang))
    const unmet = (rule: string): boolean => rules.receivers.some((r) => r.rules.some((x) => x.rule === rule && x.met === false))
    if (unmet('format') && f.format) {
      b.advise('send.headers_missing', { fields: [f.format.messageId ? '' : 'Message-ID', f.format.date ? '' : 'Date', f.format.from ? '' : 'From'].filter(Boolean).join(', ') })
    }
    if (unmet('not_gmail_from') && f.format) b.advise('send.from_gmail', { domain: f.format.fromDomain })
    if (unmet('arc') && f.arc) b.advise('send.arc_fail', { result: f.arc.result, reason: f.arc.reason ?? '' })
  }

  private summary (lang: Lang, f: InboundFindings, status: Status): string {
    const auth = `SPF ${f.spf.result}, DKIM ${f.dkim.length ? f.dkim.map((d) => d.result).join('/') : 'none'}, DMARC ${f.dmarc.result}`
    if (status === 'pass') return bi(lang, `${f.connectingIp} からのメールを受け取りました。受信側から見て問題はありません (${auth})`, `mail from ${f.connectingIp} arrived; a receiver sees nothing wrong (${auth})`)
    if (status === 'warn') return bi(lang, `${f.connectingIp} からのメールを受け取りましたが、受信側に迷惑メール扱いされる可能性がある点があります (${auth})`, `mail from ${f.connectingIp} arrived, but receivers may junk or refuse it (${auth})`)
    return bi(lang, `${f.connectingIp} からのメールを受け取りましたが、大手の受信側には拒否されるか迷惑メールになります (${auth})`, `mail from ${f.connectingIp} arrived, but large receivers will refuse or junk it (${auth})`)
  }

  private async replyLeg (b: ReportBuilder, rec: InboundAddress, f: InboundFindings, status: Status): Promise<void> {
    const lang = b.lang
    if (!f.mailFrom) {
      this.step(b, 'send-reply', 'skip', bi(lang, '送信者が空 (MAIL FROM:<>) なので返信できません', 'the envelope sender is empty (MAIL FROM:<>): nothing to reply to'))
      return
    }
    const advice = b.report.advice.map((a) => `- ${lang === 'ja' ? a.ja : a.en}`)
    const steps = b.report.steps.map((s) => `  [${s.status}] ${s.title}: ${s.detail}`)
    const text = [
      bi(lang, 'mxprobe 送信テストの結果です。このメールが届いていれば、往復 (送信と受信) の両方ができています。', 'This is the result of the mxprobe send test. If this reply reached you, mail works both ways.'),
      '',
      `${bi(lang, '結果', 'Result')}: ${status}`,
      this.summary(lang, f, status),
      '',
      ...steps,
      '',
      ...(advice.length ? [bi(lang, '助言:', 'Advice:'), ...advice, ''] : []),
      `${bi(lang, 'テスト ID', 'Check ID')}: ${b.report.id}`,
      ''
    ].join('\n')
    const messageId = f.headers?.messageId ?? null
    const message = await composeReply({ from: this.deps.settings.mailFrom, to: f.mailFrom, subject: f.subject, messageId, reportId: b.report.id, lang, text, heloName: this.deps.settings.heloName })
    b.info(bi(lang, `返信: ${f.mailFrom} へ結果を送ります (mxprobe からあなたのサーバーへの SMTP のやりとり)`, `reply: sending the result to ${f.mailFrom} (the SMTP dialogue of mxprobe delivering to your server)`))
    const out: ReplyOutcome = await sendReply(this.deps, b, { callerIp: rec.callerIp, to: f.mailFrom, message, checkId: b.report.id, deadline: Date.now() + this.deps.settings.checkDeadlineMs })
    const senderDomain = f.mailFrom.slice(f.mailFrom.lastIndexOf('@') + 1)
    b.set('reply', out)
    if (out.sent) {
      this.step(b, 'send-reply', 'pass', bi(lang, `${out.host} (${out.ip}) が返信を受け付けました: ${out.response}`, `${out.host} (${out.ip}) accepted the reply: ${out.response}`), out.ms)
      return
    }
    if (out.stage === 'rule') {
      this.step(b, 'send-reply', 'skip', out.reason, out.ms)
      b.advise('send.reply_not_sent', { to: f.mailFrom, reason: out.reason, domain: senderDomain, callerIp: rec.callerIp })
      return
    }
    // a temporary refusal (4xx) of the reply is a warning, anything else a failure
    this.step(b, 'send-reply', /^4\d\d/.test(out.reply ?? '') ? 'warn' : 'fail', out.reply ?? out.reason, out.ms)
    b.advise('send.reply_refused', { to: f.mailFrom, reply: out.reply ?? out.reason })
  }

  // ---- the expiry sweep (every instance; the store decides who settles each address)

  /** sweeps failed in a row (the store down), and when the next one may run */
  private sweepFailures = 0
  private sweepNotBefore = 0
  static sweepBackoffMaxMs = 60_000

  async sweep (now = Date.now()): Promise<number> {
    if (this.sweeping || now < this.sweepNotBefore) return 0
    this.sweeping = true
    let n = 0
    try {
      const due = await this.deps.store.inboundDue(now, 100)
      for (const token of due) if (await this.expire(token, now)) n++
      if (this.sweepFailures) this.deps.log.info({ failures: this.sweepFailures }, 'send test sweep works again')
      this.sweepFailures = 0
    } catch (err) {
      // The store is down: back off (1 s, 2 s, 4 s … up to a minute), one warning per attempt.
      this.sweepFailures++
      const waitMs = Math.min(SendService.sweepBackoffMaxMs, 1000 * 2 ** (this.sweepFailures - 1))
      this.sweepNotBefore = Date.now() + waitMs
      this.deps.log.warn({ err, failures: this.sweepFailures, retryInMs: waitMs }, 'send test sweep failed; backing off')
    } finally {
      this.sweeping = false
    }
    return n
  }

  /** How long an accepted mail's analysis may take at most (DNS lookups, then the reply leg), with room to spare. */
  private analysisGraceMs (): number {
    return 2 * this.deps.settings.checkDeadlineMs + 60_000
  }

  private async expire (token: string, now: number): Promise<boolean> {
    const { store, inbound } = this.deps
    const t = await store.inboundTransition(token, ['waiting'], 'expired', now, { staleClaimMs: inbound.sessionMaxMs + 30_000 })
    if (!t.ok && t.rec?.state === 'used') {
      // Due again after the analysis grace: the instance analysing this mail never finished it.
      await store.inboundSettled(token).catch(() => {})
      const o = await this.open(t.rec.reportId)
      if (!o) return false
      const lang = o.b.lang
      this.step(o.b, 'send-analysis', 'error', bi(lang, 'メールは届きましたが、受け取った mxprobe のインスタンスが解析の途中で止まりました', 'the mail arrived, but the mxprobe instance that took it stopped before finishing the analysis'))
      o.b.finish(bi(lang, 'メールは届きましたが、mxprobe 側の問題で結果をまとめられませんでした。新しいテストでもう一度送ってください', 'the mail arrived, but mxprobe could not complete the report; send again to a new test address'))
      await o.flush()
      this.deps.onFinish?.(o.b.report)
      return true
    }
    if (!t.ok) {
      // used, expired or gone: nothing left to do; a live session (receiving) is left to finish
      if (!t.rec || t.rec.state !== 'receiving') await store.inboundSettled(token).catch(() => {})
      return false
    }
    const rec = t.rec as InboundAddress
    await this.settle(rec)
    const o = await this.open(rec.reportId)
    if (!o) return false
    const { b } = o
    const lang = b.lang
    const address = this.addressOf(rec.token)
    const minutes = Math.round(inbound.waitSeconds / 6) / 10
    this.step(b, 'send-arrival', 'fail', bi(lang, `${minutes} 分待ちましたが、${address} にメールは届きませんでした`, `no mail reached ${address} within ${minutes} minutes`))
    b.advise('send.none_op25b', { address, minutes })
    b.advise('send.none_queue', {})
    b.advise('send.none_firewall', {})
    b.advise('send.none_dns', { address, inboundDomain: inbound.domain })
    b.finish(bi(lang, '期限までにメールが届きませんでした。最も多い原因はプロバイダによる 25 番ポートの遮断 (OP25B) です', 'no mail arrived before the deadline; the most common cause is the ISP blocking outbound port 25 (OP25B)'))
    await o.flush()
    this.deps.onFinish?.(b.report)
    return true
  }

  startSweeper (intervalMs = 1000): void {
    if (this.sweeper) return
    this.sweeper = setInterval(() => { this.sweep().catch(() => {}) }, intervalMs)
    this.sweeper.unref()
  }

  async close (): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
    await Promise.allSettled([...this.running])
    await this.pool.close()
  }
}
