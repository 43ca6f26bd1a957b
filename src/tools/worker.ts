// Runs in a worker thread of the tools pool (src/tools/pool.ts): the header
// analyzer and the mojibake repair are CPU-bound (a 256 KiB paste takes up to
// a second or more), so they never run on the main thread's event loop.
// Errors go back as data: a thrown error loses its class crossing threads.
import type { MessagePort } from 'node:worker_threads'
import { analyzeHeaders } from './headers.js'
import { repairMojibake } from './mojibake.js'

export interface ToolJob {
  tool: 'headers' | 'mojibake'
  input: string
  /** told when the job starts, so its time budget does not count the wait in the queue */
  started?: MessagePort
}
export type ToolJobResult =
  | { ok: true, value: unknown }
  | { ok: false, statusCode?: number, code?: string, message: string, field?: string }

export default function runToolJob (job: ToolJob): ToolJobResult {
  if (job.started) {
    job.started.postMessage('started')
    job.started.close()
  }
  try {
    const value = job.tool === 'headers' ? analyzeHeaders(job.input) : repairMojibake(job.input)
    return { ok: true, value }
  } catch (err) {
    const e = err as Error & { statusCode?: number, code?: string, field?: string }
    return { ok: false, statusCode: e.statusCode, code: e.code, message: e.message, field: e.field }
  }
}
