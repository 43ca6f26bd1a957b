// What was pasted (header values, hops) is marked class="verbatim": it is
// shown as it came, in whatever language it came.
// The forensics tools' pages (mail header analyzer, mojibake repair): the
// same layout, navigation, stylesheet and escape-by-default template as
// every other page. The forms work without JavaScript; the result pages
// load the page script only for their copy buttons. Pasted text and header
// content reach the page only through html`` and visible(), which also
// shows control characters as \xNN.
import { html, type SafeHtml } from './html.js'
import { layout, timeEl } from './pages.js'
import { webText } from '../i18n/web.js'
import { adviceText, registerAdvice, type Lang } from '../i18n/index.js'
import { TOOLS_ADVICE } from '../i18n/advice/tools.js'
import type { HeaderAnalysis, Hop, Origin } from '../tools/headers.js'
import type { MojibakeResult, Candidate } from '../tools/mojibake.js'

registerAdvice(TOOLS_ADVICE)

export type Tool = 'headers' | 'mojibake'
type Saved = { id: string, page: string, self: string } | null

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/

/** Text with control characters made visible as <span class="ctl">\xNN</span>; everything else escaped. */
export function visible (value: unknown): SafeHtml {
  const s = value === null || value === undefined ? '' : String(value)
  if (!CONTROL.test(s)) return html`${s}`
  const parts: Array<string | SafeHtml> = []
  let last = 0
  for (let i = 0; i < s.length; i++) {
    if (!CONTROL.test(s[i])) continue
    if (i > last) parts.push(s.slice(last, i))
    parts.push(html`<span class="ctl">\\x${s.charCodeAt(i).toString(16).padStart(2, '0')}</span>`)
    last = i + 1
  }
  if (last < s.length) parts.push(s.slice(last))
  return html`${parts}`
}

function titleOf (lang: Lang, tool: Tool): string {
  const t = webText(lang).tools
  return tool === 'headers' ? t.headersTitle : t.mojibakeTitle
}

function page (lang: Lang, tool: Tool, title: string, body: SafeHtml, scripts = false): string {
  const t = webText(lang).tools
  const other: Tool = tool === 'headers' ? 'mojibake' : 'headers'
  return layout({
    lang,
    title,
    path: `/tools/${tool}`,
    current: tool,
    scripts: scripts ? ['app.js'] : [],
    bodyClass: 'tool',
    body: html`<h1>${title}</h1>${body}<p class="hint"><a href="/tools/${other}?lang=${lang}">${t.other[tool]}</a></p>`
  })
}

function form (lang: Lang, tool: Tool, value = ''): SafeHtml {
  const t = webText(lang).tools
  const field = tool === 'headers' ? 'raw' : 'text'
  // A <textarea> holds text, not markup: the value goes back unchanged (escaped, control characters kept) so it can be sent again.
  return html`<form method="post" action="/tools/${tool}?lang=${lang}" accept-charset="utf-8" class="card tool-form">
<p>${tool === 'headers' ? t.headersIntro : t.mojibakeIntro}</p>
<label for="${field}">${titleOf(lang, tool)}</label>
<textarea id="${field}" name="${field}" required spellcheck="false" autocomplete="off">${value}</textarea>
<p><label class="check"><input type="checkbox" name="save" value="1"> ${t.saveLabel}</label></p>
<p class="hint">${t.privacy}</p>
<button type="submit">${tool === 'headers' ? t.analyse : t.repair}</button></form>`
}

export function toolFormPage (lang: Lang, tool: Tool): string {
  return page(lang, tool, titleOf(lang, tool), form(lang, tool))
}

export function toolErrorPage (lang: Lang, tool: Tool, message: string): string {
  const t = webText(lang).tools
  return page(lang, tool, titleOf(lang, tool), html`<div class="box bad" role="alert"><strong>${t.error}:</strong> ${message}</div>${form(lang, tool)}`)
}

function savedBox (lang: Lang, saved: Saved): SafeHtml | '' {
  if (!saved) return ''
  return html`<div class="box good"><strong>${webText(lang).tools.savedAt}:</strong> <a href="${saved.page}">${saved.page}</a> · <a href="${saved.self}">JSON</a></div>`
}

function tlsText (lang: Lang, hop: Hop): string {
  const t = webText(lang).tools
  if (hop.tls === true) return `${t.tls}${hop.tlsVersion ? ' ' + hop.tlsVersion : ''}${hop.tlsCipher ? ' ' + hop.tlsCipher : ''}`
  if (hop.tls === false) return t.plain
  return ''
}

/** The origin's PTR line (empty until the names were asked). */
export function ptrLine (lang: Lang, o: Origin | null): SafeHtml | '' {
  if (!o || (o.ptr === null && !o.ptrError)) return ''
  return html`<div><dt>${webText(lang).tools.ptr}</dt><dd class="mono">${o.ptr && o.ptr.length ? o.ptr.join(', ') : o.ptrError ?? '-'}</dd></div>`
}

/** ptrSlot: markup in place of the PTR line, for a page rendered before the names are known (src/web/tool-answers.ts). */
export function headersResultPage (lang: Lang, a: HeaderAnalysis, saved: Saved, input: string | null, ptrSlot?: SafeHtml): string {
  const t = webText(lang).tools
  const o = a.origin
  const hopRow = (hop: Hop): SafeHtml => {
    if (!hop.parsed) return html`<tr><td>${hop.index}</td><td colspan="6" class="wrap"><strong>${t.unparsed}:</strong> ${visible(hop.raw)}</td></tr>`
    const from = [hop.fromRdns ?? hop.fromHost, hop.fromHelo && hop.fromHelo !== (hop.fromRdns ?? hop.fromHost) ? `HELO ${hop.fromHelo}` : null, hop.fromIp ? `[${hop.fromIp}]` : null].filter(Boolean).join(' ')
    const flags = [...hop.flags, hop.authenticated ? 'authenticated' : null, hop.fromIpRange ? hop.fromIpRange.name : null, hop.note, hop.software].filter(Boolean)
    return html`<tr><td>${hop.index}</td><td class="wrap">${visible(from)}</td><td class="wrap">${visible(hop.byHost ?? '')}</td><td>${visible(hop.protocol ?? '')}<br><span class="hint">${tlsText(lang, hop)}</span></td><td>${hop.date ? timeEl(hop.date, lang) : visible(hop.dateRaw ?? '')}</td><td>${hop.delaySeconds === null ? '' : t.delay(hop.delaySeconds)}</td><td>${flags.map((f) => html`<span class="flag">${visible(f)}</span> `)}</td></tr>`
  }
  const body = html`${savedBox(lang, saved)}
<section class="card" aria-labelledby="sum-title"><h2 id="sum-title">${t.summary}</h2><dl class="facts">
<div><dt>${t.subject}</dt><dd class="verbatim">${visible(a.subject ?? '')}</dd></div>
<div><dt>${t.from}</dt><dd class="verbatim">${visible(a.from ? `${a.from.name ? a.from.name + ' ' : ''}<${a.from.address ?? ''}>` : '')}</dd></div>
<div><dt>${t.date}</dt><dd class="verbatim">${visible(a.date ?? '')}</dd></div>
<div><dt>${t.returnPath}</dt><dd class="verbatim">${visible(a.returnPath ?? '')}</dd></div>
<div><dt>${t.replyTo}</dt><dd class="verbatim">${visible(a.replyTo ?? '')}</dd></div>
${Object.keys(a.verdicts).length ? html`<div><dt>${t.auth}</dt><dd>${Object.entries(a.verdicts).map(([k, v]) => html`${k}=<strong>${v}</strong> `)}</dd></div>` : ''}
</dl></section>
<section class="card" aria-labelledby="origin-title"><h2 id="origin-title">${t.origin}</h2>
${o
  ? html`<dl class="facts"><div><dt>${t.ip}</dt><dd class="mono">${o.ip ?? ''}</dd></div><div><dt>${t.host}</dt><dd class="mono">${visible(o.host ?? '')}</dd></div>
${o.helo ? html`<div><dt>HELO</dt><dd class="mono">${visible(o.helo)}</dd></div>` : ''}${o.rdns ? html`<div><dt>rDNS</dt><dd class="mono">${visible(o.rdns)}</dd></div>` : ''}
${ptrSlot ?? ptrLine(lang, o)}
<div><dt>${t.hop}</dt><dd>${o.hop}</dd></div></dl>`
  : html`<p>${t.originNone}</p>`}
${a.originatingIp ? html`<p class="hint">X-Originating-IP: <span class="mono">${a.originatingIp}</span></p>` : ''}
</section>
${a.findings.length ? html`<section class="card" aria-labelledby="findings-title"><h2 id="findings-title">${t.findings}</h2>${a.findings.map((f) => html`<div class="box ${f.severity === 'warn' ? 'warn' : 'info'}">${lang === 'ja' ? f.ja : f.en}</div>`)}</section>` : ''}
<section class="card" aria-labelledby="hops-title"><h2 id="hops-title">${t.hops}</h2><div class="table-wrap"><table class="hops verbatim"><thead><tr><th scope="col">${t.hop}</th><th scope="col">${t.hopFrom}</th><th scope="col">${t.hopBy}</th><th scope="col">${t.hopWith}</th><th scope="col">${t.hopTime}</th><th scope="col">${t.hopDelay}</th><th scope="col">${t.hopFlags}</th></tr></thead><tbody>
${a.hops.map(hopRow)}
</tbody></table></div>
${a.unparsedLines.length ? html`<h3>${t.unparsed}</h3><pre class="wrap">${visible(a.unparsedLines.join('\n'))}</pre>` : ''}
</section>
${a.authenticationResults.length || a.receivedSpf.length
  ? html`<section class="card verbatim" aria-labelledby="auth-title"><h2 id="auth-title">${t.auth}</h2>
${a.authenticationResults.map((ar) => html`<div class="box"><strong>${visible(ar.authservId || 'Authentication-Results')}</strong><ul>${ar.results.map((r) => html`<li>${visible(r.method)}=<strong>${visible(r.result)}</strong>${r.reason ? html` (${visible(r.reason)})` : ''} ${Object.entries(r.props).map(([k, v]) => html`<span class="hint">${visible(k)}=${visible(v)}</span> `)}</li>`)}</ul></div>`)}
${a.receivedSpf.map((s) => html`<div class="box">Received-SPF: <strong>${visible(s.result)}</strong> ${visible(s.comment ?? '')} ${Object.entries(s.props).map(([k, v]) => html`<span class="hint">${visible(k)}=${visible(v)}</span> `)}</div>`)}
</section>`
  : ''}
${a.dkim.length ? html`<section class="card verbatim" aria-labelledby="dkim-title"><h2 id="dkim-title">${t.dkim}</h2><div class="table-wrap"><table><thead><tr><th scope="col">d=</th><th scope="col">s=</th><th scope="col">a=</th><th scope="col">h=</th></tr></thead><tbody>${a.dkim.map((d) => html`<tr><td>${visible(d.domain ?? '')}</td><td>${visible(d.selector ?? '')}</td><td>${visible(d.algorithm ?? '')}</td><td class="wrap">${visible(d.headers.join(':'))}</td></tr>`)}</tbody></table></div></section>` : ''}
${a.arc.length ? html`<section class="card verbatim" aria-labelledby="arc-title"><h2 id="arc-title">${t.arc}</h2><div class="table-wrap"><table><thead><tr><th scope="col">i=</th><th scope="col">cv=</th><th scope="col">d=</th><th scope="col">s=</th><th scope="col">${t.auth}</th></tr></thead><tbody>${a.arc.map((s) => html`<tr><td>${s.instance}</td><td>${visible(s.chainValidation ?? '')}</td><td>${visible(s.sealDomain ?? '')}</td><td>${visible(s.sealSelector ?? '')}</td><td>${visible(s.results ? s.results.results.map((r) => `${r.method}=${r.result}`).join(' ') : '')}</td></tr>`)}</tbody></table></div></section>` : ''}
<section class="card" aria-labelledby="all-title"><h2 id="all-title">${t.allHeaders}</h2><div class="table-wrap"><table class="all-headers verbatim"><tbody>${a.headers.map((f) => html`<tr><th scope="row">${visible(f.name)}</th><td class="wrap">${visible(f.decoded)}${f.decoded !== f.value ? html`<details><summary>${t.rawValue}</summary>${visible(f.value)}</details>` : ''}</td></tr>`)}</tbody></table></div></section>
<h2>${t.back}</h2>${form(lang, 'headers', input ?? '')}`
  return page(lang, 'headers', `${t.headersTitle}: ${t.result}`, body)
}

/**
 * Fields the forensics helper adds to a candidate: a name for people
 * (label/description, a string or { ja, en }) and whether it is plausible.
 * Older results have neither; then the path and the score speak.
 */
type RichCandidate = Candidate & { label?: unknown, description?: unknown, plausible?: unknown, implausible?: unknown, marks?: unknown }

function localized (v: unknown, lang: Lang): string | null {
  if (typeof v === 'string') return v
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    const s = o[lang] ?? o.en
    return typeof s === 'string' ? s : null
  }
  return null
}

function isPlausible (c: RichCandidate): boolean {
  if (typeof c.implausible === 'boolean') return !c.implausible
  if (typeof c.plausible === 'boolean') return c.plausible
  // Without the flag: text that is less than half Japanese-looking, or lost characters, is not worth the reader's time.
  return c.japaneseShare >= 0.5 && c.lost === 0
}

function marksOf (c: RichCandidate): Array<{ start: number, end: number }> {
  if (!Array.isArray(c.marks)) return []
  return (c.marks as Array<{ start?: unknown, end?: unknown }>)
    .filter((m) => Number.isInteger(m?.start) && Number.isInteger(m?.end) && (m.start as number) < (m.end as number))
    .map((m) => ({ start: m.start as number, end: m.end as number }))
    .sort((a, b) => a.start - b.start)
}

function hasMarks (c: RichCandidate): boolean { return marksOf(c).length > 0 }

/** The candidate's text with the characters that had to be guessed marked, for the reader to check. */
function marked (c: RichCandidate): SafeHtml {
  const marks = marksOf(c)
  if (!marks.length) return visible(c.text)
  const parts: SafeHtml[] = []
  let at = 0
  for (const m of marks) {
    if (m.start < at || m.end > c.text.length) continue
    parts.push(visible(c.text.slice(at, m.start)), html`<mark class="guessed">${visible(c.text.slice(m.start, m.end))}</mark>`)
    at = m.end
  }
  parts.push(visible(c.text.slice(at)))
  return html`${parts}`
}

export function mojibakeResultPage (lang: Lang, r: MojibakeResult, saved: Saved, input: string | null): string {
  const t = webText(lang).tools
  const all = r.candidates as RichCandidate[]
  const best = all[0]
  const rest = all.slice(1)
  const likely = rest.filter(isPlausible)
  const unlikely = rest.filter((c) => !isPlausible(c))
  const candidate = (c: RichCandidate, id?: string): SafeHtml => {
    const path = c.path.length ? c.path.join(' → ') : t.identity
    const label = localized(c.label, lang)
    const description = localized(c.description, lang)
    return html`${label ? html`<p class="cand-label">${label}</p>` : ''}${description ? html`<p class="hint">${description}</p>` : ''}<div class="path mono">${path}</div>
${id ? html`<div id="${id}"><pre>${marked(c)}</pre></div>` : html`<pre>${marked(c)}</pre>`}${hasMarks(c) ? html`<p class="hint">${t.guessedMarked}</p>` : ''}<span class="hint">${t.score} ${c.score} · ${t.share} ${Math.round(c.japaneseShare * 100)}%${c.lost ? ` · ${t.lost} ${c.lost}` : ''}${c.guessed ? ` · ${t.guessed} ${c.guessed}` : ''}</span>`
  }
  const body = html`${savedBox(lang, saved)}
${r.unchanged ? html`<div class="box info">${adviceText('tools.mojibake.unchanged', lang)}</div>` : ''}
${best && best.lost > 0 ? html`<div class="box warn">${adviceText('tools.mojibake.lossy', lang, { lost: best.lost })}</div>` : ''}
${best
  ? html`<section class="card best" aria-labelledby="best-title"><h2 id="best-title">${t.best}</h2>${candidate(best, 'best-text')}
<p><button type="button" class="copy" data-copy-target="best-text" hidden>${t.copyText}</button> <span class="copy-status" role="status" aria-live="polite"></span></p></section>`
  : ''}
${likely.length ? html`<section class="card" aria-labelledby="cands-title"><h2 id="cands-title">${t.candidates}</h2><ol class="cands">${likely.map((c) => html`<li>${candidate(c)}</li>`)}</ol></section>` : ''}
${unlikely.length ? html`<details class="card unlikely"><summary>${t.implausible(unlikely.length)}</summary><ol class="cands">${unlikely.map((c) => html`<li>${candidate(c)}</li>`)}</ol></details>` : ''}
<h2>${t.back}</h2>${form(lang, 'mojibake', input ?? '')}`
  return page(lang, 'mojibake', `${t.mojibakeTitle}: ${t.result}`, body, true)
}
