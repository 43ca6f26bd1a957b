// The send test's analysis pool: the worker threads (piscina) that read the
// received message (./worker.ts). Each job has a hard time budget from the
// moment a thread takes it: past it, the thread is terminated (piscina stops
// it and starts a fresh one) and the caller gets AnalysisTimeoutError; the
// work does not go on in the background. The threads' DNS questions are
// answered here, on the main thread, by the `resolve` the caller gives (the
// mail's lookup budget).
import { MessageChannel } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { ContentFindings } from './content.js'
import type { AnalysisJob, AnalysisJobResult, DnsAnswer, DnsQuestion } from './worker.js'

export interface AnalysisPoolOptions {
  threads: number
  /** a job's time budget from the moment a thread takes it */
  budgetMs: number
  /** added to the threads' nice value (Linux), so the event loop runs first when CPUs are short */
  nice: number
  onError?: (err: unknown) => void
  /** lines a library printed in the worker (dropped, not written to stdout) */
  onPrinted?: (lines: number) => void
}

/** The job ran past its budget; its thread was terminated. */
export class AnalysisTimeoutError extends Error {
  code = 'analysis_timeout'
  constructor (readonly budgetMs: number) { super(`the analysis ran past its ${budgetMs} ms budget and was stopped`) }
}

export class AnalysisPool {
  private readonly pool: Piscina
  /** jobs finished, and jobs stopped at their budget (their thread terminated) */
  completed = 0
  stopped = 0

  constructor (readonly o: AnalysisPoolOptions) {
    this.pool = new Piscina({
      filename: new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: o.threads,
      idleTimeout: 60_000,
      niceIncrement: o.nice
    })
    this.pool.on('error', (err: unknown) => { o.onError?.(err) })
  }

  get threads (): number { return this.pool.threads.length }

  async analyze (raw: Buffer, job: { sender: string, spfPassDomain: string | null }, resolve: (name: string, type: string) => Promise<unknown[]>): Promise<ContentFindings> {
    const abort = new AbortController()
    let timedOut = false
    let timer: NodeJS.Timeout | null = null
    const channel = new MessageChannel()
    const port = channel.port1
    port.on('message', (m: 'started' | DnsQuestion) => {
      if (m === 'started') {
        timer = setTimeout(() => { timedOut = true; abort.abort() }, this.o.budgetMs)
        return
      }
      resolve(m.name, m.type).then(
        (value) => ({ q: m.q, ok: true as const, value }),
        (err: Error & { code?: string }) => ({ q: m.q, ok: false as const, code: String(err.code ?? 'ESERVFAIL'), message: err.message })
      ).then((a: DnsAnswer) => { try { port.postMessage(a) } catch { /* the job is over */ } }, () => {})
    })
    // A copy in its own memory, moved to the thread (a slice of node's shared buffer pool cannot be moved).
    const copy = new Uint8Array(raw.length)
    copy.set(raw)
    let r: AnalysisJobResult
    try {
      const task: AnalysisJob = { raw: copy, sender: job.sender, spfPassDomain: job.spfPassDomain, port: channel.port2 }
      r = await this.pool.run(task, { signal: abort.signal, transferList: [channel.port2, copy.buffer] as never }) as AnalysisJobResult
    } catch (err) {
      if (timedOut) { this.stopped++; throw new AnalysisTimeoutError(this.o.budgetMs) }
      throw err
    } finally {
      if (timer) clearTimeout(timer)
      port.close()
    }
    this.completed++
    if (r.printed) this.o.onPrinted?.(r.printed)
    if (!r.ok) throw new Error(r.message)
    return r.value
  }

  async close (): Promise<void> { await this.pool.destroy() }
}
