// Runs one check from start to stored report: takes the concurrency slots,
// lets the check refuse before any socket, streams every addition to the
// store (so followers on any instance see it), turns probe failures into an
// `error` report with advice, and always frees its slots.
import type { Logger } from 'pino'
import { ReportBuilder, newReportId, type Report, type ReportEvent } from '../core/report.js'
import type { CheckContext, CheckDefinition, CheckSettings } from './context.js'
import type { Store } from '../store/types.js'
import type { DnsClient } from '../dns/resolver.js'
import type { DnssecClient } from '../dns/dnssec.js'
import type { GuardedConnector } from '../net/connect.js'
import { CallerAddresses } from '../net/caller.js'
import { ProbeError, RefusalError, BadInputError, StoreDownError, RateLimitedError } from '../errors.js'
import { DnsLookupError } from '../dns/resolver.js'
import { fillRefusal, refusalHeadline } from './refusal-report.js'
import { rateLimitKey, parseIp } from '../net/ip.js'
import { bi, type Lang } from '../i18n/index.js'
import type { HandshakeMemo } from '../core/handshakes.js'

export interface RunnerDeps {
  store: Store
  dns: DnsClient
  /** the validating resolver (the tls check's DNSSEC and DANE) */
  dnssec?: DnssecClient
  connector: GuardedConnector
  log: Logger
  settings: CheckSettings
  reportTtlSeconds: number
  concurrencyPerCaller: number
  concurrencyTotal: number
  /** called when a check ends (metrics) */
  onFinish?: (r: Report) => void
}

/** 429 of the concurrency caps (a RateLimitedError: one 429 for every limit). */
export class TooBusyError extends RateLimitedError {
  override code = 'too_many_concurrent'
}

export interface Started {
  id: string
  /** resolves when the check has finished and its report is stored */
  done: Promise<Report>
  /** epoch ms at which the check is cut off (its deadline), for countdowns */
  deadline: number
}

export interface StartOptions {
  /** sees every event of the check as it happens, in this process (a diagnosis follows its children) */
  onEvent?: (ev: ReportEvent) => void
  /** a refusal by the target rule is stored as a report of its own (src/checks/refusal-report.ts); default true */
  storeRefusal?: boolean
  /** the handshakes the checks of one diagnosis share (src/core/handshakes.ts) */
  handshakes?: HandshakeMemo
}

export class CheckRunner {
  /** running checks of this process, for graceful shutdown */
  readonly running = new Set<Promise<Report>>()

  constructor (private readonly deps: RunnerDeps) {}

  /**
   * Validates and prepares synchronously with the request (so a refusal is a
   * 400/403 answer), then runs the probe. Resolves once the check has
   * started; `done` resolves with the final report.
   */
  async start<I, P> (def: CheckDefinition<I, P>, input: I, who: CallerAddresses | string, lang: Lang, opts: StartOptions = {}): Promise<Started> {
    const { store, log } = this.deps
    const caller = CallerAddresses.from(who)
    const callerIp = caller.connectionIp
    const id = newReportId()
    const ttl = this.deps.reportTtlSeconds
    // Events are written in order, coalesced: those of one tick (and any that
    // come while a write is in flight) go to the store as one batch, so a
    // transcript of many lines costs a few Redis round trips, not one per line.
    // A failing store must not stop the check itself.
    let chain: Promise<void> = Promise.resolve()
    let live = false
    const pending: ReportEvent[] = []
    let batch: ReportEvent[] = []
    let scheduled = false
    let writing = false
    const write = (evs: ReportEvent[]): Promise<void> => store.appendEvents
      ? store.appendEvents(id, evs, ttl)
      : evs.reduce<Promise<void>>((p, ev) => p.then(() => store.appendEvent(id, ev, ttl)), Promise.resolve())
    const flush = (): void => {
      scheduled = false
      if (writing || !batch.length) return
      const evs = batch
      batch = []
      writing = true
      chain = chain.then(() => write(evs)).catch((err) => { log.warn({ err, id, events: evs.length }, 'events not stored') }).finally(() => {
        writing = false
        if (batch.length) flush()
      })
    }
    // The final event waits until the final report is stored: a client that reads the
    // report when its stream says "done" must get that report, not the running one.
    let held: ReportEvent | null = null
    const emit = (ev: ReportEvent): void => {
      if (opts.onEvent) { try { opts.onEvent(ev) } catch (err) { log.warn({ err, id }, 'event follower failed') } }
      if (!live) { pending.push(ev); return }
      if (ev.type === 'done' && !def.detached) { held = ev; return }
      batch.push(ev)
      if (!scheduled && !writing) { scheduled = true; setImmediate(flush) }
    }
    /** every event emitted so far is stored */
    const drained = async (): Promise<void> => {
      for (;;) {
        flush()
        if (!writing && !batch.length) return
        await chain
      }
    }
    const report = new ReportBuilder(def.type, callerIp, lang, emit, id)
    const started = Date.now()
    const ctx: CheckContext = {
      id,
      type: def.type,
      callerIp,
      caller,
      lang,
      dns: this.deps.dns,
      dnssec: this.deps.dnssec,
      report,
      log: log.child({ check: def.type, checkId: id }),
      settings: this.deps.settings,
      deadline: started + this.deps.settings.checkDeadlineMs,
      connector: this.deps.connector,
      ...(opts.handshakes ? { handshakes: opts.handshakes } : {}),
      connect: (ip, port, opts = {}) => this.deps.connector.connect({
        callerIp,
        caller,
        ip,
        port,
        tls: opts.tls,
        servername: opts.servername,
        connectTimeoutMs: opts.connectTimeoutMs ?? this.deps.settings.connectTimeoutMs,
        deadline: Math.min(opts.deadline ?? Infinity, ctx.deadline),
        // Like the deadline, the byte cap is a ceiling: a check may ask for less, never for more.
        maxBytes: Math.min(opts.maxBytes ?? Infinity, this.deps.settings.maxBytesPerConnection),
        checkId: id,
        checkType: def.type
      })
    }

    // Slots first: a check that probes holds one per caller and one overall.
    const slots: Array<[string, string]> = []
    if (def.probes) {
      const ip = parseIp(callerIp)
      const callerKey = `caller:${ip ? rateLimitKey(ip) : callerIp}`
      const ttlMs = this.deps.settings.checkDeadlineMs + 10_000
      if (!await store.acquireSlot('total', id, this.deps.concurrencyTotal, ttlMs)) {
        throw new TooBusyError(bi(lang, 'mxprobe は現在、受け付けられる数のテストを実行中です。1 分ほどしてからもう一度お試しください', 'mxprobe is running as many checks as it allows; try again in a minute'), 30)
      }
      slots.push(['total', id])
      try {
        if (!await store.acquireSlot(callerKey, id, this.deps.concurrencyPerCaller, ttlMs)) {
          throw new TooBusyError(bi(lang, `あなたの IP からのテストがすでに ${this.deps.concurrencyPerCaller} 件実行中です。どれかが終わるまでお待ちください`, `you already have ${this.deps.concurrencyPerCaller} checks running; wait for one to finish`), 10)
        }
        slots.push([callerKey, id])
      } catch (err) {
        await this.release(slots)
        throw err
      }
    }

    let plan: P
    try {
      plan = await def.prepare(ctx, input)
      await store.saveReport(report.report, ttl)
    } catch (err) {
      await this.release(slots)
      if (err instanceof RefusalError && opts.storeRefusal !== false) {
        // Stored as a report of its own (a permalink, a forum text, a retry); the 403 names its id.
        try {
          const cause = refusalHeadline(err, lang)
          if (cause) err.extra.cause = cause
          fillRefusal(report, err, input, lang)
          await store.saveReport(report.report, ttl)
          err.extra.id = id
        } catch (e) {
          log.warn({ err: e, id }, 'refusal report not stored')
        }
      }
      if (err instanceof DnsLookupError && !(err instanceof RefusalError)) {
        // The target could not even be looked up: that is a finding, not a refusal.
        throw new BadInputError(bi(lang, `DNS の問い合わせに失敗しました: ${err.qtype} ${err.qname} の応答は ${err.dnsCode}`, `DNS lookup failed: ${err.qtype} ${err.qname} answered ${err.dnsCode}`))
      }
      throw err
    }
    live = true
    for (const ev of pending.splice(0)) emit(ev)
    if (def.detached) {
      // Whoever ends it (the instance that receives the mail, or the expiry sweep) stores the final report.
      await this.release(slots)
      // Its first events are stored before the answer: the instance that finishes it numbers its events on after them.
      return { id, done: drained().then(() => report.report), deadline: ctx.deadline }
    }

    const done = (async () => {
      try {
        await def.run(ctx, plan)
        if (report.report.status === 'running') {
          const why = bi(lang, 'テストが結果を出さずに終わりました (mxprobe 側の不具合です)', 'the check ended without a verdict (a fault in mxprobe)')
          report.step('mxprobe', 'error', why)
          report.finish(why)
        }
      } catch (err) {
        failReport(ctx, err)
      } finally {
        await this.release(slots)
      }
      await drained()
      try {
        await store.saveReport(report.report, ttl)
      } catch (err) {
        log.error({ err, id }, 'final report not stored')
      }
      if (held) { batch.push(held); held = null; await drained() }
      this.deps.onFinish?.(report.report)
      return report.report
    })()
    this.running.add(done)
    done.finally(() => this.running.delete(done)).catch(() => {})
    return { id, done, deadline: ctx.deadline }
  }

  private async release (slots: Array<[string, string]>): Promise<void> {
    for (const [key, token] of slots) {
      await this.deps.store.releaseSlot(key, token).catch(() => { /* the slot's TTL frees it */ })
    }
  }
}

/**
 * Turn anything a check threw into a finished report that says what happened
 * and what to do. What the server did (refused, timed out, never greeted, hung
 * up, broke TLS or the protocol, ran past the deadline) is the thing under test
 * failing: a `fail` step. Only mxprobe's own trouble (store down, a bug, its
 * DNS) is an `error` step. The report's verdict follows from that step.
 */
export function failReport (ctx: CheckContext, err: unknown): void {
  const r = ctx.report
  const lang = r.lang
  if (r.report.status !== 'running') return
  if (err instanceof ProbeError) {
    const ip = r.report.target.ip ?? ctx.callerIp
    const port = err.port ?? 25
    const why = unreachableSummary(lang, err, ip, port)
    r.info(bi(lang, unreachableSummary('ja', err, ip, port), `error: ${err.message}`))
    const serversFault = adviseProbeError(ctx, err)
    stoppedStep(r, serversFault ? 'fail' : 'error', why)
    r.finish(why)
    return
  }
  if (err instanceof StoreDownError) {
    const why = bi(lang, 'テスト中に mxprobe の共有ストア (Redis) が使えなくなりました。しばらくしてからもう一度お試しください', 'the shared store became unavailable during the check; try again in a while')
    stoppedStep(r, 'error', why)
    r.finish(why)
    return
  }
  ctx.log.error({ err }, 'check crashed')
  r.advise('net.error', { reason: bi(lang, 'mxprobe 内部のエラー', 'internal error') })
  const why = bi(lang, 'mxprobe 内部のエラーでテストを完了できませんでした', 'the check failed because of an internal error')
  stoppedStep(r, 'error', why)
  r.finish(why)
}

/**
 * The step a check that stopped on a thrown error ends with: `stopped` (the
 * server's doing, fail) or `mxprobe` (mxprobe's own trouble, error). A check
 * that already recorded the failure as its last step (smtp's `connect`) gets
 * no second one.
 */
function stoppedStep (r: ReportBuilder, status: 'fail' | 'error', detail: string): void {
  if (r.report.steps.at(-1)?.status === status) return
  r.step(status === 'fail' ? 'stopped' : 'mxprobe', status, detail)
}

/** One sentence for a probe failure, in the report's language (the English one keeps the wire detail; the Japanese note in the transcript has it). */
export function unreachableSummary (lang: Lang, err: ProbeError, ip: string, port: number): string {
  const d = err.message
  switch (err.kind) {
    case 'refused': return bi(lang, `${ip} のポート ${port} は接続を拒否しました (待ち受けているプログラムがありません)`, `${ip} port ${port} refused the connection (nothing listens there): ${d}`)
    case 'timeout': return bi(lang, `${ip} のポート ${port} から応答がありません (途中で遮断されています)`, `no answer from ${ip} port ${port} (filtered on the way): ${d}`)
    case 'unreachable': return bi(lang, `${ip} へ到達できません`, `${ip} is unreachable: ${d}`)
    case 'closed': return bi(lang, `${ip} のポート ${port} のサーバーが接続を切断しました`, `the server at ${ip} port ${port} closed the connection: ${d}`)
    case 'silent': return bi(lang, `${ip} のポート ${port} は接続を受け付けましたが、挨拶 (バナー) を送ってきません`, `${ip} port ${port} accepted the connection but never greeted: ${d}`)
    case 'deadline': return bi(lang, 'サーバーの応答が遅く、制限時間内にテストが終わりませんでした', `the server was too slow: the check ran out of time: ${d}`)
    case 'byte_cap': return bi(lang, 'サーバーが異常な量のデータを送ってきたため中止しました', `the server sent far more data than a mail server does: ${d}`)
    case 'tls': return bi(lang, `${ip} のポート ${port} との TLS 接続に失敗しました`, `TLS with ${ip} port ${port} failed: ${d}`)
    case 'protocol': case 'line_too_long': return bi(lang, 'サーバーの応答がメールのプロトコルに従っていません', `the server did not speak the mail protocol: ${d}`)
    default: return bi(lang, 'テストを完了できませんでした', `the check could not complete: ${d}`)
  }
}

/**
 * The advice (net.*) for what went wrong on the wire; the check decides the
 * status. Answers whether it was the server's doing (true) or mxprobe's own
 * trouble (an unknown kind of failure: false).
 */
export function adviseProbeError (ctx: CheckContext, err: ProbeError): boolean {
  const r = ctx.report
  const ip = r.report.target.ip ?? ctx.callerIp
  const port = err.port ?? 25
  switch (err.kind) {
    case 'refused': r.advise('net.refused', { ip, port }); break
    case 'timeout': r.advise('net.timeout', { ip, port }); break
    case 'unreachable': r.advise('net.unreachable', { ip, reason: err.message }); break
    case 'closed': r.advise('net.closed', { ip, port, when: '' }); break
    case 'silent': r.advise('net.silent', { ip, port, ms: ctx.settings.bannerTimeoutMs }); break
    case 'deadline': r.advise('net.deadline', { ms: ctx.settings.checkDeadlineMs }); break
    case 'byte_cap': r.advise('net.byte_cap', { bytes: ctx.settings.maxBytesPerConnection }); break
    case 'tls': r.advise('net.tls', { ip, port, reason: err.message }); break
    case 'protocol': case 'line_too_long': r.advise('net.protocol', { reason: err.message }); break
    default: r.advise('net.error', { reason: err.message }); return false
  }
  return true
}
