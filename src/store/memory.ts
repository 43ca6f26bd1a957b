// In-memory store: the embedded default for a single process.
import { EventEmitter } from 'node:events'
import type { Store, InboundAddress, InboundTransitionOptions } from './types.js'
import type { Report, ReportEvent } from '../core/report.js'

interface Expiring<T> { value: T, expires: number }

export class MemoryStore implements Store {
  readonly kind = 'memory' as const
  private readonly reports = new Map<string, Expiring<string>>()
  private readonly events = new Map<string, Expiring<ReportEvent[]>>()
  private readonly slots = new Map<string, Map<string, number>>()
  private readonly recent = new Map<string, Expiring<string>>()
  private readonly inbound = new Map<string, Expiring<string>>()
  private readonly due = new Map<string, number>()
  private readonly bus = new EventEmitter()
  private readonly sweeper: NodeJS.Timeout

  constructor () {
    this.bus.setMaxListeners(0)
    this.sweeper = setInterval(() => this.sweep(), 60_000)
    this.sweeper.unref()
  }

  private sweep (): void {
    const now = Date.now()
    for (const m of [this.reports, this.events, this.recent, this.inbound] as Array<Map<string, Expiring<unknown>>>) {
      for (const [k, v] of m) if (v.expires <= now) m.delete(k)
    }
  }

  isReady () { return true }
  async ping () {}

  async saveReport (report: Report, ttlSeconds: number) {
    // Stored as JSON so readers never share (and mutate) the live object.
    this.reports.set(report.id, { value: JSON.stringify(report), expires: Date.now() + ttlSeconds * 1000 })
  }

  async getReport (id: string) {
    const e = this.reports.get(id)
    if (!e || e.expires <= Date.now()) return null
    return JSON.parse(e.value) as Report
  }

  async appendEvent (id: string, ev: ReportEvent, ttlSeconds: number) {
    let e = this.events.get(id)
    if (!e) { e = { value: [], expires: 0 }; this.events.set(id, e) }
    e.value.push(ev)
    e.expires = Date.now() + ttlSeconds * 1000
    this.bus.emit(id, ev)
  }

  async appendEvents (id: string, evs: ReportEvent[], ttlSeconds: number) {
    let e = this.events.get(id)
    if (!e) { e = { value: [], expires: 0 }; this.events.set(id, e) }
    e.value.push(...evs)
    e.expires = Date.now() + ttlSeconds * 1000
    for (const ev of evs) this.bus.emit(id, ev)
  }

  async getEvents (id: string, after: number) {
    const e = this.events.get(id)
    return e ? e.value.filter((x) => x.seq > after) : []
  }

  async subscribe (id: string, onEvent: (ev: ReportEvent) => void) {
    this.bus.on(id, onEvent)
    return async () => { this.bus.off(id, onEvent) }
  }

  async acquireSlot (key: string, token: string, max: number, ttlMs: number) {
    const now = Date.now()
    let s = this.slots.get(key)
    if (!s) { s = new Map(); this.slots.set(key, s) }
    for (const [t, exp] of s) if (exp <= now) s.delete(t)
    if (s.size >= max) return false
    s.set(token, now + ttlMs)
    return true
  }

  async releaseSlot (key: string, token: string) {
    const s = this.slots.get(key)
    if (!s) return
    s.delete(token)
    if (s.size === 0) this.slots.delete(key)
  }

  async setRecent (key: string, value: string, ttlSeconds: number) {
    this.recent.set(key, { value, expires: Date.now() + ttlSeconds * 1000 })
  }

  async getRecent (key: string) {
    const e = this.recent.get(key)
    return e && e.expires > Date.now() ? e.value : null
  }

  async inboundCreate (rec: InboundAddress, ttlSeconds: number) {
    this.inbound.set(rec.token, { value: JSON.stringify(rec), expires: Date.now() + ttlSeconds * 1000 })
    this.due.set(rec.token, rec.expiresAt)
  }

  async inboundGet (token: string) {
    const e = this.inbound.get(token)
    return e && e.expires > Date.now() ? JSON.parse(e.value) as InboundAddress : null
  }

  async inboundTransition (token: string, from: Array<InboundAddress['state']>, to: InboundAddress['state'], now: number, opts: InboundTransitionOptions = {}) {
    // One thread: the read and the write below cannot interleave with another caller's.
    const e = this.inbound.get(token)
    if (!e || e.expires <= Date.now()) return { ok: false, rec: null }
    const rec = JSON.parse(e.value) as InboundAddress
    const stale = opts.staleClaimMs !== undefined && rec.state === 'receiving' && (rec.claimedAt ?? 0) + opts.staleClaimMs <= now
    if ((!from.includes(rec.state) && !stale) || (opts.requireLive && now >= rec.expiresAt)) return { ok: false, rec }
    rec.state = to
    if (to === 'receiving') rec.claimedAt = now
    e.value = JSON.stringify(rec)
    return { ok: true, rec }
  }

  async inboundDue (now: number, limit: number) {
    const out: string[] = []
    for (const [t, at] of this.due) {
      if (at <= now) out.push(t)
      if (out.length >= limit) break
    }
    return out
  }

  async inboundSettled (token: string) { this.due.delete(token) }

  async inboundDueAt (token: string, at: number) { this.due.set(token, at) }

  async close () { clearInterval(this.sweeper); this.bus.removeAllListeners() }
}
