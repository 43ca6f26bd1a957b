// What the tools keep and say besides their raw result: the report-shaped
// record saved with ?save=1 (served by /api/v1/checks/:id and /tools/r/:id),
// its summary, and the advice list of the mojibake answer.
import { stepTitle } from '../i18n/steps.js'
import { adviceText, type Lang } from '../i18n/index.js'
import { newReportId, type Report, type Status } from '../core/report.js'
import type { HeaderAnalysis } from './headers.js'
import type { MojibakeResult } from './mojibake.js'

/** Links of a saved tool result. */
export function toolLinks (id: string): { self: string, page: string } {
  return { self: `/api/v1/checks/${id}`, page: `/tools/r/${id}` }
}

/** A report-shaped record of a tool result, so the common report endpoints can serve it. */
function toolReport (type: 'headers' | 'mojibake', ip: string, lang: Lang, status: Status, summary: string,
  advice: Report['advice'], steps: Report['steps'], extra: Record<string, unknown>, id: string): Report {
  const now = new Date().toISOString()
  return {
    id,
    type,
    status,
    callerIp: ip,
    target: { domain: null, host: null, ip: null },
    startedAt: now,
    finishedAt: now,
    summary,
    steps,
    transcript: [],
    advice,
    lang,
    ...extra
  }
}

export function headersSummary (a: HeaderAnalysis, lang: Lang): string {
  const o = a.origin
  if (lang === 'ja') return `${a.hops.length} 経路${o?.ip ? `、送信元と思われる IP ${o.ip}` : ''}${Object.keys(a.verdicts).length ? `、${Object.entries(a.verdicts).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`
  return `${a.hops.length} hop(s)${o?.ip ? `, likely origin ${o.ip}` : ''}${Object.keys(a.verdicts).length ? `, ${Object.entries(a.verdicts).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`
}

/** id: given when the answer carrying the link was built before the record (src/web/tool-answers.ts). */
export function headersRecord (a: HeaderAnalysis, ip: string, lang: Lang, id = newReportId()): Report {
  const status: Status = a.findings.some((f) => f.severity === 'warn') ? 'warn' : 'pass'
  const steps = a.hops.map((h) => ({
    name: `hop ${h.index}`,
    title: stepTitle(`hop ${h.index}`, lang),
    status: 'info' as const,
    detail: h.parsed
      ? `from ${h.fromRdns ?? h.fromHost ?? '-'}${h.fromIp ? ` [${h.fromIp}]` : ''} by ${h.byHost ?? '-'}${h.protocol ? ` with ${h.protocol}` : ''}${h.tls ? ' (TLS)' : ''}${h.date ? ` at ${h.date}` : ''}${h.flags.length ? ` {${h.flags.join(', ')}}` : ''}`
      : `unparsed: ${h.raw.slice(0, 500)}`
  }))
  const advice = a.findings.map((f) => ({ code: f.code, message: lang === 'ja' ? f.ja : f.en, ja: f.ja, en: f.en, params: f.params }))
  return toolReport('headers', ip, lang, status, headersSummary(a, lang), advice, steps, { analysis: a }, id)
}

export function mojibakeRecord (r: MojibakeResult, input: string, ip: string, lang: Lang, id = newReportId()): Report {
  const best = r.candidates[0]
  const advice: Report['advice'] = []
  const add = (code: string, params: Record<string, unknown> = {}): void => {
    const ja = adviceText(code, 'ja', params)
    const en = adviceText(code, 'en', params)
    advice.push({ code, message: lang === 'ja' ? ja : en, ja, en, params })
  }
  if (r.unchanged) add('tools.mojibake.unchanged')
  if (best.lost) add('tools.mojibake.lossy', { lost: best.lost })
  const steps = r.candidates.map((c, i) => ({ name: `candidate ${i + 1}`, title: stepTitle(`candidate ${i + 1}`, lang), status: 'info' as const, detail: `${c.path.length ? c.path.join(' → ') : 'no change'} (score ${c.score})` }))
  const summary = best.path.length ? `${best.path.join(' → ')}: ${best.text.slice(0, 200)}` : (lang === 'ja' ? '変換なしが最良' : 'no change reads best')
  return toolReport('mojibake', ip, lang, best.lost ? 'warn' : 'pass', summary, advice, steps, { input, repair: r }, id)
}

export function mojibakeAdvice (r: MojibakeResult, lang: Lang): Array<{ code: string, message: string }> {
  const out: Array<{ code: string, message: string }> = []
  if (r.unchanged) out.push({ code: 'tools.mojibake.unchanged', message: adviceText('tools.mojibake.unchanged', lang) })
  const best = r.candidates[0]
  if (best?.lost) out.push({ code: 'tools.mojibake.lossy', message: adviceText('tools.mojibake.lossy', lang, { lost: best.lost }) })
  return out
}
