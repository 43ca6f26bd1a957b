// The send test's pages: the form that asks for a one-time address, and the
// waiting page (the address with a copy button, ready-made commands, a
// countdown, the result as it arrives over SSE). Rendered through html``
// (escaped by default) in the site's layout; wording from src/i18n/send-web.ts.
import { html, raw, type SafeHtml } from './html.js'
import { assetUrl } from './assets.js'
import { layout, verdictBadge } from './pages.js'
import { webText } from '../i18n/web.js'
import { sendWebText } from '../i18n/send-web.js'
import type { Lang } from '../i18n/index.js'
import type { Report, Advice } from '../core/report.js'
import { senderRulesSection } from './sender-rules-section.js'

/** layout() names the site's two scripts in its type; it renders any asset the same way. */
const SEND_SCRIPT = ['send.js'] as unknown as Array<'app.js'>

function withLang (path: string, lang: Lang): string {
  return `${path}${path.includes('?') ? '&' : '?'}lang=${lang}`
}

function styles (): SafeHtml {
  return html`<link rel="stylesheet" href="${assetUrl('send.css')}">`
}

export function sendFormPage (lang: Lang, callerIp: string, enabled: boolean, waitSeconds: number): string {
  const s = sendWebText(lang)
  const minutes = Math.round(waitSeconds / 6) / 10
  const body = html`${styles()}
<h1>${s.h1}</h1>
<p class="intro">${s.intro}</p>
<section class="card" aria-labelledby="send-form-title">
  <h2 id="send-form-title">${s.title}</h2>
  ${enabled
    ? html`<div class="notice" role="note"><p>${s.whatHappens(callerIp, minutes)}</p></div>
  <form method="post" action="/send" class="send-form">
    <input type="hidden" name="lang" value="${lang}">
    <div class="field">
      <label for="send-domain">${s.fieldDomain}</label>
      <input id="send-domain" name="domain" type="text" required maxlength="253" autocomplete="off" spellcheck="false" autocapitalize="none" aria-describedby="send-domain-hint">
      <p class="hint" id="send-domain-hint">${s.fieldDomainHint}</p>
    </div>
    <div class="field check">
      <input id="send-reply" name="reply" type="checkbox" value="true" aria-describedby="send-reply-hint">
      <label for="send-reply">${s.fieldReply}</label>
      <p class="hint" id="send-reply-hint">${s.fieldReplyHint}</p>
    </div>
    <button type="submit">${s.start}</button>
  </form>`
    : html`<p class="notice" role="status" id="send-off">${s.off}</p>`}
</section>
<p><a href="${withLang('/', lang)}">${webText(lang).backToChecks}</a></p>`
  return layout({ lang, title: s.title, path: '/send', body, current: 'send' })
}

function adviceList (advice: Advice[], lang: Lang): SafeHtml[] {
  return advice.map((a) => html`<li data-code="${a.code}">${(lang === 'ja' ? a.ja : a.en) ?? a.message}</li>`)
}

function remaining (until: string): string {
  const left = Math.max(0, Math.round((Date.parse(until) - Date.now()) / 1000))
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`
}

/** The commands a person pastes on the mail server, with the address and a sender at their domain filled in. */
export function sendCommands (address: string, domain: string, lang: Lang): { sendmail: string, swaks: string, client: SafeHtml, from: string } {
  const s = sendWebText(lang)
  const from = `postmaster@${domain}`
  const parts = s.cmdClientText.split(/(\{from\}|\{address\})/)
  return {
    from,
    sendmail: `printf 'Subject: mxprobe send test\\nTo: ${address}\\n\\nhello from my server\\n' | sendmail -f ${from} ${address}`,
    swaks: `swaks --server localhost --from ${from} --to ${address}`,
    client: html`${parts.map((p) => p === '{from}' ? html`<code>${from}</code>` : p === '{address}' ? html`<code class="addr">${address}</code>` : p)}`
  }
}

export function sendWaitPage (r: Report, lang: Lang): string {
  const s = sendWebText(lang)
  const t = webText(lang)
  const running = r.status === 'running'
  const address = String(r.address ?? '')
  const until = String(r.waitUntil ?? r.startedAt)
  const domain = r.target?.domain ?? 'example.com'
  const cmd = sendCommands(address, domain, lang)
  const body = html`${styles()}
<article class="send-wait" data-report-id="${r.id}" data-status="${r.status}" data-until="${until}" data-text="${JSON.stringify({ waiting: s.waiting, arrived: s.arrived, expired: s.expired, copied: s.copied, copyFailed: s.copyFailed, connectionLost: s.connectionLost, verdict: t.verdict })}">
<h1>${s.title} <span id="send-verdict">${verdictBadge(r.status, t)}</span></h1>
<section class="card" aria-labelledby="send-step1">
  <h2 id="send-step1">${s.step1}</h2>
  <p>${s.step1Explain}</p>
  <p class="send-address-label" id="send-address-label">${s.addressLabel}</p>
  <p class="send-address"><code id="send-address" aria-labelledby="send-address-label">${address}</code></p>
  <p><button type="button" class="copy" id="send-copy" data-copy="${address}" hidden>${s.copy}</button> <span class="copy-status" id="send-copy-status" role="status" aria-live="polite"></span></p>
  <p class="countdown">${s.timeLeft}: <time id="send-countdown" datetime="${until}" aria-live="off">${running ? remaining(until) : '0:00'}</time></p>
</section>
<section class="card" aria-labelledby="send-step2">
  <h2 id="send-step2">${s.step2}</h2>
  <p>${s.step2Explain}</p>
  <h3>${s.cmdSendmail}</h3>
  <pre class="snippet" tabindex="0"><code>${cmd.sendmail}</code></pre>
  <h3>${s.cmdSwaks}</h3>
  <pre class="snippet" tabindex="0"><code>${cmd.swaks}</code></pre>
  <h3>${s.cmdClient}</h3>
  <p>${cmd.client}</p>
</section>
<section class="card" aria-labelledby="send-step3">
  <h2 id="send-step3">${s.step3}</h2>
  <div id="send-live" role="status" aria-live="polite">
    ${running
      ? html`<p class="send-waiting" id="send-state"><span class="spinner" aria-hidden="true"></span> ${s.waiting}</p><noscript><p>${s.waitingNoScript}</p></noscript>`
      : html`<p class="summary" id="send-summary">${r.summary}</p>`}
  </div>
  <div id="send-result"${running ? raw(' hidden') : ''}>
    <h3>${t.adviceTitle}</h3>
    <ul class="advice" id="send-advice">${adviceList(r.advice, lang)}</ul>
  </div>
  <p><a href="/r/${r.id}?lang=${lang}" id="send-full">${s.fullReport}</a></p>
</section>
${running ? html`<div id="send-rules-slot"></div>` : senderRulesSection(r, lang)}
<p><a href="${withLang('/send', lang)}">${s.again}</a> · <a href="${withLang('/', lang)}">${t.backToChecks}</a></p>
</article>`
  return layout({ lang, title: s.title, path: `/send/${r.id}`, body, current: 'send', noscriptRefresh: running ? 5 : undefined, scripts: SEND_SCRIPT })
}
