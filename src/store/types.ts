// Shared state behind one interface: reports, their event streams and the
// concurrency slots. Memory for one process; Redis when several instances
// share the work. Rate-limit counters live in @fastify/rate-limit's own
// store, on the same Redis client.
import type { Report, ReportEvent } from '../core/report.js'

/** A one-time address of the send test (t-<token>@INBOUND_DOMAIN) and the state of its one use. */
export interface InboundAddress {
  token: string
  reportId: string
  /** the caller who started the test: the reply leg goes only to this IP */
  callerIp: string
  /** the sender's domain the caller named */
  domain: string
  reply: boolean
  lang: 'ja' | 'en'
  createdAt: number
  /** epoch ms after which RCPT is refused and the test ends without mail */
  expiresAt: number
  /** waiting → receiving (RCPT taken by one session) → used, or → expired; receiving → waiting when that session fails */
  state: 'waiting' | 'receiving' | 'used' | 'expired'
  claimedAt?: number
}

export interface InboundTransition {
  /** the state change happened */
  ok: boolean
  /** the record after the change (or as it is, when refused); null when there is no such address */
  rec: InboundAddress | null
}

export interface InboundTransitionOptions {
  /** also allowed from `receiving` when that claim is older than this (a crashed instance's session) */
  staleClaimMs?: number
  /** refuse when the address has expired (now >= expiresAt) */
  requireLive?: boolean
}

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
  /** store a new one-time address (kept ttlSeconds) and list it for the expiry sweep */
  inboundCreate: (rec: InboundAddress, ttlSeconds: number) => Promise<void>
  inboundGet: (token: string) => Promise<InboundAddress | null>
  /** atomically move an address from one of `from` to `to` (every instance sees one winner) */
  inboundTransition: (token: string, from: Array<InboundAddress['state']>, to: InboundAddress['state'], now: number, opts?: InboundTransitionOptions) => Promise<InboundTransition>
  /** tokens whose deadline has passed and that nobody has settled yet */
  inboundDue: (now: number, limit: number) => Promise<string[]>
  /** take a token off the expiry sweep */
  inboundSettled: (token: string) => Promise<void>
  /** list a token (again) for the sweep, due at `at` (ms): the watch over an analysis in progress */
  inboundDueAt: (token: string, at: number) => Promise<void>
  close: () => Promise<void>
}
