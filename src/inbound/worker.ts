// Runs in a worker thread of the send test's analysis pool (./pool.ts): the
// part of the analysis that reads the attacker-controlled message (DKIM,
// DMARC, the header tool, charsets) never runs on the main thread's event
// loop. Its DNS questions go to the main thread over `port` (which answers
// them within the mail's lookup budget); nothing here opens a socket.
import type { MessagePort } from 'node:worker_threads'
import type { Resolver } from 'mailauth'
import { analyzeContent, type ContentFindings } from './content.js'

export interface AnalysisJob {
  raw: Uint8Array
  sender: string
  spfPassDomain: string | null
  /** 'started' when the job begins (its time budget starts then), then DNS questions; answers come back on it */
  port: MessagePort
}
export type AnalysisJobResult =
  | { ok: true, value: ContentFindings, printed: number }
  | { ok: false, message: string, printed: number }

/** A DNS question to the main thread, and its answer. */
export interface DnsQuestion { q: number, name: string, type: string }
export type DnsAnswer = { q: number, ok: true, value: unknown[] } | { q: number, ok: false, code: string, message: string }

// Nothing a library prints reaches the service's stdout (mailauth prints a "TOTAL … EXPECTING …"
// line for each signature whose l= does not match the body): counted, handed back, dropped.
let printed = 0
const drop = (): void => { printed++ }
for (const k of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) console[k] = drop

function portResolver (port: MessagePort): Resolver {
  let next = 0
  const waiting = new Map<number, { resolve: (v: unknown[]) => void, reject: (e: Error) => void }>()
  port.on('message', (a: DnsAnswer) => {
    const w = waiting.get(a.q)
    if (!w) return
    waiting.delete(a.q)
    if (a.ok) w.resolve(a.value)
    else w.reject(Object.assign(new Error(a.message), { code: a.code }))
  })
  return async (name: string, type: string) => await new Promise<unknown[]>((resolve, reject) => {
    const q = ++next
    waiting.set(q, { resolve, reject })
    port.postMessage({ q, name: String(name), type: String(type) } satisfies DnsQuestion)
  })
}

export default async function runAnalysis (job: AnalysisJob): Promise<AnalysisJobResult> {
  printed = 0
  job.port.postMessage('started')
  const resolver = portResolver(job.port)
  try {
    const value = await analyzeContent(Buffer.from(job.raw.buffer, job.raw.byteOffset, job.raw.byteLength), { sender: job.sender, spfPassDomain: job.spfPassDomain, resolver })
    return { ok: true, value, printed }
  } catch (err) {
    return { ok: false, message: (err as Error).message, printed }
  } finally {
    job.port.close()
  }
}
