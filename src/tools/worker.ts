// Runs in a worker thread of the tools pool (src/tools/pool.ts): the header
// analyzer and the mojibake repair are CPU-bound (a 256 KiB paste takes up to
// a second or more), so they never run on the main thread's event loop.
// Nor does their answer: an 'answer' job also builds the finished JSON body
// or page (src/web/tool-answers.ts, the one place this room reaches into
// src/web) and hands back its bytes, moved to the main thread, not copied.
// Errors go back as data: a thrown error loses its class crossing threads.
import type { MessagePort } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { analyzeHeaders, type HeaderAnalysis, type Origin } from './headers.js'
import { repairMojibake, type MojibakeResult } from './mojibake.js'
import { decodeFormValue } from './input.js'
import { headersJson, headersPage, mojibakeJson, mojibakePage, type AnswerBytes, type SavedLink } from '../web/tool-answers.js'
import type { Lang } from '../i18n/index.js'

interface JobBase {
  /** told when the job starts, so its time budget does not count the wait in the queue */
  started?: MessagePort
}
/** The finished answer: the API's JSON body or the result page. */
export interface AnswerJob extends JobBase {
  tool: 'answer'
  kind: 'headers' | 'mojibake'
  input: string
  /** input is a form field still percent-encoded (src/tools/input.ts splitToolForm) */
  inputEncoded: boolean
  as: 'json' | 'page'
  lang: Lang
  saved: SavedLink | null
  /** also hand back the result itself (to be stored) */
  keep: boolean
}
/** The page of a stored result (its headers analysis already has its PTR names). */
export interface PageJob extends JobBase {
  tool: 'page'
  kind: 'headers' | 'mojibake'
  value: HeaderAnalysis | MojibakeResult
  lang: Lang
  saved: SavedLink
}
export type Job = AnswerJob | PageJob

/** An answer job's outcome: the bytes, the origin (headers: its PTR is asked on the main thread), the result when kept. */
export interface Answer extends AnswerBytes {
  origin: Origin | null
  value: HeaderAnalysis | MojibakeResult | null
  /** the decoded input, when it was sent encoded and the result is kept */
  input: string | null
}
export type ToolJobResult =
  | { ok: true, value: unknown }
  | { ok: false, statusCode?: number, code?: string, message: string, field?: string }

function answer (job: AnswerJob): Answer {
  const input = job.inputEncoded ? decodeFormValue(job.input) : job.input
  const kept = job.keep && job.inputEncoded ? input : null
  if (job.kind === 'headers') {
    const a = analyzeHeaders(input)
    const out = job.as === 'json' ? headersJson(a, job.lang, job.saved) : headersPage(a, job.lang, job.saved, input, 'slot')
    return { ...out, origin: a.origin, value: job.keep ? a : null, input: kept }
  }
  const r = repairMojibake(input)
  const out = job.as === 'json' ? mojibakeJson(r, job.lang, job.saved) : mojibakePage(r, job.lang, job.saved, input)
  return { ...out, origin: null, value: job.keep ? r : null, input: kept }
}

function page (job: PageJob): Answer {
  const out = job.kind === 'headers'
    ? headersPage(job.value as HeaderAnalysis, job.lang, job.saved, null, 'inline')
    : mojibakePage(job.value as MojibakeResult, job.lang, job.saved, null)
  return { ...out, origin: null, value: null, input: null }
}

export default function runToolJob (job: Job): ToolJobResult {
  if (job.started) {
    job.started.postMessage('started')
    job.started.close()
  }
  try {
    const value = job.tool === 'answer' ? answer(job) : page(job)
    // The body's buffer is moved to the main thread (a transfer, no copy, no serialisation there).
    return Piscina.move({
      [Piscina.transferableSymbol]: value.body.buffer,
      [Piscina.valueSymbol]: { ok: true, value }
    } as never) as unknown as ToolJobResult
  } catch (err) {
    const e = err as Error & { statusCode?: number, code?: string, field?: string }
    return { ok: false, statusCode: e.statusCode, code: e.code, message: e.message, field: e.field }
  }
}
