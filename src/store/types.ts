// Shared state behind one interface: reports, their event streams and the
// concurrency slots. Memory for one process; Redis when several instances
// share the work. Rate-limit counters live in @fastify/rate-limit's own
// store, on the same Redis client.
import type { Report, ReportEvent } from '../checks/report.js'

export interface Store {
  readonly kind: 'memory' | 'redis'
  /** true when the store can answer now (Redis connected) */
  isReady: () => boolean
  ping: () => Promise<void>
  saveReport: (report: Report, ttlSeconds: number) => Promise<void>
  getReport: (id: string) => Promise<Report | null>
  /** append to the report's event log and notify followers on every instance */
  appendEvent: (id: string, ev: ReportEvent, ttlSeconds: number) => Promise<void>
  /**
   * Append several events in one write (one Redis round trip), in order;
   * followers still see them one by one. Optional: without it the runner
   * falls back to appendEvent per event.
   */
  appendEvents?: (id: string, evs: ReportEvent[], ttlSeconds: number) => Promise<void>
  /** events so far (seq > after) */
  getEvents: (id: string, after: number) => Promise<ReportEvent[]>
  /** follow new events of a report; returns an unsubscribe function */
  subscribe: (id: string, onEvent: (ev: ReportEvent) => void) => Promise<() => Promise<void>>
  /**
   * Take one of `max` slots named `key` for `ttlMs` (a crashed instance's slot
   * frees itself); false when all are taken.
   */
  acquireSlot: (key: string, token: string, max: number, ttlMs: number) => Promise<boolean>
  releaseSlot: (key: string, token: string) => Promise<void>
  /** short-lived key/value for answering repeated identical checks from the recent report */
  setRecent: (key: string, value: string, ttlSeconds: number) => Promise<void>
  getRecent: (key: string) => Promise<string | null>
  close: () => Promise<void>
}
