// startCheck(): the one way a check is started, whoever asks (the JSON API,
// the no-JavaScript form, a script). It knows no HTTP: the caller has
// validated the input and applied the rate limits. It answers a repeat of
// an identical check from the recent report when asked to (reuseRecent),
// otherwise starts the check and either waits for its report or returns
// its id at once.
import { createHash } from 'node:crypto'
import type { Report } from '../core/report.js'
import type { Store } from '../store/types.js'
import type { Lang } from '../i18n/index.js'
import type { CheckDefinition } from './context.js'
import type { CheckRunner } from './runner.js'
import type { CallerAddresses } from '../net/caller.js'

export interface StartDeps {
  runner: CheckRunner
  store: Store
  /** identical repeats within this many seconds are answered from the recent report (0: never) */
  repeatWindowSeconds: number
  /** how long a repeat waits at most for the recent check to finish */
  checkDeadlineMs: number
}

export interface StartRequest<I> {
  def: CheckDefinition<I>
  input: I
  callerIp: string
  /** the caller's proven addresses (the connection's alone when absent) */
  caller?: CallerAddresses
  lang: Lang
  /** true: return the id as soon as the check runs; false: wait for the report */
  async: boolean
  /**
   * Abuse control for checks that hammer a server (relay, ports): an identical
   * request (same caller IP, same input) within the repeat window is answered
   * from the recent report, marked `cached: true, cachedFrom: <id>`, and opens no socket.
   */
  reuseRecent?: boolean
}

export type StartResult =
  | { kind: 'report', report: Report }
  | { kind: 'started', id: string, cached: boolean }

/** Key of "the same check again": type, the caller's exact IP and the canonical input. */
export function recentKey (type: string, ip: string, input: unknown): string {
  const canon = JSON.stringify(input, (_k, v) => v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v)
  return `${type}:${ip}:${createHash('sha256').update(canon).digest('base64url').slice(0, 22)}`
}

async function sleep (ms: number): Promise<void> { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * The recent report for this key, waiting (by polling the shared store, so it
 * works whichever instance runs it) while that check is still running.
 */
export async function recentReport (deps: StartDeps, key: string, wait: boolean): Promise<Report | null> {
  const id = await deps.store.getRecent(key)
  if (!id) return null
  const until = Date.now() + deps.checkDeadlineMs + 5000
  for (;;) {
    const r = await deps.store.getReport(id)
    if (!r) return null
    if (r.status !== 'running' || !wait || Date.now() > until) return r
    await sleep(200)
  }
}

export async function startCheck<I> (deps: StartDeps, o: StartRequest<I>): Promise<StartResult> {
  const reuseKey = o.reuseRecent && deps.repeatWindowSeconds > 0 ? recentKey(o.def.type, o.caller && o.caller.addresses.length > 1 ? o.caller.key() : o.callerIp, o.input) : null
  if (reuseKey) {
    const recent = await recentReport(deps, reuseKey, !o.async)
    if (recent) {
      if (o.async) return { kind: 'started', id: recent.id, cached: true }
      return { kind: 'report', report: { ...recent, cached: true, cachedFrom: recent.id } }
    }
  }
  const started = await deps.runner.start(o.def, o.input, o.caller ?? o.callerIp, o.lang)
  // Remembered from the start, so a repeat while it still runs waits for it instead of probing again.
  if (reuseKey) await deps.store.setRecent(reuseKey, started.id, deps.repeatWindowSeconds).catch(() => {})
  if (o.async) {
    started.done.catch(() => {})
    return { kind: 'started', id: started.id, cached: false }
  }
  return { kind: 'report', report: await started.done }
}
