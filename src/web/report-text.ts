// A report as plain text for pasting into a help forum or a mail, in one
// language: the MX -> IP table first, the verdict, what to fix, the steps,
// the transcript (the test mail cut to its headers), local times. Pure function:
// the web page shows it in a copy block, the API can answer text/plain.
import type { Report, TranscriptLine } from '../core/report.js'
import type { Lang } from '../i18n/index.js'
import { checkName } from '../i18n/checks.js'

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

const STATUS: Record<string, { ja: string, en: string }> = {
  pass: { ja: 'OK', en: 'OK' },
  warn: { ja: '注意', en: 'warning' },
  fail: { ja: '問題あり', en: 'problem' },
  error: { ja: 'エラー (mxprobe 側)', en: 'error (on mxprobe\'s side)' },
  running: { ja: '実行中', en: 'running' },
  queued: { ja: '待機中', en: 'waiting' },
  info: { ja: '情報', en: 'info' },
  skip: { ja: '省略', en: 'skipped' }
}

function statusText (s: string, lang: Lang): string {
  return STATUS[s]?.[lang] ?? s
}

/**
 * A time in the reader's zone, the zone always shown: Japanese readers get
 * JST (Asia/Tokyo), others UTC unless a zone is given.
 */
export function localTime (iso: string, lang: Lang, timeZone?: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const zone = timeZone ?? (lang === 'ja' ? 'Asia/Tokyo' : 'UTC')
  let parts: Intl.DateTimeFormatPart[]
  try {
    parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short' }).formatToParts(d)
  } catch {
    return localTime(iso, lang)
  }
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? ''
  const name = zone === 'Asia/Tokyo' ? 'JST' : zone === 'UTC' ? 'UTC' : get('timeZoneName')
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${name}`
}

interface MxRow { host: string, priority: number, addresses: string[], ttl: number | null }

/** The MX → IP table a helper on a forum asks for first. */
function mxTable (r: Report, lang: Lang): string[] {
  const out: string[] = []
  const t = r.target ?? { domain: null, host: null, ip: null }
  const facts = (r.dns && typeof r.dns === 'object' ? r.dns : null) as { mx?: MxRow[], implicitMx?: boolean, nullMx?: boolean } | null
  out.push(lang === 'ja' ? 'MX → IP アドレス' : 'MX → IP address')
  if (t.domain) out.push(`  ${lang === 'ja' ? 'ドメイン' : 'domain'}: ${t.domain}`)
  if (facts?.nullMx) {
    out.push(`  ${lang === 'ja' ? 'null MX (メールを受け取らない設定)' : 'null MX (accepts no mail)'}`)
  } else if (facts?.mx?.length) {
    if (facts.implicitMx) out.push(`  ${lang === 'ja' ? 'MX レコードなし (ドメイン自身のアドレスを使用)' : 'no MX record (the domain\'s own address is used)'}`)
    for (const m of facts.mx) {
      const addrs = m.addresses.length ? m.addresses.join(', ') : (lang === 'ja' ? '(アドレスなし)' : '(no address)')
      const ttl = m.ttl === null ? '' : lang === 'ja' ? ` (TTL ${m.ttl} 秒)` : ` (TTL ${m.ttl} s)`
      out.push(`  MX ${m.priority} ${m.host} → ${addrs}${ttl}`)
    }
  } else if (t.host || t.ip) {
    out.push(`  MX ${t.host ?? '?'} → ${t.ip ?? '?'}`)
  } else {
    out.push(`  ${lang === 'ja' ? '(このテストでは MX を調べていません)' : '(this test does not look up the MX)'}`)
  }
  out.push(`  ${lang === 'ja' ? 'テストしたアクセス元 IP' : 'tested from IP'}: ${r.callerIp}${t.ip && t.ip !== r.callerIp ? ` (${lang === 'ja' ? 'テスト先' : 'target'} ${t.ip})` : ''}`)
  return out
}

/**
 * The transcript lines, with the test mail shortened to its headers: what
 * went out after DATA up to the final "." is mxprobe's own test text, not
 * worth pasting.
 */
function transcriptLines (lines: TranscriptLine[], lang: Lang): string[] {
  const out: string[] = []
  const width = Math.max(6, ...lines.map((l) => String(Math.round(l.at)).length))
  let inData = false
  let inBody = false
  let skipped = 0
  for (const l of lines) {
    if (inData && l.dir === 'C') {
      if (l.text === '.') {
        if (skipped) out.push(`${' '.repeat(width)}    ${lang === 'ja' ? `(本文は mxprobe のテスト用の文面です。${skipped} 行を省略)` : `(the body was mxprobe's test text; ${skipped} lines left out)`}`)
        inData = false
        inBody = false
        skipped = 0
        out.push(transcriptLineText(l, width))
        continue
      }
      if (inBody) { skipped++; continue }
      if (l.text === '') { inBody = true; continue }
      out.push(transcriptLineText(l, width))
      continue
    }
    if (l.dir === 'C' && /^DATA$/i.test(l.text.trim())) inData = true
    out.push(transcriptLineText(l, width))
  }
  return out
}

export interface ReportTextMore extends ReportTextOptions {
  /** IANA zone of the reader (the page knows it); default JST for Japanese, UTC otherwise */
  timeZone?: string
}

/**
 * The report as plain text for a help forum, in one language: the MX → IP
 * table first, the verdict, what to fix (no internal codes), the steps by
 * their titles, then the transcript. Lines are not wrapped: the reader's
 * window does that.
 */
export function reportText (r: Report, opts: ReportTextMore = {}): string {
  const lang: Lang = opts.lang ?? (r.lang === 'ja' ? 'ja' : 'en')
  const ja = lang === 'ja'
  const out: string[] = []
  const name = checkName(r.type, lang)
  out.push(ja ? `mxprobe ${name}の結果 (${r.id})` : `mxprobe ${name} report (${r.id})`)
  out.push('')
  out.push(...mxTable(r, lang))
  out.push('')
  out.push(`${ja ? '結果' : 'Result'}: ${statusText(r.status, lang)}${r.summary ? ` — ${visibleControls(r.summary)}` : ''}`)
  const seconds = typeof r.durationMs === 'number' ? (ja ? ` (${(r.durationMs / 1000).toFixed(1)} 秒)` : ` (${(r.durationMs / 1000).toFixed(1)} s)`) : ''
  out.push(`${ja ? '日時' : 'Time'}: ${localTime(r.startedAt, lang, opts.timeZone)}${r.finishedAt ? ` 〜 ${localTime(r.finishedAt, lang, opts.timeZone).split(' ').slice(1).join(' ')}` : ''}${seconds}`.replace(' 〜 ', ja ? ' 〜 ' : ' to '))
  if (opts.pageUrl) out.push(`${ja ? 'ページ' : 'Page'}: ${opts.pageUrl}`)

  const fix = Array.isArray(r.fixFirst) ? r.fixFirst as Array<{ check: string, message: string }> : null
  const children = Array.isArray(r.children) ? r.children as Array<{ type: string, id: string | null, status: string, summary?: string }> : null
  if (children) {
    out.push('', ja ? '各テストの結果:' : 'Each test:')
    const base = opts.pageUrl ? opts.pageUrl.replace(/\/r\/[^/]*$/, '/r/') : null
    for (const c of children) {
      const link = c.id ? (base ? ` ${base}${c.id}` : ` (${c.id})`) : ''
      out.push(`  [${statusText(c.status, lang)}] ${checkName(c.type, lang)}${c.summary ? `: ${visibleControls(c.summary)}` : ''}${link}`)
    }
  }
  if (fix) {
    out.push('', ja ? 'まずこれを直す (上から順に):' : 'Fix first (in this order):')
    if (!fix.length) out.push(`  ${ja ? '(直すべき点は見つかりませんでした)' : '(nothing to fix was found)'}`)
    fix.forEach((f, i) => out.push(`  ${i + 1}. [${checkName(f.check, lang)}] ${visibleControls(f.message)}`))
  }

  if (r.steps?.length && !children) {
    out.push('', ja ? 'ステップ:' : 'Steps:')
    for (const s of r.steps) {
      const ms = typeof s.ms === 'number' ? ` (${s.ms} ms)` : ''
      out.push(`  [${statusText(s.status, lang)}] ${s.title ?? s.name}: ${visibleControls(redactSecrets(s.detail))}${ms}`)
    }
  }
  if (r.advice?.length && !fix) {
    out.push('', ja ? 'アドバイス:' : 'Advice:')
    for (const a of r.advice) out.push(`  ・${visibleControls((ja ? a.ja : a.en) ?? a.message)}`)
  }
  if (!children) {
    out.push('', ja
      ? 'やり取り (開始からのミリ秒。-> mxprobe が送信、<- サーバーの応答、-- メモ):'
      : 'Transcript (ms since start; -> sent by mxprobe, <- received from the server, -- note):')
    if (!r.transcript?.length) out.push(`  ${ja ? '(なし)' : '(no lines)'}`)
    out.push(...transcriptLines(r.transcript ?? [], lang))
  }
  return out.join('\n') + '\n'
}
