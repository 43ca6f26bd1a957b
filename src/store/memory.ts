// In-memory store: the embedded default for a single process.
import { EventEmitter } from 'node:events'
import type { Store } from './types.js'
import type { Report, ReportEvent } from '../checks/report.js'

interface Expiring<T> { value: T, expires: number }

export class MemoryStore implements Store {
  readonly kind = 'memory' as const
  private readonly reports = new Map<string, Expiring<string>>()
  private readonly events = new Map<string, Expiring<ReportEvent[]>>()
  private readonly slots = new Map<string, Map<string, number>>()
  private readonly recent = new Map<string, Expiring<string>>()
  private readonly bus = new EventEmitter()
  private readonly sweeper: NodeJS.Timeout

  constructor () {
    this.bus.setMaxListeners(0)
    this.sweeper = setInterval(() => this.sweep(), 60_000)
    this.sweeper.unref()
  }

  private sweep (): void {
    const now = Date.now()
    for (const m of [this.reports, this.events, this.recent] as Array<Map<string, Expiring<unknown>>>) {
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

  async close () { clearInterval(this.sweeper); this.bus.removeAllListeners() }
}
