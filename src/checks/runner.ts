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
import { ProbeError, RefusalError, BadInputError, StoreDownError } from '../errors.js'
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

export class TooBusyError extends Error {
  statusCode = 429
  code = 'too_many_concurrent'
  constructor (message: string, public retryAfterSeconds: number) { super(message) }
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
    const emit = (ev: ReportEvent): void => {
      if (!live) { pending.push(ev); return }
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
    if (def.detached) {
      // Whoever ends it (the instance that receives the mail, or the expiry sweep) stores the final report.
      await this.release(slots)
      // Its first events are stored before the answer: the instance that finishes it numbers its events on after them.
      return { id, done: drained().then(() => report.report) }
    }

    const done = (async () => {
      try {
        await def.run(ctx, plan)
        if (report.report.status === 'running') report.finish('error', 'the check ended without a verdict')
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
    r.info(`error: ${err.message}`)
    adviseProbeError(ctx, err)
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

/** The advice (net.*) for what went wrong on the wire; the check decides the status. */
export function adviseProbeError (ctx: CheckContext, err: ProbeError): void {
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
    default: r.advise('net.error', { reason: err.message })
  }
}
