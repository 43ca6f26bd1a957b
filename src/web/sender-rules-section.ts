// The send test's checklist of Gmail's and Yahoo's sender rules, as a card:
// the score per receiver ("Gmail 5/6"), unmet rules first, the bulk senders'
// rules apart, and the data's date and sources. Used by the send page (also
// fetched by public/send.js when the result arrives live) and the report page.
import { html, type SafeHtml } from './html.js'
import type { Report } from '../core/report.js'
import type { Lang } from '../i18n/index.js'
import { senderRulesText } from '../i18n/sender-rules.js'
import { dayText } from '../i18n/dates.js'

type Verdict = NonNullable<NonNullable<NonNullable<Report['inbound']>['senderRules']>>
type Rule = Verdict['receivers'][number]['rules'][number]

/** The note under the checklist: the data's date, what one mail cannot show, the receivers' pages as links. */
function rulesNote (v: Verdict, lang: Lang): SafeHtml {
  const t = senderRulesText(lang)
  const links = v.receivers.flatMap((x) => (x.sources ?? []).map((url, i, all) => html`<a href="${url}" rel="noopener noreferrer">${x.name}${all.length > 1 ? ` ${i + 1}` : ''}</a>`))
  return html`${t.asOf({ date: dayText(v.asOf, lang), notMeasured: v.notMeasured.join(lang === 'ja' ? '、' : '; ') })} ${links.length ? html`${t.sourcesLabel} ${links.map((l, i) => i ? html`, ${l}` : l)}` : ''}`
}

export function senderRulesSection (r: Pick<Report, 'inbound'>, lang: Lang): SafeHtml | '' {
  const v = r.inbound?.senderRules
  if (!v) return ''
  const t = senderRulesText(lang)
  const mark = (m: boolean | null): string => m === true ? t.met : m === false ? t.unmet : t.unknown
  const item = (x: Rule): SafeHtml => html`<li class="rule r-${x.met === true ? 'met' : x.met === false ? 'unmet' : 'unknown'}" data-rule="${x.rule}"><span class="rule-mark">${mark(x.met)}</span> <span class="rule-title">${x.title}</span><span class="rule-reason">${x.reason}</span></li>`
  return html`<section class="card rules" id="send-rules" aria-labelledby="send-rules-title">
  <h2 id="send-rules-title">${t.heading}</h2>
  <p class="rules-score" id="send-rules-score">${v.receivers.map((x) => html`<span class="score" data-receiver="${x.id}"><strong>${x.name} ${x.met}/${x.of}</strong></span> `)}</p>
  ${v.receivers.map((x) => {
    const all = x.rules.filter((y) => y.scope === 'all')
    const bulk = x.rules.filter((y) => y.scope === 'bulk')
    return html`<h3 id="rules-${x.id}">${x.name} ${x.met}/${x.of}</h3>
  <p class="rules-scope">${t.allSenders}</p>
  <ul class="rules-list" aria-labelledby="rules-${x.id}">${all.map(item)}</ul>
  <p class="rules-scope">${t.bulkSenders}: ${x.bulk.met}/${x.bulk.of}</p>
  <ul class="rules-list bulk">${bulk.map(item)}</ul>`
  })}
  <p class="hint rules-note">${rulesNote(v, lang)}</p>
</section>`
}
