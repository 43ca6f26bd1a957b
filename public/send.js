// The send test's waiting page: the copy button, the countdown to the
// address's deadline, and the result as it arrives over Server-Sent Events.
// Every text from a report goes through textContent, never innerHTML.
(function () {
  'use strict'
  const root = document.querySelector('article.send-wait')
  if (!root) return
  const lang = document.body.getAttribute('data-lang') === 'ja' ? 'ja' : 'en'
  let T = {}
  try { T = JSON.parse(root.getAttribute('data-text') || '{}') } catch (e) { T = {} }
  const id = root.getAttribute('data-report-id')
  const until = Date.parse(root.getAttribute('data-until') || '')
  const clock = document.getElementById('send-countdown')
  const live = document.getElementById('send-live')
  const result = document.getElementById('send-result')
  const adviceList = document.getElementById('send-advice')
  const verdict = document.getElementById('send-verdict')
  let finished = root.getAttribute('data-status') !== 'running'

  // Copy button
  const copy = document.getElementById('send-copy')
  const copyStatus = document.getElementById('send-copy-status')
  if (copy) {
    copy.hidden = false
    copy.addEventListener('click', function () {
      const text = copy.getAttribute('data-copy') || ''
      const ok = function () { copyStatus.textContent = T.copied || 'Copied.' }
      const manual = function () {
        const code = document.getElementById('send-address')
        const range = document.createRange()
        range.selectNodeContents(code)
        const sel = window.getSelection()
        sel.removeAllRanges()
        sel.addRange(range)
        let done = false
        try { done = document.execCommand('copy') } catch (e) { done = false }
        copyStatus.textContent = done ? (T.copied || 'Copied.') : (T.copyFailed || 'Copy by hand.')
      }
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(ok, manual)
      else manual()
    })
  }

  // Countdown
  function tick () {
    if (!clock || isNaN(until)) return
    const left = finished ? 0 : Math.max(0, Math.round((until - Date.now()) / 1000))
    clock.textContent = Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0')
    if (left === 0 && !finished) {
      const state = document.getElementById('send-state')
      if (state) state.textContent = T.expired || ''
    }
  }
  tick()
  const timer = setInterval(function () { tick(); if (finished) clearInterval(timer) }, 1000)

  function badge (status) {
    const span = document.createElement('span')
    span.className = 'verdict v-' + status
    span.textContent = (T.verdict && T.verdict[status]) || status
    return span
  }

  function show (report) {
    finished = true
    tick()
    verdict.textContent = ''
    verdict.appendChild(badge(report.status))
    root.setAttribute('data-status', report.status)
    live.textContent = ''
    const p = document.createElement('p')
    p.className = 'summary'
    p.id = 'send-summary'
    p.textContent = report.summary
    live.appendChild(p)
    adviceList.textContent = ''
    ;(report.advice || []).forEach(function (a) {
      const li = document.createElement('li')
      li.setAttribute('data-code', a.code)
      li.textContent = (lang === 'ja' ? a.ja : a.en) || a.message
      adviceList.appendChild(li)
    })
    result.hidden = false
    showRules()
    // On a phone the result is far below the address: bring it into view.
    const box = live.getBoundingClientRect()
    if (box.top > window.innerHeight || box.bottom < 0) live.scrollIntoView({ block: 'start' })
  }

  // The big receivers' checklist is rendered once, by the server: fetch this page again and
  // take its card (DOMParser runs no script), so the live page and the reloaded one agree.
  function showRules () {
    const slot = document.getElementById('send-rules-slot')
    if (!slot || !window.fetch || !window.DOMParser) return
    fetch(window.location.pathname + window.location.search, { headers: { accept: 'text/html' } })
      .then(function (res) { return res.ok ? res.text() : '' })
      .then(function (text) {
        const card = text && new DOMParser().parseFromString(text, 'text/html').getElementById('send-rules')
        if (card) slot.replaceWith(document.importNode(card, true))
      })
      .catch(function () { /* the full report link shows it too */ })
  }

  if (finished || !window.EventSource) return
  const es = new EventSource('/api/v1/checks/' + encodeURIComponent(id) + '/events')
  es.addEventListener('step', function (ev) {
    let s = null
    try { s = JSON.parse(ev.data) } catch (e) { return }
    if (s && s.name === 'send-arrival' && s.status === 'pass') {
      const state = document.getElementById('send-state')
      if (state) state.textContent = T.arrived || ''
    }
  })
  es.addEventListener('done', function (ev) {
    es.close()
    try { show(JSON.parse(ev.data)) } catch (e) { /* the full report link still works */ }
  })
  es.addEventListener('error', function () {
    const state = document.getElementById('send-state')
    if (state && !finished && es.readyState === EventSource.CONNECTING) state.textContent = T.connectionLost || ''
  })
})()
