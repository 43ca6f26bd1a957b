// A report as plain, fixed-width text for pasting into a help forum or a
// mail: what was checked, when, from which IP, against what, the verdict,
// and the whole transcript with direction marks and timings. Pure function:
// the web page shows it in a copy block, the API can answer text/plain.
import type { Report, TranscriptLine } from './report.js'
import type { Lang } from '../i18n/index.js'

export interface ReportTextOptions {
  /** language of advice texts (default: the report's own) */
  lang?: Lang
  /** absolute URL of the report page, printed when given */
  pageUrl?: string
}

/** Direction marks: what mxprobe sent, what the server answered, what mxprobe noted. */
export const DIR_MARK: Record<string, string> = { C: '->', S: '<-', I: '--' }

/**
 * Hide credentials that might appear in a command line. Checks are meant to
 * record them as redacted already; this is the second lock on the door.
 */
export function redactSecrets (text: string): string {
  return text
    .replace(/^(\s*PASS\s+).+$/i, '$1********')
    .replace(/^(\s*AUTH\s+(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER|CRAM-MD5)\s+).+$/i, '$1********')
    .replace(/^(\s*APOP\s+\S+\s+).+$/i, '$1********')
}

/** Control characters (terminal escapes, NUL, CR) shown as \xNN so the text stays plain. */
export function visibleControls (text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

export function transcriptLineText (l: TranscriptLine, width = 6): string {
  return `${String(Math.round(l.at)).padStart(width)} ms ${DIR_MARK[l.dir] ?? '  '} ${visibleControls(redactSecrets(l.text))}`
}

/** Wrap prose at spaces to `width` columns (words longer than that, and text without spaces, stay whole). */
export function wrapText (text: string, width: number, indent: string): string[] {
  const out: string[] = []
  let line = ''
  for (const word of text.split(/ +/)) {
    if (line && line.length + 1 + word.length > width) { out.push(line); line = word } else line = line ? `${line} ${word}` : word
  }
  if (line) out.push(line)
  return out.map((l, i) => (i === 0 ? l : indent + l))
}

function pad (label: string): string {
  return (label + ':').padEnd(11)
}

export function reportText (r: Report, opts: ReportTextOptions = {}): string {
  const lang: Lang = opts.lang ?? (r.lang === 'ja' ? 'ja' : 'en')
  const out: string[] = []
  const t = r.target ?? { domain: null, host: null, ip: null }
  const duration = typeof r.durationMs === 'number' ? ` (${r.durationMs} ms)` : ''
  out.push(`mxprobe report ${r.id}`)
  out.push(`${pad('check')}${r.type}`)
  out.push(`${pad('time')}${r.startedAt}${r.finishedAt ? ` .. ${r.finishedAt}` : ''}${duration}`)
  out.push(`${pad('caller IP')}${r.callerIp}`)
  out.push(`${pad('target')}${[t.domain ? `domain ${t.domain}` : '', t.host ? `host ${t.host}` : '', t.ip ? `ip ${t.ip}` : ''].filter(Boolean).join(', ') || '-'}`)
  out.push(`${pad('verdict')}${r.status.toUpperCase()}${r.summary ? ` - ${visibleControls(r.summary)}` : ''}`)
  if (opts.pageUrl) out.push(`${pad('page')}${opts.pageUrl}`)

  if (r.steps?.length) {
    out.push('', 'steps:')
    const w = Math.min(28, Math.max(...r.steps.map((s) => s.name.length)))
    for (const s of r.steps) {
      const ms = typeof s.ms === 'number' ? ` (${s.ms} ms)` : ''
      out.push(`  [${s.status.padEnd(5)}] ${s.name.padEnd(w)}  ${visibleControls(redactSecrets(s.detail))}${ms}`)
    }
  }
  if (r.advice?.length) {
    out.push('', 'advice:')
    for (const a of r.advice) {
      const text = (lang === 'ja' ? a.ja : a.en) ?? a.message
      out.push(...wrapText(`  * [${a.code}] ${visibleControls(text)}`, 96, '    '))
    }
  }
  out.push('', 'transcript (ms since start; -> sent by mxprobe, <- received from the server, -- note):')
  if (!r.transcript?.length) out.push('  (no lines)')
  const width = Math.max(6, ...(r.transcript ?? []).map((l) => String(Math.round(l.at)).length))
  for (const l of r.transcript ?? []) out.push(transcriptLineText(l, width))
  return out.join('\n') + '\n'
}
