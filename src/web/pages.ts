// The server-rendered pages: the test page, a stored report, refusals and
// errors, 404. Everything goes through html`` (escaped by default); all
// wording comes from the message catalogue in src/i18n/web.ts.
import { html, raw, type SafeHtml } from './html.js'
import { assetUrl } from './assets.js'
import { webText, clientText, type CheckKey, type WebText } from '../i18n/web.js'
import { adviceText, type Lang } from '../i18n/index.js'
import type { Report, TranscriptLine, Advice } from '../core/report.js'
import { reportText, redactSecrets } from './report-text.js'
import { refusedReportPage } from './refusal-page.js'
import { senderRulesSection } from './sender-rules-section.js'

export const CHECKS: CheckKey[] = ['dns', 'ports', 'smtp', 'receive', 'relay', 'roles', 'pop3']
export const DEFAULT_PORTS = [25, 110, 143, 465, 587, 993, 995]
/** checks that open a connection to port 25 and talk SMTP */
const MAIL_CHECKS: CheckKey[] = ['smtp', 'receive', 'relay', 'roles']

export interface LayoutOptions {
  lang: Lang
  title: string
  /** the path (with query, minus lang) the language switch links to */
  path: string
  body: SafeHtml
  /** refresh every n seconds when scripts are off (a running report) */
  noscriptRefresh?: number
  scripts?: Array<'app.js' | 'frame.js'>
  bodyClass?: string
  /** which entry of the site navigation this page is */
  current?: string
}

/**
 * The site navigation, the same on every page. The send test (branch
 * `send`) adds its page here: { key: 'send', href: '/send' } (its label,
 * 送信テスト / Send test, is in src/i18n/web.ts already).
 */
export const NAV: Array<{ key: string, href: string }> = [
  { key: 'home', href: '/' },
  { key: 'send', href: '/send' },
  { key: 'headers', href: '/tools/headers' },
  { key: 'mojibake', href: '/tools/mojibake' }
]

export function withLang (path: string, lang: Lang): string {
  const [p, q = ''] = path.split('?')
  const params = new URLSearchParams(q)
  params.set('lang', lang)
  return `${p}?${params.toString()}`
}

const TIME_ZONE: Record<Lang, { zone: string, name: string }> = {
  ja: { zone: 'Asia/Tokyo', name: 'JST' },
  en: { zone: 'UTC', name: 'UTC' }
}

/**
 * A point in time for people: server-rendered in JST for Japanese pages and
 * in UTC for English ones, with the zone written out; the page script
 * rewrites it into the browser's own time zone (data-local).
 */
export function timeText (iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '-'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return String(iso)
  const z = TIME_ZONE[lang]
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: z.zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'
  }).formatToParts(d).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${z.name}`
}

export function timeEl (iso: string | null | undefined, lang: Lang): SafeHtml {
  if (!iso) return html`-`
  return html`<time datetime="${iso}" data-local>${timeText(iso, lang)}</time>`
}

export function layout (o: LayoutOptions): string {
  const t = webText(o.lang)
  const other: Lang[] = ['ja', 'en']
  const page = html`<!doctype html>
<html lang="${o.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="color-scheme" content="light dark">
<title>${o.title} — ${t.siteName}</title>
<link rel="stylesheet" href="${assetUrl('style.css')}">
<link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">
${o.noscriptRefresh ? html`<noscript><meta http-equiv="refresh" content="${o.noscriptRefresh}"></noscript>` : ''}
${(o.scripts ?? []).map((s) => html`<script src="${assetUrl(s)}" defer></script>`)}
</head>
<body class="${o.bodyClass ?? ''}" data-lang="${o.lang}" data-text="${JSON.stringify(clientText(o.lang))}">
<a class="skip" href="#main">${t.skipToContent}</a>
<header class="site">
  <a class="brand" href="${withLang('/', o.lang)}">${t.siteName}</a>
  <nav class="site-nav" aria-label="${t.navLabel}">
    <ul>${NAV.map((n) => html`<li><a href="${withLang(n.href, o.lang)}"${n.key === o.current ? raw(' aria-current="page"') : ''}>${t.nav[n.key] ?? n.key}</a></li>`)}</ul>
  </nav>
  <nav class="lang" aria-label="${t.langSwitchLabel}">
    <ul>${other.map((l) => html`<li><a href="${withLang(o.path, l)}" hreflang="${l}" lang="${l}"${l === o.lang ? raw(' aria-current="true"') : ''}>${t.langName[l]}</a></li>`)}</ul>
  </nav>
</header>
<main id="main" tabindex="-1">
${o.body}
</main>
<footer class="site"><p>${t.footer} <a href="${withLang('/docs', o.lang)}">${t.apiDocs}</a></p></footer>
</body>
</html>
`
  return page.value
}

export interface CallerInfo {
  ip: string
  family: 4 | 6
  ptr: string | null
  /** IPV4_ORIGIN / IPV6_ORIGIN: where the page asks for a proof of each family (none: the connection's address alone) */
  origins?: { 4?: string | null, 6?: string | null }
}

/** One hidden field per family, filled by the page script with that origin's proof (empty: none). */
function proofFields (caller: CallerInfo): SafeHtml | string {
  if (!caller.origins?.[4] && !caller.origins?.[6]) return ''
  return html`<input type="hidden" name="proofs" value="" data-family="4"><input type="hidden" name="proofs" value="" data-family="6">`
}

/** "Your IPv4 / IPv6" side by side: the connection's own family at once, each origin's answer filled in by the page script. */
function familiesBlock (caller: CallerInfo, t: WebText): SafeHtml | string {
  const o = caller.origins
  if (!o?.[4] && !o?.[6]) return ''
  const cell = (f: 4 | 6) => {
    const known = caller.family === f
    const text = o[f] ? t.checkingFamily : known ? caller.ip : t.noFamily[f]
    return html`<div><dt>${t.yourFamily[f]}</dt><dd class="mono family-ip" id="caller-ip${String(f)}" data-family="${String(f)}" data-origin="${o[f] ?? ''}" data-state="${o[f] ? 'checking' : known ? 'connection' : 'none'}">${text}</dd></div>`
  }
  return html`<h3 id="families-title">${t.familiesTitle}</h3>
  <dl class="facts families" aria-labelledby="families-title" aria-live="polite">${cell(4)}${cell(6)}</dl>
  <p class="hint">${t.familiesExplain}</p>`
}

function field (name: string, label: string, opts: { hint?: string, type?: string, autocomplete?: string, required?: boolean, inputmode?: string, optional?: string, id: string }): SafeHtml {
  const hintId = `${opts.id}-hint`
  return html`<div class="field">
  <label for="${opts.id}">${label}${opts.optional ? html` <span class="optional">(${opts.optional})</span>` : ''}</label>
  <input id="${opts.id}" name="${name}" type="${opts.type ?? 'text'}" autocomplete="${opts.autocomplete ?? 'off'}"${opts.inputmode ? html` inputmode="${opts.inputmode}"` : ''} spellcheck="false" autocapitalize="none"${opts.required ? raw(' required') : ''}${opts.hint ? html` aria-describedby="${hintId}"` : ''} maxlength="320">
  ${opts.hint ? html`<p class="hint" id="${hintId}">${opts.hint}</p>` : ''}
</div>`
}

function checkFields (check: CheckKey, t: WebText): SafeHtml {
  const id = (f: string) => `${check}-${f}`
  switch (check) {
    case 'receive':
      return field('address', t.fieldAddress, { id: id('address'), hint: t.fieldAddressHint, autocomplete: 'email', inputmode: 'email', required: true })
    case 'ports':
      return html`<fieldset class="ports"><legend>${t.fieldPorts}</legend>
  ${DEFAULT_PORTS.map((p) => html`<label class="port"><input type="checkbox" name="ports" value="${p}" checked> ${p}</label>`)}
</fieldset>`
    case 'pop3':
      return html`${field('domain', t.fieldDomain, { id: id('domain'), hint: t.fieldDomainHint, required: true })}
<fieldset class="login"><legend>${t.fieldUsername} / ${t.fieldPassword} <span class="optional">(${t.optional})</span></legend>
  <p class="hint" id="pop3-login-hint">${t.pop3LoginExplain}</p>
  ${field('username', t.fieldUsername, { id: id('username'), autocomplete: 'off', optional: t.optional })}
  ${field('password', t.fieldPassword, { id: id('password'), type: 'password', autocomplete: 'off', optional: t.optional })}
</fieldset>`
    default:
      return field('domain', t.fieldDomain, { id: id('domain'), hint: t.fieldDomainHint, required: true })
  }
}

function mailNotice (check: CheckKey, t: WebText, ip: string): SafeHtml | '' {
  if (check === 'pop3') return html`<div class="notice" role="note"><p>${t.pop3Before(ip)}</p></div>`
  if (!MAIL_CHECKS.includes(check)) return ''
  return html`<div class="notice" role="note">
  <p>${t.mailTestBefore(ip)}</p>
  <p>${check === 'receive' ? t.mailTestOneMail : t.mailTestNoMail}</p>
  <p>${t.mismatchWhy}</p>
</div>`
}

export function indexPage (lang: Lang, caller: CallerInfo, origin: string): string {
  const t = webText(lang)
  const body = html`
<h1>${t.tagline}</h1>
<p class="intro">${t.intro}</p>
<form class="card diagnose" method="post" action="/check/all" id="diagnose" aria-labelledby="diagnose-title">
  <input type="hidden" name="lang" value="${lang}">
  ${proofFields(caller)}
  <h2 id="diagnose-title">${t.diagTitle}</h2>
  <p>${t.diagnoseExplain}</p>
  <div class="field">
    <label for="target">${t.fieldTarget}</label>
    <div class="target-row">
      <input id="target" name="target" type="text" inputmode="email" autocomplete="off" spellcheck="false" autocapitalize="none" required maxlength="320" aria-describedby="target-hint">
      <button type="submit" class="primary">${t.diagnoseButton}</button>
    </div>
    <p class="hint" id="target-hint">${t.fieldTargetHint}</p>
  </div>
  <p class="hint">${t.diagnoseHint} ${t.mailTestBefore(caller.ip)}</p>
</form>
<section class="card" id="my-ip" aria-labelledby="my-ip-title">
  <h2 id="my-ip-title">${t.myIpTitle}</h2>
  <dl class="facts">
    <div><dt>${t.ipLabel}</dt><dd class="mono" id="caller-ip">${caller.ip}</dd></div>
    <div><dt>${t.familyLabel}</dt><dd>IPv${caller.family}</dd></div>
    <div><dt>${t.ptrLabel}</dt><dd class="mono" id="caller-ptr">${caller.ptr ?? t.noPtr}</dd></div>
  </dl>
  <p class="hint">${t.myIpExplain}</p>
  ${familiesBlock(caller, t)}
</section>
<h2 class="section-title" id="checks-title">${t.checksTitle}</h2>
<p>${t.singleChecksExplain}</p>
${CHECKS.map((c) => html`
<details class="card check" id="check-${c}">
  <summary><h3 id="check-${c}-title">${t.checkTitle[c]}</h3></summary>
  <p>${t.checkExplain[c]}</p>
  ${mailNotice(c, t, caller.ip)}
  <form method="post" action="/check/${c}" data-check="${c}" class="check-form">
    <input type="hidden" name="lang" value="${lang}">
    ${proofFields(caller)}
    ${checkFields(c, t)}
    <button type="submit">${t.run}: ${t.checkShort[c]}</button>
  </form>
  <div class="live" id="live-${c}" hidden></div>
</details>`)}
<p class="hint">${t.jsNote}</p>
<section class="card" id="tools" aria-labelledby="tools-title">
  <h2 id="tools-title">${t.toolsTitle}</h2>
  <p>${t.toolsExplain}</p>
  <ul>
    <li><a href="/tools/headers?lang=${lang}">${t.toolHeaders}</a></li>
    <li><a href="/tools/mojibake?lang=${lang}">${t.toolMojibake}</a></li>
  </ul>
</section>
<section class="card" id="embed" aria-labelledby="embed-title">
  <h2 id="embed-title">${t.embedTitle}</h2>
  <p>${t.embedExplain}</p>
  <pre class="snippet" tabindex="0"><code>${`<script src="${origin}/embed.js" data-check="receive" async></script>`}</code></pre>
  <p><a href="${withLang('/docs', lang)}#embed">${t.embedMore}</a></p>
</section>
`
  return layout({ lang, title: t.tagline, path: '/', body, scripts: ['app.js'], current: 'home' })
}

function adviceFor (a: Advice, lang: Lang): string {
  return (lang === 'ja' ? a.ja : a.en) ?? a.message
}

/** An explanation attached to a reply line by a check (string or {ja,en}). */
function explanationOf (l: TranscriptLine & { explain?: unknown }, lang: Lang): string | null {
  const e = l.explain
  if (!e) return null
  if (typeof e === 'string') return e
  if (typeof e === 'object') {
    const o = e as Record<string, unknown>
    const v = o[lang] ?? o.en ?? o.message
    return typeof v === 'string' ? v : null
  }
  return null
}

const MARK: Record<string, string> = { C: '→', S: '←', I: '·' }

/**
 * Explanations of non-2xx replies that checks put in advice (params.reply is
 * the reply's first line, params.ja/en the explanation): shown under that
 * line of the transcript as well.
 */
export function replyExplanations (r: Pick<Report, 'advice'>, lang: Lang): Map<string, string> {
  const m = new Map<string, string>()
  for (const a of r.advice ?? []) {
    const p = a.params as Record<string, unknown> | undefined
    const text = p?.[lang] ?? p?.en
    if (p && typeof p.reply === 'string' && typeof text === 'string' && !m.has(p.reply)) m.set(p.reply, text)
  }
  return m
}

/**
 * The transcript as list items. The message a receive test sent (every "C"
 * line after the server's 354 up to the closing ".") is folded into one
 * item, so the server's replies around it stay in sight.
 */
function transcriptList (r: Report, t: WebText, lang: Lang): SafeHtml[] {
  const explained = replyExplanations(r, lang)
  const out: SafeHtml[] = []
  const lines = r.transcript ?? []
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]
    if (l.dir === 'S' && /^354[ -]?/.test(l.text)) {
      out.push(transcriptItem(l, t, lang, explained.get(l.text)))
      let j = i + 1
      const body: TranscriptLine[] = []
      while (j < lines.length && lines[j].dir === 'C') {
        body.push(lines[j])
        j++
        if (lines[j - 1].text === '.') break
      }
      if (body.length > 3) {
        out.push(html`<li class="line fold"><details><summary>${t.bodyFold(body.length)}</summary><ol class="transcript-body">${body.map((b) => transcriptItem(b, t, lang))}</ol></details></li>`)
        i = j - 1
      }
      continue
    }
    const ex = l.dir === 'S' ? explained.get(l.text) : undefined
    if (ex) explained.delete(l.text)
    out.push(transcriptItem(l, t, lang, ex))
  }
  return out
}

export function transcriptItem (l: TranscriptLine, t: WebText, lang: Lang, explanation?: string): SafeHtml {
  const dir = l.dir === 'C' || l.dir === 'S' ? l.dir : 'I'
  const ex = explanation ?? explanationOf(l, lang)
  return html`<li class="line dir-${dir}"><span class="at">${Math.round(l.at)} ms</span> <span class="mark" aria-hidden="true">${MARK[dir]}</span><span class="sr">${t.dirText[dir]}: </span><span class="text">${redactSecrets(l.text)}</span>${ex ? html`<span class="explain"><span class="sr">${t.explainReply}: </span>${ex}</span>` : ''}</li>`
}

export function verdictBadge (status: string, t: WebText): SafeHtml {
  return html`<span class="verdict v-${status}">${t.verdict[status] ?? status}</span>`
}

function yesNo (v: unknown, t: WebText): string {
  return v === true ? t.yes : v === false ? t.no : ''
}

/**
 * A relay attempt's "accepted?" cell: yes or no only when the server judged it. One not needed
 * (the server had already relayed plain mail), untested (its sender refused) or not run (the battery
 * stopped) is no "no": the server never refused it.
 */
function vectorAnswer (v: Record<string, unknown>, t: WebText): string {
  if (v.stage === 'not_tried') return t.vectorsTable.notTried
  if (v.stage === 'not_run') return t.vectorsTable.notRun
  if (v.tested === false) return t.vectorsTable.untested
  return yesNo(v.accepted, t)
}

/** Tables for the check-specific results the contract names (ports, vectors, mailboxes). */
function details (r: Report, t: WebText): SafeHtml | '' {
  const parts: SafeHtml[] = []
  const ports = Array.isArray(r.ports) ? r.ports as Array<Record<string, unknown>> : null
  if (ports?.length) {
    parts.push(html`<table><caption>${t.checkShort.ports}</caption><thead><tr><th scope="col">${t.portsTable.port}</th><th scope="col">${t.portsTable.state}</th><th scope="col">${t.portsTable.ms}</th><th scope="col">${t.portsTable.banner}</th></tr></thead><tbody>
${ports.map((p) => html`<tr><td>${p.port}</td><td class="state-${String(p.state)}">${t.portState[String(p.state)] ?? p.state}</td><td>${p.ms}</td><td class="mono">${p.banner ?? ''}</td></tr>`)}
</tbody></table>`)
  }
  const vectors = Array.isArray(r.vectors) ? r.vectors as Array<Record<string, unknown>> : null
  if (vectors?.length) {
    parts.push(html`<table><caption>${t.checkShort.relay}</caption><thead><tr><th scope="col">${t.vectorsTable.id}</th><th scope="col">${t.vectorsTable.mailFrom}</th><th scope="col">${t.vectorsTable.rcptTo}</th><th scope="col">${t.vectorsTable.accepted}</th><th scope="col">${t.vectorsTable.reply}</th></tr></thead><tbody>
${vectors.map((v) => html`<tr class="${v.accepted === true ? 'bad' : ''}"><td>${v.id}</td><td class="mono">${v.mailFrom}</td><td class="mono">${v.rcptTo}</td><td class="yn">${vectorAnswer(v, t)}</td><td class="mono">${typeof v.reply === 'string' ? v.reply : JSON.stringify(v.reply ?? '')}</td></tr>`)}
</tbody></table>`)
  }
  const boxes = Array.isArray(r.mailboxes) ? r.mailboxes as Array<Record<string, unknown>> : null
  if (boxes?.length) {
    parts.push(html`<table><caption>${t.checkShort.roles}</caption><thead><tr><th scope="col">${t.mailboxesTable.address}</th><th scope="col">${t.mailboxesTable.required}</th><th scope="col">${t.mailboxesTable.accepted}</th><th scope="col">${t.mailboxesTable.reply}</th></tr></thead><tbody>
${boxes.map((b) => html`<tr class="${b.accepted === false && b.required ? 'bad' : ''}"><td class="mono">${b.address}</td><td class="yn">${yesNo(b.required, t)}</td><td class="yn">${yesNo(b.accepted, t)}</td><td class="mono">${typeof b.reply === 'string' ? b.reply : JSON.stringify(b.reply ?? '')}</td></tr>`)}
</tbody></table>`)
  }
  if (!parts.length) return ''
  return html`<section class="card" aria-labelledby="details-title"><h2 id="details-title">${t.detailsTitle}</h2><div class="table-wrap">${parts}</div></section>`
}

function stepList (r: Report, t: WebText): SafeHtml[] {
  return r.steps.map((s) => html`<li class="step s-${s.status}"><span class="step-status">${t.verdict[s.status] ?? s.status}</span> <span class="step-name from-check" data-name="${s.name}">${s.title || s.name}</span> <span class="step-detail from-check">${redactSecrets(s.detail)}</span>${typeof s.ms === 'number' ? html` <span class="at">${s.ms} ms</span>` : ''}</li>`)
}

/** The forum text: only once the check has finished (a half transcript helps nobody and confuses the thread). */
export function copyBlock (r: Report, t: WebText, lang: Lang, pageUrl: string, running: boolean): SafeHtml {
  return html`<section class="card" aria-labelledby="copy-title" id="copy-section">
  <h2 id="copy-title">${t.copyTitle}</h2>
  ${running
    ? html`<p class="hint" id="copy-wait">${t.copyWhileRunning}</p>`
    : html`<p class="hint">${t.copyExplain} <a href="/r/${r.id}.txt?lang=${lang}">${t.plainTextLink}</a></p>
  <button type="button" class="copy" data-copy-target="copy-text" hidden>${t.copyButton}</button> <span class="copy-status" role="status" aria-live="polite"></span>
  <pre class="copy-text" id="copy-text" tabindex="0" aria-label="${t.copyTitle}">${reportText(r, { lang, pageUrl })}</pre>`}
</section>`
}

export interface ReportPageOptions {
  /** child reports of a diagnosis, by id, as far as they exist */
  children?: Map<string, Report>
  /** a check's time limit (config.check.checkDeadlineMs) */
  deadlineMs?: number
  now?: number
}

export function reportPage (r: Report, lang: Lang, pageUrl: string, opts: ReportPageOptions = {}): string {
  if (r.refusal) return refusedReportPage(r, lang, pageUrl)
  if (r.type === 'all') return diagnosisPage(r, lang, pageUrl, opts)
  const t = webText(lang)
  const running = r.status === 'running'
  const target = [r.target?.domain, r.target?.host, r.target?.ip].filter(Boolean).join(' / ')
  const title = t.reportTitle(t.checkShort[r.type] ?? r.type)
  const body = html`
<article class="report" data-report-id="${r.id}" data-status="${r.status}"${running ? raw(' data-running="1"') : ''}>
<h1>${title} ${verdictBadge(r.status, t)}</h1>
${running ? html`<p class="notice">${t.stillRunning}</p>` : ''}
<p class="sr" id="announce" role="status" aria-live="polite"></p>
<section class="card" aria-labelledby="summary-title">
  <h2 id="summary-title">${t.resultTitle}</h2>
  <p class="summary from-check" id="report-summary"${lang === 'ja' && !/[\u3000-\u9fff\uff00-\uffef]/.test(r.summary) ? raw(' lang="en"') : ''}>${r.summary}</p>
  <dl class="facts">
    <div><dt>${t.checkLabel}</dt><dd>${t.checkShort[r.type] ?? r.type} <span class="mono">(${r.type})</span></dd></div>
    <div><dt>${t.timeLabel}</dt><dd>${timeEl(r.startedAt, lang)}</dd></div>
    <div><dt>${t.callerLabel}</dt><dd class="mono">${r.callerIp}</dd></div>
    <div><dt>${t.targetLabel}</dt><dd class="mono">${target || '-'}</dd></div>
    ${typeof r.durationMs === 'number' ? html`<div><dt>${t.durationLabel}</dt><dd>${seconds(r.durationMs, lang)}</dd></div>` : ''}
  </dl>
</section>
<section class="card" aria-labelledby="advice-title"${r.advice.length ? '' : raw(' hidden')} id="advice-section">
  <h2 id="advice-title">${t.adviceTitle}</h2>
  <ul class="advice" id="advice-list">${r.advice.map((a) => html`<li data-code="${a.code}" class="from-check">${adviceFor(a, lang)}</li>`)}</ul>
</section>
${r.type === 'send' ? senderRulesSection(r, lang) : ''}
<section class="card" aria-labelledby="steps-title">
  <h2 id="steps-title">${t.stepsTitle}</h2>
  <ul class="steps" id="steps-list">${stepList(r, t)}</ul>
</section>
${details(r, t)}
<section class="card" aria-labelledby="transcript-title">
  <h2 id="transcript-title">${t.transcriptTitle}</h2>
  <p class="hint">${t.transcriptLegend}</p>
  <ol class="transcript" id="transcript">${transcriptList(r, t, lang)}</ol>
</section>
${copyBlock(r, t, lang, pageUrl, running)}
<p><a href="${withLang('/', lang)}">${t.backToChecks}</a></p>
</article>`
  return layout({ lang, title, path: `/r/${r.id}`, body, noscriptRefresh: running ? 2 : undefined, scripts: ['app.js'] })
}

function seconds (ms: number, lang: Lang): string {
  const s = ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000))
  return lang === 'ja' ? `${s} 秒` : `${s} s`
}

/** The checks a diagnosis runs, in the order an expert reads them. */
export const DIAGNOSIS_CHECKS = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls']

/** One child as the diagnosis lists it (src/checks/all.ts ChildLink). */
interface ChildRef { type: string, id?: string | null, status?: string, title?: string, stage?: string, deadline?: number | string, summary?: string }
interface FixFirst { check: string, code: string, message: string, id?: string, ja?: string, en?: string }

function diagnosisPage (r: Report, lang: Lang, pageUrl: string, opts: ReportPageOptions): string {
  const t = webText(lang)
  const running = r.status === 'running'
  const now = opts.now ?? Date.now()
  const deadlineMs = opts.deadlineMs ?? 40_000
  const children: ChildRef[] = Array.isArray(r.children) ? (r.children as ChildRef[]).filter((c) => c && typeof c.type === 'string') : []
  const fixFirst: FixFirst[] = Array.isArray(r.fixFirst) ? (r.fixFirst as FixFirst[]).filter((f) => f && typeof f.message === 'string') : []
  const rows: ChildRef[] = running
    ? [...DIAGNOSIS_CHECKS.map((type) => children.find((c) => c.type === type) ?? { type }), ...children.filter((c) => !DIAGNOSIS_CHECKS.includes(c.type))]
    : children
  const childOf = (type: string): ChildRef | undefined => children.find((c) => c.type === type && c.id)
  // What the visitor typed, as the diagnosis understood it (src/checks/all.ts `understood`).
  const understood = (r.understood ?? {}) as { input?: unknown, address?: unknown, kind?: unknown, domain?: unknown }
  const rerunTarget = typeof understood.address === 'string' ? understood.address : typeof understood.input === 'string' ? understood.input : (r.target?.domain ?? '')
  const domain = r.target?.domain ?? rerunTarget
  const title = domain ? `${t.diagTitle}: ${domain}` : t.diagTitle

  const row = (c: ChildRef): SafeHtml => {
    const child = c.id ? opts.children?.get(c.id) : undefined
    const given = c.status && c.status !== 'queued' ? c.status : (child?.status ?? (running ? 'waiting' : 'error'))
    const status = given === 'queued' ? 'waiting' : given
    const childRunning = status === 'running'
    const lastStep = child?.steps?.length ? child.steps[child.steps.length - 1] : undefined
    const stage = c.stage ?? (lastStep ? (lastStep.title || lastStep.name) : t.stageStarting)
    const deadline = typeof c.deadline === 'number' ? c.deadline : typeof c.deadline === 'string' ? Date.parse(c.deadline) : (child?.startedAt ? Date.parse(child.startedAt) + deadlineMs : NaN)
    const left = childRunning && Number.isFinite(deadline) ? Math.max(0, deadline - now) : null
    const summary = !childRunning ? (c.summary ?? child?.summary ?? '') : ''
    return html`<li class="child c-${status}" data-type="${c.type}"${c.id ? html` data-id="${c.id}"` : ''} data-status="${status}"${left !== null ? html` data-deadline="${deadline}"` : ''}>
  <span class="child-name">${t.checkShort[c.type] ?? c.type}</span>
  ${status === 'waiting' ? html`<span class="verdict v-waiting">${t.stageWaiting}</span>` : verdictBadge(status, t)}
  <span class="stage from-check">${childRunning ? stage : summary}</span>
  <span class="countdown"${left !== null ? html` data-left-ms="${left}"` : ''}>${left !== null ? (left > 0 ? t.remaining(Math.ceil(left / 1000)) : t.overdue) : ''}</span>
  ${c.id ? html`<a class="child-link" href="/r/${c.id}?lang=${lang}">${t.openReport}<span class="sr">: ${t.checkShort[c.type] ?? c.type}</span></a>` : ''}
</li>`
  }

  const body = html`
<article class="report diagnosis" data-report-id="${r.id}" data-status="${r.status}" data-deadline-ms="${deadlineMs}"${running ? raw(' data-running="1"') : ''}>
<h1>${title} ${verdictBadge(r.status, t)}</h1>
<p class="sr" id="announce" role="status" aria-live="polite"></p>
<section class="card verdict-card" aria-labelledby="summary-title">
  <h2 id="summary-title" class="sr">${t.resultTitle}</h2>
  ${running ? html`<p class="summary">${t.diagRunning}</p>` : html`<p class="summary from-check" id="report-summary">${r.summary}</p>`}
  <dl class="facts">
    <div><dt>${t.timeLabel}</dt><dd>${timeEl(r.startedAt, lang)}</dd></div>
    <div><dt>${t.callerLabel}</dt><dd class="mono">${r.callerIp}</dd></div>
    <div><dt>${t.targetLabel}</dt><dd class="mono">${rerunTarget || domain || '-'}</dd></div>
    ${typeof r.durationMs === 'number' ? html`<div><dt>${t.durationLabel}</dt><dd>${seconds(r.durationMs, lang)}</dd></div>` : ''}
  </dl>
  ${typeof understood.input === 'string' && typeof understood.domain === 'string' && understood.input.toLowerCase().replace(/\.$/, '') !== understood.domain
    ? html`<p class="hint" id="understood">${t.understood(String(understood.kind), understood.input, understood.domain)}</p>`
    : ''}
</section>
${running
  ? ''
  : html`<section class="card fix-first" aria-labelledby="fix-title" id="fix-first">
  <h2 id="fix-title">${t.fixFirstTitle}</h2>
  ${fixFirst.length
    ? html`<ol class="fix-list">${fixFirst.map((f) => {
        const linkId = f.id ?? childOf(f.check)?.id
        const text = (lang === 'ja' ? f.ja : f.en) ?? f.message
        return html`<li data-code="${f.code}"><span class="fix-check">${t.checkShort[f.check] ?? f.check}</span> <span class="from-check">${text}</span>${linkId ? html` <a href="/r/${linkId}?lang=${lang}">${t.openReport}<span class="sr">: ${t.checkShort[f.check] ?? f.check}</span></a>` : ''}</li>`
      })}</ol>`
    : (r.status === 'pass' ? html`<p>${t.fixFirstNone}</p>` : html`<p class="from-check">${r.summary}</p>`)}
</section>`}
<section class="card" aria-labelledby="children-title" id="children">
  <h2 id="children-title">${t.childrenTitle}</h2>
  <ul class="children" id="children-list">${rows.map(row)}</ul>
</section>
<div class="actions">
  <form method="post" action="/check/all" class="rerun">
    <input type="hidden" name="lang" value="${lang}">
    <input type="hidden" name="target" value="${rerunTarget}">
    <button type="submit"${running ? raw(' disabled') : ''}>${t.rerun}</button>
  </form>
  <div class="share">
    <button type="button" class="share-button" data-url="${pageUrl}" hidden>${t.share}</button>
    <span class="copy-status share-status" role="status" aria-live="polite"></span>
    <label for="share-url">${t.shareUrlLabel}</label>
    <input id="share-url" type="text" readonly value="${pageUrl}" class="mono">
  </div>
</div>
${r.advice?.length && !fixFirst.length ? html`<section class="card" aria-labelledby="advice-title"><h2 id="advice-title">${t.adviceTitle}</h2><ul class="advice">${r.advice.map((a) => html`<li data-code="${a.code}" class="from-check">${adviceFor(a, lang)}</li>`)}</ul></section>` : ''}
${copyBlock(r, t, lang, pageUrl, running)}
<p><a href="${withLang('/', lang)}">${t.backToChecks}</a></p>
</article>`
  return layout({ lang, title, path: `/r/${r.id}`, body, noscriptRefresh: running ? 2 : undefined, scripts: ['app.js'] })
}

export interface Refusal {
  /** the classic mistakes found in the DNS facts, in the caller's language */
  diagnosis?: Array<{ code: string, message: string }>
  /** the first mistake in words, for the heading (「MX に LAN 内のアドレスが登録されています」) */
  cause?: string
  /** when and how to try again */
  retryHint?: { possible?: boolean, afterSeconds?: number, message?: string }
  status: number
  error: string
  message: string
  callerIp?: string
  dns?: unknown
  retryAfter?: string
}

interface DnsFacts { domain?: string, implicitMx?: boolean, nullMx?: boolean, error?: string, mx?: Array<{ host: string, priority: number, addresses: string[], ttl: number | null, error?: string }> }

export function dnsFactsBlock (dns: unknown, t: WebText): SafeHtml | '' {
  if (!dns || typeof dns !== 'object') return ''
  const d = dns as DnsFacts
  const mx = Array.isArray(d.mx) ? d.mx : []
  return html`<section class="dns-facts" aria-label="${t.dnsFactsTitle}">
  <h3>${t.dnsFactsTitle}${d.domain ? html`: <span class="mono">${d.domain}</span>` : ''}</h3>
  ${d.error ? html`<p class="mono from-check">${d.error}</p>` : ''}
  ${d.nullMx ? html`<p>${t.dnsFactsNull}</p>` : ''}
  ${d.implicitMx ? html`<p>${t.dnsFactsImplicit}</p>` : ''}
  ${mx.length
    ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${t.dnsFactsHost}</th><th scope="col">${t.dnsFactsPriority}</th><th scope="col">${t.dnsFactsAddresses}</th><th scope="col">${t.dnsFactsTtl}</th></tr></thead><tbody>
${mx.map((h) => html`<tr><td class="mono">${h.host}</td><td>${h.priority}</td><td class="mono">${(h.addresses ?? []).join(', ') || h.error || '-'}</td><td>${h.ttl ?? '-'}</td></tr>`)}
</tbody></table></div>`
    : (!d.nullMx && !d.error ? html`<p>${t.dnsFactsNone}</p>` : '')}
</section>`
}

/** The sentence that explains a refusal in the page language. */
export function refusalExplanation (r: Refusal, lang: Lang): string | null {
  if (r.error === 'ip_mismatch') {
    const d = (r.dns ?? {}) as DnsFacts
    const addresses = (d.mx ?? []).flatMap((h) => h.addresses ?? [])
    return adviceText('target.ip_mismatch', lang, { callerIp: r.callerIp ?? '', addresses: addresses.length ? addresses : ['-'] })
  }
  return null
}

/** Resend the same form (never a password) from a refusal page. */
export interface Retry { action: string, fields: Record<string, string> }

export function refusalPage (r: Refusal, lang: Lang, backPath: string, retry?: Retry): string {
  const t = webText(lang)
  // A LAN address in the MX is named as such, not as "your IP is not the mail server".
  const title = r.cause || (t.errorTitle[r.error] ?? t.errorTitle.other)
  const explanation = refusalExplanation(r, lang)
  const body = html`
<section class="card refusal" role="alert" aria-labelledby="refusal-title">
  <h1 id="refusal-title">${title}</h1>
  ${r.diagnosis?.length
    ? html`<ul class="refusal-findings">${r.diagnosis.map((d) => html`<li class="from-check" data-code="${d.code}">${d.message}</li>`)}</ul>`
    : (r.message && r.error !== 'not_available' ? html`<p class="message from-check">${r.message}</p>` : '')}
  ${r.retryHint?.message ? html`<p class="from-check">${r.retryHint.message}</p>` : ''}
  ${explanation ? html`<p class="hint">${explanation}</p>` : ''}
  ${r.retryAfter ? html`<p>${t.retryAfter(r.retryAfter)}</p>` : ''}
  ${r.callerIp ? html`<p>${t.callerLabel}: <span class="mono">${r.callerIp}</span></p>` : ''}
  ${dnsFactsBlock(r.dns, t)}
  ${retry ? html`<form method="post" action="${retry.action}" class="retry">${Object.entries(retry.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit">${t.retry}</button></form>` : ''}
  <p><a href="${withLang(backPath, lang)}">${t.backToChecks}</a></p>
</section>`
  return layout({ lang, title, path: '/', body })
}

export function notFoundPage (lang: Lang, text?: string): string {
  const t = webText(lang)
  const body = html`<section class="card"><h1>${t.notFoundTitle}</h1><p>${text ?? t.notFoundText}</p><p><a href="${withLang('/', lang)}">${t.backToChecks}</a></p></section>`
  return layout({ lang, title: t.notFoundTitle, path: '/', body })
}

export const EMBED_CHECKS = ['ip', 'dns', 'ports', 'receive', 'relay', 'smtp', 'roles', 'pop3'] as const
export type EmbedCheck = typeof EMBED_CHECKS[number]

/** The page inside the embed iframe: one button, an input when the check needs one, the verdict. */
export function framePage (check: EmbedCheck, lang: Lang, callerIp: string): string {
  const t = webText(lang)
  const mail = (MAIL_CHECKS as string[]).includes(check)
  const name = t.checkShort[check]
  const input = check === 'receive'
    ? field('address', t.fieldAddress, { id: 'embed-address', autocomplete: 'email', inputmode: 'email', required: true })
    : ['dns', 'relay', 'smtp', 'roles', 'pop3'].includes(check)
        ? field('domain', t.fieldDomain, { id: 'embed-domain', required: true })
        : ''
  const page = html`<!doctype html>
<html lang="${lang}" class="light-only">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${t.siteName}: ${name}</title>
<link rel="stylesheet" href="${assetUrl('style.css')}">
<script src="${assetUrl('frame.js')}" defer></script>
</head>
<body class="frame" data-lang="${lang}" data-check="${check}" data-text="${JSON.stringify(clientText(lang))}">
<main>
<form class="embed-form" method="${check === 'ip' ? 'get' : 'post'}" action="${check === 'ip' ? '/' : `/check/${check}`}" target="_blank" data-check="${check}">
  <input type="hidden" name="lang" value="${lang}">
  ${input}
  <button type="submit">${t.embedRun(name)}</button>
</form>
${mail ? html`<p class="hint">${t.mailTestBefore(callerIp)} ${check === 'receive' ? t.mailTestOneMail : t.mailTestNoMail}</p>` : ''}
<p class="hint">${t.embedIntro} <a href="/?lang=${lang}" target="_blank" rel="noopener">${t.embedPowered}</a></p>
<div class="embed-result" role="status" aria-live="polite"></div>
</main>
</body>
</html>
`
  return page.value
}
