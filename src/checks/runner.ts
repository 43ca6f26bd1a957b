// Runs one check from start to stored report: takes the concurrency slots,
// lets the check refuse before any socket, streams every addition to the
// store (so followers on any instance see it), turns probe failures into an
// `error` report with advice, and always frees its slots.
import type { Logger } from 'pino'
import { ReportBuilder, newReportId, type Report, type ReportEvent } from './report.js'
import type { CheckContext, CheckDefinition, CheckSettings } from './context.js'
import type { Store } from '../store/types.js'
import type { DnsClient } from '../dns/resolver.js'
import type { GuardedConnector } from '../net/connect.js'
import { ProbeError, RefusalError, BadInputError, StoreDownError, RateLimitedError } from '../errors.js'
import { DnsLookupError } from '../dns/resolver.js'
import { rateLimitKey, parseIp } from '../net/ip.js'
import type { Lang } from '../i18n/index.js'

export interface RunnerDeps {
  store: Store
  dns: DnsClient
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
  async start<I, P> (def: CheckDefinition<I, P>, input: I, callerIp: string, lang: Lang): Promise<Started> {
    const { store, log } = this.deps
    const id = newReportId()
    const ttl = this.deps.reportTtlSeconds
    // Events are written in order; a failing store must not stop the check itself.
    let chain: Promise<void> = Promise.resolve()
    let live = false
    const pending: ReportEvent[] = []
    const emit = (ev: ReportEvent): void => {
      if (!live) { pending.push(ev); return }
      chain = chain.then(() => store.appendEvent(id, ev, ttl)).catch((err) => { log.warn({ err, id }, 'event not stored') })
    }
    const report = new ReportBuilder(def.type, callerIp, lang, emit, id)
    const started = Date.now()
    const ctx: CheckContext = {
      id,
      type: def.type,
      callerIp,
      lang,
      dns: this.deps.dns,
      report,
      log: log.child({ check: def.type, checkId: id }),
      settings: this.deps.settings,
      deadline: started + this.deps.settings.checkDeadlineMs,
      connector: this.deps.connector,
      connect: (ip, port, opts = {}) => this.deps.connector.connect({
        callerIp,
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
        throw new TooBusyError('mxprobe is running as many checks as it allows; try again in a minute', 30)
      }
      slots.push(['total', id])
      try {
        if (!await store.acquireSlot(callerKey, id, this.deps.concurrencyPerCaller, ttlMs)) {
          throw new TooBusyError(`you already have ${this.deps.concurrencyPerCaller} checks running; wait for one to finish`, 10)
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
      if (err instanceof DnsLookupError && !(err instanceof RefusalError)) {
        // The target could not even be looked up: that is a finding, not a refusal.
        throw new BadInputError(`DNS lookup failed: ${err.qtype} ${err.qname} answered ${err.dnsCode}`)
      }
      throw err
    }
    live = true
    for (const ev of pending.splice(0)) emit(ev)

    const done = (async () => {
      try {
        await def.run(ctx, plan)
        if (report.report.status === 'running') report.finish('error', 'the check ended without a verdict')
      } catch (err) {
        failReport(ctx, err)
      } finally {
        await this.release(slots)
      }
      await chain
      try {
        await store.saveReport(report.report, ttl)
      } catch (err) {
        log.error({ err, id }, 'final report not stored')
      }
      this.deps.onFinish?.(report.report)
      return report.report
    })()
    this.running.add(done)
    done.finally(() => this.running.delete(done)).catch(() => {})
    return { id, done }
  }

  private async release (slots: Array<[string, string]>): Promise<void> {
    for (const [key, token] of slots) {
      await this.deps.store.releaseSlot(key, token).catch(() => { /* the slot's TTL frees it */ })
    }
  }
}

/** Turn anything a check threw into an `error` report that says what happened and what to do. */
export function failReport (ctx: CheckContext, err: unknown): void {
  const r = ctx.report
  if (r.report.status !== 'running') return
  if (err instanceof ProbeError) {
    const ip = r.report.target.ip ?? ctx.callerIp
    const port = err.port ?? 25
    r.info(`error: ${err.message}`)
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
      default: r.advise('net.error', { reason: err.message })
    }
    r.finish('error', err.message)
    return
  }
  if (err instanceof StoreDownError) {
    r.finish('error', 'the shared store became unavailable during the check')
    return
  }
  ctx.log.error({ err }, 'check crashed')
  r.advise('net.error', { reason: 'internal error' })
  r.finish('error', 'the check failed because of an internal error')
}
