// The forensics tools' worker pool: the header analyzer and the mojibake
// repair run in worker threads (piscina), never on the event loop, so
// /healthz, running probes and event streams keep answering while someone
// pastes 256 KiB. Bounded on both sides:
//   - at most `queue` jobs wait for a thread; one more is refused at once
//     with ToolsBusyError (503 + Retry-After), the main thread never waits;
//   - a job gets `timeoutMs` from the moment a thread takes it; past that its thread is stopped (piscina
//     terminates it and starts a fresh one) and the caller gets 422.
import { MessageChannel } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { BadInputError, PayloadTooLargeError } from '../errors.js'
import type { Job, AnswerJob, PageJob, Answer, ToolJobResult } from './worker.js'

export interface ToolsPoolOptions {
  threads: number
  queue: number
  timeoutMs: number
  /**
   * added to the worker threads' nice value (Linux: per thread): when the CPUs are short, the
   * event loop (health checks, probes, streams) runs before the tools; 0 leaves them equal
   */
  nice: number
  /** a worker failed outside a job (it could not start, or died): logged by the app */
  onError?: (err: unknown) => void
}

/** Every thread busy and the queue full: try again shortly. */
export class ToolsBusyError extends Error {
  statusCode = 503
  code = 'tools_busy'
  constructor (public retryAfterSeconds: number) {
    super(`the text tools are busy (every worker is analysing and the queue is full); try again in ${retryAfterSeconds} s`)
  }
}

/** The job ran past its time budget and was stopped. */
export class ToolTimeoutError extends Error {
  statusCode = 422
  code = 'too_complex'
  constructor (ms: number) {
    super(`the analysis took longer than ${(ms / 1000).toFixed(1)} s and was stopped; paste a shorter piece of text`)
  }
}

export class ToolsPool {
  private readonly pool: Piscina
  private waiting = 0

  constructor (readonly o: ToolsPoolOptions) {
    this.pool = new Piscina({
      // The worker beside this module: worker.js when built, worker.ts when run from source
      // (tests, benches): piscina loads it by URL, without the TypeScript loader's .js → .ts mapping.
      filename: new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href,
      // No thread until the first job: start-up stays quick, an idle instance holds no worker.
      minThreads: 0,
      maxThreads: o.threads,
      // Counted here (below) so a refusal never reaches piscina's queue.
      maxQueue: Math.max(1, o.queue),
      idleTimeout: 60_000,
      niceIncrement: o.nice
    })
    // A worker that cannot start or dies is that job's failure (its promise rejects, a 500 the
    // error handler hides), never an unhandled 'error' event that would stop the whole service.
    this.pool.on('error', (err: unknown) => { o.onError?.(err) })
  }

  get threads (): number { return this.pool.threads.length }
  get queued (): number { return this.pool.queueSize }

  /** The tool's finished answer (JSON body or page) as bytes built in the worker: the routes only write them. */
  answer (job: Omit<AnswerJob, 'tool' | 'started'>): Promise<Answer> { return this.run({ ...job, tool: 'answer' }) as Promise<Answer> }
  /** A stored result's page, rendered in the worker. */
  page (job: Omit<PageJob, 'tool' | 'started'>): Promise<Answer> { return this.run({ ...job, tool: 'page' }) as Promise<Answer> }

  private async run (job: Job): Promise<unknown> {
    // Jobs beyond the threads wait; at most `queue` of them.
    if (this.waiting >= this.o.threads + this.o.queue) throw new ToolsBusyError(Math.max(1, Math.ceil(this.o.timeoutMs / 1000)))
    this.waiting++
    // The budget starts when a worker takes the job (it says so on this channel), not while it waits.
    const abort = new AbortController()
    let timedOut = false
    let timer: NodeJS.Timeout | null = null
    const channel = new MessageChannel()
    channel.port1.once('message', () => {
      timer = setTimeout(() => { timedOut = true; abort.abort() }, this.o.timeoutMs)
    })
    let r: ToolJobResult
    try {
      r = await this.pool.run({ ...job, started: channel.port2 }, { signal: abort.signal, transferList: [channel.port2] as never }) as ToolJobResult
    } catch (err) {
      if (timedOut) throw new ToolTimeoutError(this.o.timeoutMs)
      throw err
    } finally {
      this.waiting--
      if (timer) clearTimeout(timer)
      channel.port1.close()
    }
    if (r.ok) return r.value
    if (r.statusCode === 413) throw new PayloadTooLargeError(r.message)
    if (r.statusCode === 400) throw new BadInputError(r.message, r.field)
    throw new Error(r.message)
  }

  async close (): Promise<void> { await this.pool.destroy() }
}
