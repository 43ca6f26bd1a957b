/*
 * mxprobe check button for other sites:
 *   <script src="https://SERVICE/embed.js" data-check="receive" async></script>
 * data-check: ip, dns, ports, receive, relay (also smtp, roles, pop3);
 * data-lang: ja or en (default: the page's language); data-target: a CSS
 * selector of the element to put the button in (default: after this tag).
 * The button lives in an iframe served by mxprobe: the host page cannot
 * script into it and neither side's styles leak into the other. The check
 * always targets the visitor's own IP; the server enforces that anyway.
 */
(function () {
  'use strict'
  const script = document.currentScript
  if (!script || !script.src) return
  const origin = new URL(script.src, window.location.href).origin
  const checks = ['ip', 'dns', 'ports', 'receive', 'relay', 'smtp', 'roles', 'pop3']
  let check = String(script.getAttribute('data-check') || 'dns').toLowerCase()
  if (checks.indexOf(check) < 0) check = 'dns'
  const pageLang = script.getAttribute('data-lang') || document.documentElement.getAttribute('lang') || navigator.language || ''
  const lang = /^ja/i.test(pageLang) ? 'ja' : 'en'

  const frame = document.createElement('iframe')
  frame.src = origin + '/embed/frame?check=' + encodeURIComponent(check) + '&lang=' + lang
  const names = { ja: { ip: 'IP アドレス', dns: 'DNS / MX', ports: 'ポート開放', receive: '受信テスト', relay: '第三者中継', smtp: 'SMTP サーバー', roles: '必須アドレス', pop3: 'POP3' }, en: { ip: 'my IP', dns: 'DNS / MX', ports: 'ports', receive: 'receive test', relay: 'open relay', smtp: 'SMTP server', roles: 'mailboxes', pop3: 'POP3' } }
  frame.title = lang === 'ja' ? 'mxprobe のテストボタン: ' + names.ja[check] : 'mxprobe check button: ' + names.en[check]
  frame.setAttribute('sandbox', 'allow-scripts allow-forms allow-same-origin allow-popups allow-popups-to-escape-sandbox')
  frame.setAttribute('referrerpolicy', 'no-referrer')
  frame.setAttribute('data-mxprobe', check)
  frame.style.cssText = 'display:block;border:1px solid #d0d7de;border-radius:8px;width:100%;max-width:32rem;height:10rem;background:#fff;color-scheme:light;margin:0;padding:0'

  let target = null
  const sel = script.getAttribute('data-target')
  if (sel) { try { target = document.querySelector(sel) } catch (e) { target = null } }
  function place () {
    if (target) target.appendChild(frame)
    else if (script.parentNode && script.parentNode !== document.head) script.parentNode.insertBefore(frame, script.nextSibling)
    else if (document.body) document.body.appendChild(frame)
    else document.addEventListener('DOMContentLoaded', function () { document.body.appendChild(frame) })
  }
  place()

  // The frame reports its height; nothing else crosses the boundary.
  window.addEventListener('message', function (ev) {
    if (ev.origin !== origin || ev.source !== frame.contentWindow) return
    const h = ev.data && ev.data.mxprobeHeight
    if (typeof h === 'number' && h > 0 && h < 3000) frame.style.height = Math.ceil(h + 2) + 'px'
  })
})()
