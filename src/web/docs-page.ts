// /docs: the API and the embed button for people, in Japanese and English:
// a curl example for each endpoint, the embed snippet with every attribute,
// and links to the generated OpenAPI page and JSON.
import { html, type SafeHtml } from './html.js'
import { layout, withLang } from './pages.js'
import { docsText } from '../i18n/docs-web.js'
import { webText } from '../i18n/web.js'
import type { Lang } from '../i18n/index.js'

/** Text with `code` spans: what is between backticks is shown as code (and never judged as prose). */
export function withCode (text: string): SafeHtml {
  return html`${text.split('`').map((part, i) => i % 2 === 1 ? html`<code>${part}</code>` : part)}`
}

const JSON_POST = (origin: string, path: string, body: string, extra = ''): string =>
  `curl -s ${origin}${path}${extra} \\\n  -H 'content-type: application/json' \\\n  -d '${body}'`

/** The example for each endpoint key of src/i18n/docs-web.ts, with this service's own origin. */
export function curlExample (key: string, origin: string): { method: string, path: string, example: string } {
  switch (key) {
    case 'ip': return { method: 'GET', path: '/api/v1/ip', example: `curl -s ${origin}/api/v1/ip` }
    case 'all': return { method: 'POST', path: '/api/v1/checks/all', example: JSON_POST(origin, '/api/v1/checks/all', '{"target":"taro@example.jp"}', '?lang=ja') }
    case 'ports': return { method: 'POST', path: '/api/v1/checks/ports', example: JSON_POST(origin, '/api/v1/checks/ports', '{"ports":[25,587,993]}') }
    case 'receive': return { method: 'POST', path: '/api/v1/checks/receive', example: `curl -s -H 'Accept: text/plain' ${origin}/api/v1/checks/receive \\\n  -H 'content-type: application/json' \\\n  -d '{"address":"taro@example.jp"}'` }
    case 'pop3': return { method: 'POST', path: '/api/v1/checks/pop3', example: JSON_POST(origin, '/api/v1/checks/pop3', '{"domain":"example.jp","username":"taro","password":"…"}') }
    case 'send': return { method: 'POST', path: '/api/v1/checks/send', example: JSON_POST(origin, '/api/v1/checks/send', '{"domain":"example.jp"}') }
    case 'report': return { method: 'GET', path: '/api/v1/checks/{id}', example: `curl -s -H 'Accept: text/plain' ${origin}/api/v1/checks/ID` }
    case 'events': return { method: 'GET', path: '/api/v1/checks/{id}/events', example: `curl -sN ${origin}/api/v1/checks/ID/events` }
    case 'headers': return { method: 'POST', path: '/api/v1/tools/headers', example: `jq -Rs '{raw: .}' < mail.eml | curl -s ${origin}/api/v1/tools/headers \\\n  -H 'content-type: application/json' --data-binary @-` }
    case 'mojibake': return { method: 'POST', path: '/api/v1/tools/mojibake', example: JSON_POST(origin, '/api/v1/tools/mojibake', '{"text":"縺薙ｓ縺ｫ縺｡縺ｯ"}') }
    default: return { method: 'POST', path: `/api/v1/checks/${key}`, example: JSON_POST(origin, `/api/v1/checks/${key}`, '{"domain":"example.jp"}') }
  }
}

export function docsPage (lang: Lang, origin: string): string {
  const d = docsText(lang)
  const snippet = `<div id="mail-test"></div>\n<script src="${origin}/embed.js"\n  data-check="receive" data-lang="${lang}"\n  data-target="#mail-test" async></script>`
  const body = html`
<h1>${d.title}</h1>
<p class="intro">${d.intro}</p>
<nav class="toc" aria-label="${d.tocLabel}"><ul>
  <li><a href="#basics">${d.basicsTitle}</a></li>
  <li><a href="#endpoints">${d.endpointsTitle}</a></li>
  <li><a href="#answers">${d.answersTitle}</a></li>
  <li><a href="#embed">${d.embedTitle}</a></li>
  <li><a href="#openapi">${d.specTitle}</a></li>
</ul></nav>
<section class="card" id="basics" aria-labelledby="basics-title">
  <h2 id="basics-title">${d.basicsTitle}</h2>
  <ul>${d.basics.map((b) => html`<li>${withCode(b)}</li>`)}</ul>
</section>
<section class="card docs-endpoints" id="endpoints" aria-labelledby="endpoints-title">
  <h2 id="endpoints-title">${d.endpointsTitle}</h2>
  ${d.endpoints.map((e) => {
    const ex = curlExample(e.key, origin)
    return html`<section class="endpoint" id="api-${e.key}" aria-labelledby="api-${e.key}-title">
  <h3 id="api-${e.key}-title">${e.title} <code class="route">${ex.method} ${ex.path}</code></h3>
  <p>${withCode(e.text)}</p>
  <pre class="snippet" tabindex="0" aria-label="${d.exampleLabel}: ${e.title}"><code>${ex.example}</code></pre>
</section>`
  })}
</section>
<section class="card" id="answers" aria-labelledby="answers-title">
  <h2 id="answers-title">${d.answersTitle}</h2>
  <dl class="facts">${d.answers.map((a) => html`<div><dt><code>${a.code}</code></dt><dd>${withCode(a.text)}</dd></div>`)}</dl>
</section>
<section class="card" id="embed" aria-labelledby="embed-title">
  <h2 id="embed-title">${d.embedTitle}</h2>
  <p>${d.embedIntro}</p>
  <pre class="snippet" tabindex="0" aria-label="${d.exampleLabel}: ${d.embedTitle}"><code>${snippet}</code></pre>
  <table class="attrs"><thead><tr><th scope="col">${d.attrName}</th><th scope="col">${d.attrMeaning}</th></tr></thead><tbody>
  ${d.attrs.map((a) => html`<tr><td><code>${a.name}</code></td><td>${withCode(a.text)}<br>${a.example ? d.exampleValue : d.valuesLabel}: <code>${a.values}</code></td></tr>`)}
  </tbody></table>
  <p class="hint">${d.embedNote}</p>
</section>
<section class="card" id="openapi" aria-labelledby="openapi-title">
  <h2 id="openapi-title">${d.specTitle}</h2>
  <ul>
    <li><a href="/docs/openapi">${d.specUi}</a></li>
    <li><a href="/docs/json">${d.specJson}</a> <code>/docs/json</code></li>
  </ul>
  <p class="hint">${d.specNote}</p>
</section>
<p><a href="${withLang('/', lang)}">${webText(lang).backToChecks}</a></p>`
  return layout({ lang, title: d.title, path: '/docs', body, current: 'docs', bodyClass: 'docs' })
}
