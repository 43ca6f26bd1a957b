// A refusal (the target rule said no before any socket) is stored as a
// report of its own: the page a person is sent to has a permalink (/r/:id)
// to share in a help forum, its forum text, and a button to try again, and
// reloading it does not post the form again. The report is the check's own
// type, `fail`, with one `refusal` step, the classic mistakes as its advice
// (so the forum text and the fix-first order treat them as any finding),
// the DNS facts and the form fields to try again with (never a password).
import type { ReportBuilder } from '../core/report.js'
import type { RefusalError } from '../errors.js'
import { classify } from './fix-order.js'
import { causeWords } from '../i18n/fix-order.js'
import type { Lang } from '../i18n/index.js'

const SECRET = new Set(['password', 'username', 'proofs'])

/** The form fields to try again with: the input's plain values, never credentials or proofs. */
export function retryInput (input: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!input || typeof input !== 'object') return out
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (SECRET.has(k)) continue
    if (typeof v === 'string' || typeof v === 'number') out[k] = String(v)
  }
  return out
}

/** The headline of a refusal: the first mistake's cause in words ('' when DNS showed no classic mistake). */
export function refusalHeadline (err: Pick<RefusalError, 'findings'>, lang: Lang): string {
  for (const f of err.findings) {
    const k = classify(f)
    if (k) return causeWords(k.words, lang, f.params)
  }
  return ''
}

export function fillRefusal (report: ReportBuilder, err: RefusalError, input: unknown, lang: Lang): void {
  report.step('refusal', 'fail', err.message)
  for (const f of err.findings) report.advise(f.code, f.params)
  if (err.dns && typeof err.dns === 'object' && Array.isArray((err.dns as { mx?: unknown }).mx)) report.set('dns', err.dns as never)
  if (Array.isArray(err.extra.fixFirst)) report.set('fixFirst', err.extra.fixFirst as never)
  const retry = err.extra.retry && typeof err.extra.retry === 'object' ? err.extra.retry as { possible?: boolean, afterSeconds?: number, message?: string } : undefined
  report.set('refusal', { error: err.code, input: retryInput(input), ...(retry ? { retry } : {}) })
  const head = refusalHeadline(err, lang)
  report.finish(head ? `${head}${lang === 'ja' ? '。' : '.'}` : err.message)
}
