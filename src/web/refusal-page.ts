// The page of a stored refusal (/r/:id of a report with `refusal`): the
// mistake named in the heading (「MX に LAN 内のアドレスが登録されています」),
// what to change, the DNS facts to compare, a permalink and the forum text,
// and the button that tries the same check again.
import { html } from './html.js'
import { webText } from '../i18n/web.js'
import { refusalText } from '../i18n/refusal-web.js'
import type { Lang } from '../i18n/index.js'
import type { Report } from '../core/report.js'
import { layout, withLang, dnsFactsBlock, copyBlock, timeEl, refusalExplanation } from './pages.js'

/** The single checks whose form can simply be posted again (pop3 would lose its login, ports has no field). */
const RETRY_FORMS = new Set(['all', 'dns', 'smtp', 'receive', 'relay', 'roles'])

export function refusedReportPage (r: Report, lang: Lang, pageUrl: string): string {
  const t = webText(lang)
  const x = refusalText(lang)
  const refusal = r.refusal!
  // The mistake itself names the page (「MX に LAN 内のアドレスが登録されています」); without one, the kind of refusal.
  const title = r.advice.length ? r.summary.replace(/[。.]$/, '') : (t.errorTitle[refusal.error] ?? t.errorTitle.other)
  const explanation = refusalExplanation({ status: 403, error: refusal.error, message: r.summary, callerIp: r.callerIp, dns: r.dns }, lang)
  const step = r.steps.find((s) => s.name === 'refusal')
  const fields = { ...refusal.input, lang }
  const body = html`
<article class="report refused" data-report-id="${r.id}" data-status="${r.status}">
<section class="card refusal" role="alert" aria-labelledby="refusal-title">
  <h1 id="refusal-title">${title}</h1>
  <p class="hint">${t.checkShort[r.type] ?? r.type} · ${timeEl(r.startedAt, lang)} · ${x.refusedBadge}</p>
  ${r.advice.length
    ? html`<ul class="refusal-findings">${r.advice.map((a) => html`<li class="from-check" data-code="${a.code}">${lang === 'ja' ? a.ja : a.en}</li>`)}</ul>`
    : html`<p class="message from-check">${step?.detail ?? r.summary}</p>`}
  ${refusal.retry?.message ? html`<p class="from-check">${refusal.retry.message}</p>` : ''}
  ${explanation ? html`<p class="hint">${explanation}</p>` : ''}
  <p>${t.callerLabel}: <span class="mono nobreak">${r.callerIp}</span></p>
  ${dnsFactsBlock(r.dns, t)}
  <p class="hint">${x.noSocket}</p>
  ${RETRY_FORMS.has(r.type)
    ? html`<form method="post" action="/check/${r.type}" class="retry"><p>${x.fixThen}</p>${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit">${t.retry}</button></form>`
    : ''}
  <p>${x.permalink} <a class="permalink mono" href="${pageUrl}">${pageUrl}</a></p>
</section>
${copyBlock(r, t, lang, pageUrl, false)}
<p><a href="${withLang('/', lang)}">${t.backToChecks}</a></p>
</article>`
  return layout({ lang, title, path: `/r/${r.id}`, body, scripts: ['app.js'] })
}
