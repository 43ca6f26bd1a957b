// Server-rendered pages of the forensics tools: a form that works without
// JavaScript and the result, in Japanese or English. Everything that came
// from the user or from a header goes through escapeHtml.
import type { Lang } from '../i18n/index.js'
import { escapeHtml as h, escapeTextarea } from './html-escape.js'
import type { HeaderAnalysis, Hop } from './headers.js'
import type { MojibakeResult } from './mojibake.js'
import { adviceText, registerAdvice } from '../i18n/index.js'
import { TOOLS_ADVICE } from '../i18n/advice/tools.js'

registerAdvice(TOOLS_ADVICE)

type Tool = 'headers' | 'mojibake'

const T = {
  ja: {
    site: 'mxprobe',
    home: 'トップ',
    headersTitle: 'メールヘッダー解析',
    mojibakeTitle: '文字化けメールの修復',
    headersIntro: '受け取ったメールのヘッダー (メールソフトの「ソースを表示」「オリジナルを表示」で出る先頭部分) を貼り付けてください。本文ごと貼り付けても構いません (最大 256 KiB)。経路、送信元と思われるサーバー、認証結果を表示します。',
    mojibakeIntro: '文字化けしたテキスト (件名、本文の一部、=?ISO-2022-JP?B?…?= のような文字列) を貼り付けてください。誤った文字コードで読まれたものとして逆変換を試し、日本語として自然な順に候補を並べます。',
    privacy: '貼り付けた内容は保存されません。「共有リンクを作成」にチェックしたときだけ、結果を保存してリンクを発行します。',
    saveLabel: '共有リンクを作成する (結果を保存します)',
    analyse: '解析する',
    repair: '修復する',
    result: '結果',
    savedAt: '共有リンク',
    summary: '概要',
    subject: '件名',
    from: '差出人',
    date: '日付',
    returnPath: 'Return-Path',
    replyTo: 'Reply-To',
    origin: '送信元と思われるサーバー',
    originNone: '受信側の外から入った経路は見つかりませんでした。',
    ptr: '逆引き (PTR)',
    findings: '注意点',
    hops: '経路 (古い順)',
    hop: '#',
    hopFrom: '送信元',
    hopBy: '受信サーバー',
    hopWith: 'プロトコル',
    hopTime: '時刻 (UTC)',
    hopDelay: '遅延',
    hopFlags: '注記',
    unparsed: '読み取れなかった行',
    auth: '認証結果',
    dkim: 'DKIM 署名',
    arc: 'ARC',
    allHeaders: 'すべてのヘッダー (デコード済み)',
    rawValue: '元の値',
    candidates: '修復候補 (もっともらしい順)',
    identity: '変換なし (入力のまま)',
    score: 'スコア',
    share: '日本語らしさ',
    lost: '復元不能',
    guessed: '推測したバイト',
    tls: 'TLS',
    plain: '平文',
    unknown: '不明',
    copy: '結果のテキスト',
    back: '別の内容を解析する',
    error: 'エラー',
    other: { headers: '文字化けの修復はこちら', mojibake: 'メールヘッダーの解析はこちら' }
  },
  en: {
    site: 'mxprobe',
    home: 'Home',
    headersTitle: 'Mail header analyzer',
    mojibakeTitle: 'Garbled mail repair',
    headersIntro: 'Paste the header block of a mail you received ("show original" or "view source" in your mail program); the whole message is fine too (up to 256 KiB). You get the delivery path, the server it most likely came from and the authentication results.',
    mojibakeIntro: 'Paste garbled text (a subject, part of a body, or words like =?ISO-2022-JP?B?…?=). mxprobe undoes likely wrong character-set decodings and ranks the results by how much they read like Japanese.',
    privacy: 'What you paste is not stored. Only when you tick "create a link" is the result stored and a link issued.',
    saveLabel: 'Create a link to share (stores the result)',
    analyse: 'Analyse',
    repair: 'Repair',
    result: 'Result',
    savedAt: 'Link to share',
    summary: 'Summary',
    subject: 'Subject',
    from: 'From',
    date: 'Date',
    returnPath: 'Return-Path',
    replyTo: 'Reply-To',
    origin: 'Most likely origin',
    originNone: 'No hop from outside the recipient\'s servers was found.',
    ptr: 'Reverse DNS (PTR)',
    findings: 'Findings',
    hops: 'Delivery path (oldest first)',
    hop: '#',
    hopFrom: 'From',
    hopBy: 'By',
    hopWith: 'Protocol',
    hopTime: 'Time (UTC)',
    hopDelay: 'Delay',
    hopFlags: 'Notes',
    unparsed: 'Lines that could not be read',
    auth: 'Authentication results',
    dkim: 'DKIM signatures',
    arc: 'ARC',
    allHeaders: 'All headers (decoded)',
    rawValue: 'raw value',
    candidates: 'Repair candidates (most plausible first)',
    identity: 'No change (the input as it is)',
    score: 'score',
    share: 'Japanese-looking',
    lost: 'lost',
    guessed: 'guessed bytes',
    tls: 'TLS',
    plain: 'plain text',
    unknown: 'unknown',
    copy: 'Result as text',
    back: 'Analyse something else',
    error: 'Error',
    other: { headers: 'Repair garbled text', mojibake: 'Analyse mail headers' }
  }
} as const

const CSS = `
*{box-sizing:border-box}body{margin:0;font:16px/1.55 system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",Meiryo,sans-serif;color:#1b1f24;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#fff}header .lang{margin-left:auto}main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #ccd;padding-bottom:.2rem}
textarea{width:100%;min-height:14rem;font:14px/1.4 ui-monospace,Menlo,Consolas,monospace;padding:.5rem;border:1px solid #99a;border-radius:4px}
button{font-size:1rem;padding:.5rem 1.4rem;background:#1f6feb;color:#fff;border:0;border-radius:4px;cursor:pointer;margin-top:.5rem}
.note{color:#555;font-size:.9rem}.box{background:#fff;border:1px solid #dde;border-radius:6px;padding:.8rem 1rem;margin:.6rem 0}
.warn{border-left:5px solid #d29922}.info{border-left:5px solid #58a6ff}.bad{border-left:5px solid #cf222e}.good{border-left:5px solid #2da44e}
.scroll{overflow-x:auto}table.hops{min-width:46rem}table.hops td.wrap{word-break:normal;overflow-wrap:anywhere}table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{border:1px solid #dde;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eef1f5}
td.wrap,pre{white-space:pre-wrap;word-break:break-all}pre{background:#fff;border:1px solid #dde;padding:.6rem;font:14px/1.45 ui-monospace,Menlo,Consolas,monospace;margin:.3rem 0}
.flag{display:inline-block;background:#fff3cd;border:1px solid #e0c36c;border-radius:3px;padding:0 .3rem;margin:1px;font-size:.8rem}
.ctl{color:#cf222e;font-family:monospace}.path{font-family:ui-monospace,Menlo,monospace;font-size:.85rem;color:#333}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{font-weight:600}dd{margin:0;word-break:break-all}
ol.cands>li{margin:.6rem 0}details summary{cursor:pointer;color:#1f6feb}
@media (max-width:40rem){body{font-size:15px}main{padding:.6rem}th,td{padding:.2rem .3rem}}
`

function layout (lang: Lang, tool: Tool, title: string, body: string): string {
  const t = T[lang]
  const other = tool === 'headers' ? 'mojibake' : 'headers'
  const alt = lang === 'ja' ? 'en' : 'ja'
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${h(title)} - mxprobe</title><style>${CSS}</style></head>
<body><header><a href="/?lang=${lang}"><strong>${t.site}</strong></a><a href="/tools/headers?lang=${lang}">${h(t.headersTitle)}</a><a href="/tools/mojibake?lang=${lang}">${h(t.mojibakeTitle)}</a>
<a class="lang" href="/tools/${tool}?lang=${alt}" hreflang="${alt}">${alt === 'ja' ? '日本語' : 'English'}</a></header>
<main><h1>${h(title)}</h1>${body}<p class="note"><a href="/tools/${other}?lang=${lang}">${h(t.other[tool])}</a></p></main></body></html>`
}

function form (lang: Lang, tool: Tool, value = ''): string {
  const t = T[lang]
  const field = tool === 'headers' ? 'raw' : 'text'
  return `<form method="post" action="/tools/${tool}?lang=${lang}" accept-charset="utf-8">
<p>${h(tool === 'headers' ? t.headersIntro : t.mojibakeIntro)}</p>
<label for="${field}" class="note">${h(tool === 'headers' ? t.headersTitle : t.mojibakeTitle)}</label>
<textarea id="${field}" name="${field}" required spellcheck="false" autocomplete="off">${escapeTextarea(value)}</textarea>
<p><label><input type="checkbox" name="save" value="1"> ${h(t.saveLabel)}</label></p>
<p class="note">${h(t.privacy)}</p>
<button type="submit">${h(tool === 'headers' ? t.analyse : t.repair)}</button></form>`
}

export function toolFormPage (lang: Lang, tool: Tool): string {
  const t = T[lang]
  return layout(lang, tool, tool === 'headers' ? t.headersTitle : t.mojibakeTitle, form(lang, tool))
}

export function toolErrorPage (lang: Lang, tool: Tool, message: string): string {
  const t = T[lang]
  return layout(lang, tool, tool === 'headers' ? t.headersTitle : t.mojibakeTitle,
    `<div class="box bad" role="alert"><strong>${h(t.error)}:</strong> ${h(message)}</div>${form(lang, tool)}`)
}

function savedBox (lang: Lang, saved: { id: string, page: string, self: string } | null): string {
  if (!saved) return ''
  return `<div class="box good"><strong>${h(T[lang].savedAt)}:</strong> <a href="${h(saved.page)}">${h(saved.page)}</a> · <a href="${h(saved.self)}">JSON</a></div>`
}

function tlsText (lang: Lang, hop: Hop): string {
  const t = T[lang]
  if (hop.tls === true) return `${t.tls}${hop.tlsVersion ? ' ' + hop.tlsVersion : ''}${hop.tlsCipher ? ' ' + hop.tlsCipher : ''}`
  if (hop.tls === false) return t.plain
  return ''
}

function delayText (s: number | null): string {
  if (s === null) return ''
  const sign = s < 0 ? '-' : ''
  const a = Math.abs(s)
  if (a < 120) return `${sign}${a} s`
  if (a < 7200) return `${sign}${Math.round(a / 60)} min`
  return `${sign}${(a / 3600).toFixed(1)} h`
}

export function headersResultPage (lang: Lang, a: HeaderAnalysis, saved: { id: string, page: string, self: string } | null, input: string | null): string {
  const t = T[lang]
  const parts: string[] = [savedBox(lang, saved)]
  parts.push(`<h2>${h(t.summary)}</h2><div class="box"><dl>
<dt>${h(t.subject)}</dt><dd>${h(a.subject ?? '')}</dd>
<dt>${h(t.from)}</dt><dd>${h(a.from ? `${a.from.name ? a.from.name + ' ' : ''}<${a.from.address ?? ''}>` : '')}</dd>
<dt>${h(t.date)}</dt><dd>${h(a.date ?? '')}</dd>
<dt>${h(t.returnPath)}</dt><dd>${h(a.returnPath ?? '')}</dd>
<dt>${h(t.replyTo)}</dt><dd>${h(a.replyTo ?? '')}</dd>
${Object.keys(a.verdicts).length ? `<dt>${h(t.auth)}</dt><dd>${Object.entries(a.verdicts).map(([k, v]) => `${h(k)}=<strong>${h(v)}</strong>`).join(' ')}</dd>` : ''}
</dl></div>`)

  parts.push(`<h2>${h(t.origin)}</h2>`)
  if (a.origin) {
    const o = a.origin
    parts.push(`<div class="box info"><dl><dt>IP</dt><dd>${h(o.ip ?? '')}</dd><dt>Host</dt><dd>${h(o.host ?? '')}</dd>
${o.helo ? `<dt>HELO</dt><dd>${h(o.helo)}</dd>` : ''}${o.rdns ? `<dt>rDNS</dt><dd>${h(o.rdns)}</dd>` : ''}
${o.ptr !== null || o.ptrError ? `<dt>${h(t.ptr)}</dt><dd>${h(o.ptr && o.ptr.length ? o.ptr.join(', ') : o.ptrError ?? '-')}</dd>` : ''}
<dt>${h(t.hop)}</dt><dd>${o.hop}</dd></dl></div>`)
  } else {
    parts.push(`<div class="box">${h(t.originNone)}</div>`)
  }
  if (a.originatingIp) parts.push(`<p class="note">X-Originating-IP: ${h(a.originatingIp)}</p>`)

  if (a.findings.length) {
    parts.push(`<h2>${h(t.findings)}</h2>`)
    for (const f of a.findings) parts.push(`<div class="box ${f.severity === 'warn' ? 'warn' : 'info'}">${h(lang === 'ja' ? f.ja : f.en)}</div>`)
  }

  parts.push(`<h2>${h(t.hops)}</h2><div class="scroll"><table class="hops"><thead><tr><th>${h(t.hop)}</th><th>${h(t.hopFrom)}</th><th>${h(t.hopBy)}</th><th>${h(t.hopWith)}</th><th>${h(t.hopTime)}</th><th>${h(t.hopDelay)}</th><th>${h(t.hopFlags)}</th></tr></thead><tbody>`)
  for (const hop of a.hops) {
    if (!hop.parsed) {
      parts.push(`<tr><td>${hop.index}</td><td colspan="6" class="wrap"><strong>${h(t.unparsed)}:</strong> ${h(hop.raw)}</td></tr>`)
      continue
    }
    const from = [hop.fromRdns ?? hop.fromHost, hop.fromHelo && hop.fromHelo !== (hop.fromRdns ?? hop.fromHost) ? `HELO ${hop.fromHelo}` : null, hop.fromIp ? `[${hop.fromIp}]` : null].filter(Boolean).join(' ')
    const flags = [...hop.flags, hop.authenticated ? 'authenticated' : null, hop.fromIpRange ? hop.fromIpRange.name : null, hop.note, hop.software].filter(Boolean)
    parts.push(`<tr><td>${hop.index}</td><td class="wrap">${h(from)}</td><td class="wrap">${h(hop.byHost ?? '')}</td><td>${h(hop.protocol ?? '')}<br><span class="note">${h(tlsText(lang, hop))}</span></td><td>${h(hop.date ? hop.date.replace('T', ' ').replace('.000Z', '') : hop.dateRaw ?? '')}</td><td>${h(delayText(hop.delaySeconds))}</td><td>${flags.map((f) => `<span class="flag">${h(f)}</span>`).join(' ')}</td></tr>`)
  }
  parts.push('</tbody></table></div>')
  if (a.unparsedLines.length) parts.push(`<h2>${h(t.unparsed)}</h2><pre>${h(a.unparsedLines.join('\n'))}</pre>`)

  if (a.authenticationResults.length || a.receivedSpf.length) {
    parts.push(`<h2>${h(t.auth)}</h2>`)
    for (const ar of a.authenticationResults) {
      parts.push(`<div class="box"><strong>${h(ar.authservId || 'Authentication-Results')}</strong><ul>${ar.results.map((r) => `<li>${h(r.method)}=<strong>${h(r.result)}</strong>${r.reason ? ` (${h(r.reason)})` : ''} ${Object.entries(r.props).map(([k, v]) => `<span class="note">${h(k)}=${h(v)}</span>`).join(' ')}</li>`).join('')}</ul></div>`)
    }
    for (const s of a.receivedSpf) parts.push(`<div class="box">Received-SPF: <strong>${h(s.result)}</strong> ${h(s.comment ?? '')} ${Object.entries(s.props).map(([k, v]) => `<span class="note">${h(k)}=${h(v)}</span>`).join(' ')}</div>`)
  }
  if (a.dkim.length) {
    parts.push(`<h2>${h(t.dkim)}</h2><div class="scroll"><table><tr><th>d=</th><th>s=</th><th>a=</th><th>h=</th></tr>${a.dkim.map((d) => `<tr><td>${h(d.domain ?? '')}</td><td>${h(d.selector ?? '')}</td><td>${h(d.algorithm ?? '')}</td><td class="wrap">${h(d.headers.join(':'))}</td></tr>`).join('')}</table></div>`)
  }
  if (a.arc.length) {
    parts.push(`<h2>${h(t.arc)}</h2><div class="scroll"><table><tr><th>i=</th><th>cv=</th><th>d=</th><th>s=</th><th>${h(t.auth)}</th></tr>${a.arc.map((s) => `<tr><td>${s.instance}</td><td>${h(s.chainValidation ?? '')}</td><td>${h(s.sealDomain ?? '')}</td><td>${h(s.sealSelector ?? '')}</td><td>${h(s.results ? s.results.results.map((r) => `${r.method}=${r.result}`).join(' ') : '')}</td></tr>`).join('')}</table></div>`)
  }

  parts.push(`<h2>${h(t.allHeaders)}</h2><div class="scroll"><table>${a.headers.map((f) => `<tr><th>${h(f.name)}</th><td class="wrap">${h(f.decoded)}${f.decoded !== f.value ? `<details><summary>${h(t.rawValue)}</summary>${h(f.value)}</details>` : ''}</td></tr>`).join('')}</table></div>`)
  parts.push(`<h2>${h(t.back)}</h2>${form(lang, 'headers', input ?? '')}`)
  return layout(lang, 'headers', `${t.headersTitle}: ${t.result}`, parts.join('\n'))
}

export function mojibakeResultPage (lang: Lang, r: MojibakeResult, saved: { id: string, page: string, self: string } | null, input: string | null): string {
  const t = T[lang]
  const parts: string[] = [savedBox(lang, saved)]
  const best = r.candidates[0]
  if (r.unchanged) parts.push(`<div class="box info">${h(adviceText('tools.mojibake.unchanged', lang))}</div>`)
  if (best && best.lost > 0) parts.push(`<div class="box warn">${h(adviceText('tools.mojibake.lossy', lang, { lost: best.lost }))}</div>`)
  parts.push(`<h2>${h(t.candidates)}</h2><ol class="cands">`)
  for (const c of r.candidates) {
    const path = c.path.length ? c.path.join(' → ') : t.identity
    parts.push(`<li><div class="box ${c === best ? 'good' : ''}"><div class="path">${h(path)}</div>
<pre>${h(c.text)}</pre><span class="note">${h(t.score)} ${c.score} · ${h(t.share)} ${Math.round(c.japaneseShare * 100)}%${c.lost ? ` · ${h(t.lost)} ${c.lost}` : ''}${c.guessed ? ` · ${h(t.guessed)} ${c.guessed}` : ''}</span></div></li>`)
  }
  parts.push('</ol>')
  parts.push(`<h2>${h(t.back)}</h2>${form(lang, 'mojibake', input ?? '')}`)
  return layout(lang, 'mojibake', `${t.mojibakeTitle}: ${t.result}`, parts.join('\n'))
}
