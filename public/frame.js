// The embed frame (mxprobe's own origin inside another site's page): one
// button, an input when the check needs one; runs the check through the
// API with ?async=1, follows its events and shows the verdict with a link
// to the full result. Tells the host page only its height.
(function () {
  'use strict'
  const body = document.body
  let T = {}
  try { T = JSON.parse(body.getAttribute('data-text') || '{}') } catch (e) { T = {} }
  const lang = body.getAttribute('data-lang') === 'ja' ? 'ja' : 'en'
  const check = body.getAttribute('data-check')
  const form = document.querySelector('form.embed-form')
  const out = document.querySelector('.embed-result')
  const button = form.querySelector('button[type=submit]')
  const label = button.textContent

  function el (tag, cls, text) {
    const e = document.createElement(tag)
    if (cls) e.className = cls
    if (text !== undefined && text !== null) e.textContent = String(text)
    return e
  }
  function resize () {
    if (window.parent === window) return
    window.parent.postMessage({ mxprobeHeight: document.documentElement.scrollHeight }, '*')
  }
  function busy (on) { button.disabled = on; button.textContent = on ? T.running : label; resize() }
  function verdict (status) { return el('span', 'verdict v-' + status, (T.verdict || {})[status] || status) }
  function link (id) {
    const a = el('a', 'report-link', T.fullResult)
    a.href = '/r/' + encodeURIComponent(id) + '?lang=' + lang
    a.target = '_blank'
    a.rel = 'noopener'
    return a
  }

  function body_ () {
    const f = new FormData(form)
    const get = function (k) { const v = f.get(k); return typeof v === 'string' ? v.trim() : '' }
    if (check === 'receive') return { address: get('address') }
    if (check === 'ports') return {}
    return { domain: get('domain') }
  }

  function refusal (status, j) {
    const code = status === 404 ? 'not_available' : (j && j.error) || 'other'
    const p = el('p', null, (T.errorTitle || {})[code] || (T.errorTitle || {}).other)
    out.appendChild(p)
    if (code === 'ip_mismatch' && T.mismatchExplain) {
      let addrs = []
      ;((j.dns && j.dns.mx) || []).forEach(function (h) { addrs = addrs.concat(h.addresses || []) })
      out.appendChild(el('p', null, T.mismatchExplain.replace('{callerIp}', j.callerIp || '').split('{addresses}').join(addrs.join(', ') || '-')))
    } else if (j && j.message) out.appendChild(el('p', 'hint', j.message))
  }

  function showIp () {
    busy(true)
    fetch('/api/v1/ip', { headers: { accept: 'application/json' } }).then(function (r) { return r.json() }).then(function (j) {
      out.textContent = ''
      out.appendChild(el('p', null, (T.embedYourIp || 'IP') + ': ' + j.ip))
      out.appendChild(el('p', null, (T.ptrLabel || 'PTR') + ': ' + (j.ptr || T.noPtr)))
      busy(false)
    }).catch(function () { out.textContent = T.networkError; busy(false) })
  }

  function run () {
    out.textContent = ''
    const progress = el('p', 'hint', T.running)
    out.appendChild(progress)
    busy(true)
    fetch('/api/v1/checks/' + encodeURIComponent(check) + '?async=1&lang=' + lang, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body_())
    }).then(function (res) {
      return res.json().catch(function () { return {} }).then(function (j) {
        if (res.status !== 202) { out.textContent = ''; refusal(res.status, j); busy(false); return }
        let lines = 0
        const es = new EventSource('/api/v1/checks/' + encodeURIComponent(j.id) + '/events')
        es.addEventListener('transcript', function () { lines++; progress.textContent = T.running + ' (' + lines + ')' })
        es.addEventListener('done', function (ev) {
          es.close()
          let r = {}
          try { r = JSON.parse(ev.data) } catch (e) { r = { status: 'error', summary: '' } }
          out.textContent = ''
          const p = el('p')
          p.appendChild(verdict(r.status))
          p.appendChild(document.createTextNode(' ' + (r.summary || '')))
          out.appendChild(p)
          const q = el('p'); q.appendChild(link(j.id)); out.appendChild(q)
          busy(false)
        })
        es.addEventListener('error', function () {
          if (es.readyState !== EventSource.CLOSED) return
          out.textContent = ''
          const q = el('p', null, T.networkError + ' '); q.appendChild(link(j.id)); out.appendChild(q)
          busy(false)
        })
      })
    }).catch(function () { out.textContent = T.networkError; busy(false) })
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault()
    if (check === 'ip') showIp(); else run()
  })
  window.addEventListener('load', resize)
  resize()
})()
