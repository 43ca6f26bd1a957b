// mxprobe page script: runs a check from the form through the JSON API
// (?async=1), follows its Server-Sent Events and grows the transcript line
// by line; follows a running report on /r/:id; copy button. Every text from
// a server or report goes through textContent, never innerHTML.
(function () {
  'use strict'
  const body = document.body
  let T = {}
  try { T = JSON.parse(body.getAttribute('data-text') || '{}') } catch (e) { T = {} }
  const lang = body.getAttribute('data-lang') === 'ja' ? 'ja' : 'en'
  const MARK = { C: '\u2192', S: '\u2190', I: '\u00b7' }

  function el (tag, cls, text) {
    const e = document.createElement(tag)
    if (cls) e.className = cls
    if (text !== undefined && text !== null) e.textContent = String(text)
    return e
  }

  function explanation (l) {
    const e = l.explain
    if (!e) return null
    if (typeof e === 'string') return e
    if (typeof e === 'object') return e[lang] || e.en || e.message || null
    return null
  }

  function redact (text) {
    return String(text)
      .replace(/^(\s*PASS\s+).+$/i, '$1********')
      .replace(/^(\s*AUTH\s+(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER|CRAM-MD5)\s+).+$/i, '$1********')
      .replace(/^(\s*APOP\s+\S+\s+).+$/i, '$1********')
  }

  /** Explanations of non-2xx replies that a check put in advice, by the reply's first line. */
  function replyExplanations (advice) {
    const m = {}
    ;(advice || []).forEach(function (a) {
      const p = a.params || {}
      const text = p[lang] || p.en
      if (typeof p.reply === 'string' && typeof text === 'string' && !Object.prototype.hasOwnProperty.call(m, p.reply)) m[p.reply] = text
    })
    return m
  }

  function lineItem (l, explained) {
    const dir = l.dir === 'C' || l.dir === 'S' ? l.dir : 'I'
    if (explained && dir === 'S' && Object.prototype.hasOwnProperty.call(explained, l.text)) {
      l = { at: l.at, dir: l.dir, text: l.text, explain: explained[l.text] }
      delete explained[l.text]
    }
    const li = el('li', 'line dir-' + dir)
    li.appendChild(el('span', 'at', Math.round(l.at) + ' ms'))
    li.appendChild(document.createTextNode(' '))
    const mark = el('span', 'mark', MARK[dir])
    mark.setAttribute('aria-hidden', 'true')
    li.appendChild(mark)
    li.appendChild(el('span', 'sr', ((T.dirText || {})[dir] || dir) + ': '))
    li.appendChild(el('span', 'text', redact(l.text)))
    const ex = explanation(l)
    if (ex) {
      const x = el('span', 'explain')
      x.appendChild(el('span', 'sr', (T.explainReply || '') + ': '))
      x.appendChild(document.createTextNode(ex))
      li.appendChild(x)
    }
    return li
  }

  function stepItem (s) {
    const li = el('li', 'step s-' + s.status)
    li.appendChild(el('span', 'step-status', (T.verdict || {})[s.status] || s.status))
    li.appendChild(document.createTextNode(' '))
    const name = el('span', 'step-name from-check', s.title || s.name)
    name.setAttribute('data-name', s.name)
    li.appendChild(name)
    li.appendChild(document.createTextNode(' '))
    li.appendChild(el('span', 'step-detail from-check', redact(s.detail)))
    if (typeof s.ms === 'number') li.appendChild(el('span', 'at', ' ' + s.ms + ' ms'))
    return li
  }

  function adviceItem (a) {
    const li = el('li', 'from-check', (lang === 'ja' ? a.ja : a.en) || a.message)
    li.setAttribute('data-code', a.code)
    return li
  }

  function fmt (template, value) { return String(template || '').replace('%s', value) }

  /** Screen readers hear step changes, not every transcript line: one polite status element per page. */
  function announcer (node) {
    let last = ''
    return function (text) {
      if (!node || !text || text === last) return
      last = text
      node.textContent = text
    }
  }

  function stepAnnouncement (check, s) {
    const name = (T.checkShort || {})[check] || check || ''
    const stage = (s.title || s.name) + ' — ' + ((T.verdict || {})[s.status] || s.status)
    return name ? String(T.stepAnnounce || '%c: %s').replace('%c', name).replace('%s', stage) : stage
  }

  /**
   * A transcript list that folds the test mail: the "C" lines after a 354
   * reply up to the closing "." go into one <details>, so the replies around
   * them stay in sight while the dialogue grows.
   */
  function transcriptSink (ol) {
    let body = null
    let count = 0
    let summary = null
    return {
      add: function (l, explained) {
        if (body && l.dir === 'C') {
          body.appendChild(lineItem(l))
          count++
          summary.textContent = fmt(T.bodyFold, count)
          if (l.text === '.') body = null
          return
        }
        body = null
        ol.appendChild(lineItem(l, explained))
        if (l.dir === 'S' && /^354/.test(l.text)) {
          const li = el('li', 'line fold')
          const d = el('details')
          summary = el('summary', null, fmt(T.bodyFold, 0))
          d.appendChild(summary)
          body = el('ol', 'transcript-body')
          d.appendChild(body)
          li.appendChild(d)
          ol.appendChild(li)
          count = 0
        }
      },
      reset: function () { ol.textContent = ''; body = null }
    }
  }

  /** Times in the reader's own time zone, with the zone written out. */
  function localTimes (root) {
    if (typeof Intl === 'undefined' || !Intl.DateTimeFormat) return
    let f
    try {
      f = new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' })
    } catch (e) { return }
    Array.prototype.forEach.call((root || document).querySelectorAll('time[data-local]'), function (t) {
      const d = new Date(t.getAttribute('datetime'))
      if (!isNaN(d.getTime())) t.textContent = f.format(d)
    })
  }
  localTimes()

  function verdictBadge (status) {
    return el('span', 'verdict v-' + status, (T.verdict || {})[status] || status)
  }

  /** Follow a report's event stream; callbacks per event type. */
  function follow (id, on) {
    let done = false
    const es = new EventSource('/api/v1/checks/' + encodeURIComponent(id) + '/events')
    function handle (type) {
      es.addEventListener(type, function (ev) {
        let data
        try { data = JSON.parse(ev.data) } catch (e) { return }
        if (type === 'done') { done = true; es.close() }
        if (on[type]) on[type](data)
      })
    }
    ;['transcript', 'step', 'advice', 'target', 'child', 'done'].forEach(handle)
    es.addEventListener('error', function () {
      if (done) return
      // The stream broke for good: fall back to asking for the report once it is stored.
      if (es.readyState === EventSource.CLOSED) {
        fetch('/api/v1/checks/' + encodeURIComponent(id), { headers: { accept: 'application/json' } })
          .then(function (r) { return r.json() })
          .then(function (r) { if (r && r.status && r.status !== 'running') { done = true; on.done(r) } else if (on.lost) on.lost() })
          .catch(function () { if (on.lost) on.lost() })
      }
    })
    return es
  }

  // Both families: ask the IPv4-only and the IPv6-only origin who we are. Each
  // answer's proof goes into the forms' hidden `proofs` fields (one per family),
  // so a check may reach the MX over both; an origin that does not answer in a
  // few seconds is "no IPv6" / "no IPv4". Proofs last a few minutes: asked again
  // while the page stays open.
  const familyCells = document.querySelectorAll('dd.family-ip[data-origin]')
  function setProof (family, proof) {
    Array.prototype.forEach.call(document.querySelectorAll('input[name="proofs"][data-family="' + family + '"]'), function (input) { input.value = proof || '' })
  }
  function askFamily (cell) {
    const family = cell.getAttribute('data-family')
    const origin = cell.getAttribute('data-origin')
    if (!origin) return
    const none = function () {
      setProof(family, '')
      cell.setAttribute('data-state', 'none')
      cell.textContent = (T.noFamily || {})[family] || ''
    }
    const ctl = typeof AbortController === 'function' ? new AbortController() : null
    const timer = setTimeout(function () { if (ctl) ctl.abort(); none() }, 4000)
    fetch(origin + '/api/v1/ip', { headers: { accept: 'application/json' }, credentials: 'omit', cache: 'no-store', signal: ctl ? ctl.signal : undefined })
      .then(function (r) { return r.ok ? r.json() : null })
      .then(function (j) {
        clearTimeout(timer)
        // The IPv6 origin must have been reached over IPv6 (a name with only an AAAA record), else it proves nothing about IPv6.
        if (!j || String(j.family) !== family || typeof j.ip !== 'string' || typeof j.proof !== 'string') return none()
        setProof(family, j.proof)
        cell.setAttribute('data-state', 'proven')
        cell.textContent = j.ip
      })
      .catch(function () { clearTimeout(timer); none() })
  }
  function askFamilies () { Array.prototype.forEach.call(familyCells, askFamily) }
  if (familyCells.length) {
    askFamilies()
    setInterval(askFamilies, 150000)
  }

  function formBody (check, form) {
    const body = checkBody(check, form)
    const proofs = Array.prototype.map.call(form.querySelectorAll('input[name="proofs"]'), function (i) { return i.value }).filter(Boolean)
    if (proofs.length) body.proofs = proofs
    return body
  }

  function checkBody (check, form) {
    const f = new FormData(form)
    const get = function (k) { const v = f.get(k); return typeof v === 'string' ? v.trim() : '' }
    if (check === 'receive') return { address: get('address') }
    if (check === 'ports') {
      const ports = f.getAll('ports').map(Number).filter(function (p) { return p > 0 && p < 65536 })
      return ports.length ? { ports } : {}
    }
    if (check === 'pop3') {
      const b = { domain: get('domain') }
      const pw = f.get('password')
      if (get('username') || pw) { b.username = get('username'); b.password = typeof pw === 'string' ? pw : '' }
      return b
    }
    return { domain: get('domain') }
  }

  function dnsFacts (dns) {
    const box = el('div', 'dns-facts')
    if (!dns || typeof dns !== 'object') return box
    box.appendChild(el('h5', null, (T.dnsFactsTitle || 'DNS') + (dns.domain ? ': ' + dns.domain : '')))
    if (dns.error) box.appendChild(el('p', 'mono', dns.error))
    const mx = Array.isArray(dns.mx) ? dns.mx : []
    if (!mx.length) { if (!dns.error) box.appendChild(el('p', null, T.dnsFactsNone)); return box }
    const wrap = el('div', 'table-wrap')
    const table = el('table')
    const head = el('tr')
    ;[T.dnsFactsHost, T.dnsFactsPriority, T.dnsFactsAddresses, T.dnsFactsTtl].forEach(function (h) {
      const th = el('th', null, h); th.setAttribute('scope', 'col'); head.appendChild(th)
    })
    const thead = el('thead'); thead.appendChild(head); table.appendChild(thead)
    const tbody = el('tbody')
    mx.forEach(function (h) {
      const tr = el('tr')
      tr.appendChild(el('td', 'mono', h.host))
      tr.appendChild(el('td', null, h.priority))
      tr.appendChild(el('td', 'mono', (h.addresses || []).join(', ') || h.error || '-'))
      tr.appendChild(el('td', null, h.ttl == null ? '-' : h.ttl))
      tbody.appendChild(tr)
    })
    table.appendChild(tbody); wrap.appendChild(table); box.appendChild(wrap)
    return box
  }

  function showRefusal (live, status, j, retryAfter) {
    const box = el('div', 'result refusal')
    box.setAttribute('role', 'alert')
    const code = status === 404 ? 'not_available' : (j && j.error) || 'other'
    // A stored refusal names the mistake itself (「MX に LAN 内のアドレスが登録されています」) and has a page to share.
    box.appendChild(el('h4', null, (j && typeof j.cause === 'string' && j.cause) || (T.errorTitle || {})[code] || (T.errorTitle || {}).other || code))
    if (code === 'ip_mismatch' && T.mismatchExplain) {
      let addrs = []
      ;((j.dns && j.dns.mx) || []).forEach(function (h) { addrs = addrs.concat(h.addresses || []) })
      box.appendChild(el('p', null, T.mismatchExplain.replace('{callerIp}', j.callerIp || '').split('{addresses}').join(addrs.join(', ') || '-')))
    }
    if (j && Array.isArray(j.diagnosis) && j.diagnosis.length) {
      const ul = el('ul', 'refusal-findings')
      j.diagnosis.forEach(function (d) { if (d && d.message) ul.appendChild(el('li', 'from-check', d.message)) })
      box.appendChild(ul)
    } else if (j && j.message) box.appendChild(el('p', 'message from-check', j.message))
    if (j && j.retry && j.retry.message) box.appendChild(el('p', 'from-check', j.retry.message))
    if (retryAfter && T.retryAfterPrefix) box.appendChild(el('p', null, T.retryAfterPrefix.replace('%s', retryAfter)))
    if (j && j.dns) box.appendChild(dnsFacts(j.dns))
    if (j && typeof j.id === 'string' && /^[A-Za-z0-9_-]{16}$/.test(j.id)) {
      const link = el('a', 'report-link', T.fullResult)
      link.href = '/r/' + encodeURIComponent(j.id) + '?lang=' + lang
      const p = el('p'); p.appendChild(link); box.appendChild(p)
    }
    live.appendChild(box)
  }

  function showResult (live, r) {
    const box = el('div', 'result')
    const h = el('h4')
    h.appendChild(verdictBadge(r.status))
    box.appendChild(h)
    box.appendChild(el('p', 'summary from-check', r.summary))
    const link = el('a', 'report-link', T.fullResult)
    link.href = '/r/' + encodeURIComponent(r.id) + '?lang=' + lang
    const p = el('p'); p.appendChild(link); box.appendChild(p)
    live.querySelector('.result-slot').appendChild(box)
  }

  function runCheck (form) {
    const check = form.getAttribute('data-check')
    const live = document.getElementById('live-' + check)
    const button = form.querySelector('button[type=submit]')
    const label = button.textContent
    live.textContent = ''
    live.hidden = false
    const status = el('p', 'live-status', T.running)
    status.setAttribute('role', 'status')
    live.appendChild(status)
    button.disabled = true
    button.textContent = T.running
    const finish = function () { button.disabled = false; button.textContent = label }

    fetch('/api/v1/checks/' + encodeURIComponent(check) + '?async=1&lang=' + lang, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(formBody(check, form))
    }).then(function (res) {
      return res.json().catch(function () { return {} }).then(function (j) {
        if (res.status !== 202) {
          status.textContent = ''
          showRefusal(live, res.status, j, res.headers.get('retry-after'))
          finish()
          return
        }
        // The verdict goes on top when it arrives; the transcript appears with its first line.
        const slot = el('div', 'result-slot')
        slot.setAttribute('role', 'status')
        live.appendChild(slot)
        const transcriptHead = el('h4', null, T.transcriptTitle); transcriptHead.hidden = true
        const ol = el('ol', 'transcript'); ol.hidden = true
        const sink = transcriptSink(ol)
        const announce = announcer(status)
        live.appendChild(transcriptHead); live.appendChild(ol)
        const stepsHead = el('h4', null, T.stepsTitle); stepsHead.hidden = true
        const steps = el('ul', 'steps')
        live.appendChild(stepsHead); live.appendChild(steps)
        const adviceHead = el('h4', null, T.adviceTitle); adviceHead.hidden = true
        const advice = el('ul', 'advice')
        live.appendChild(adviceHead); live.appendChild(advice)
        const addLine = function (l, explained) { transcriptHead.hidden = false; ol.hidden = false; sink.add(l, explained); ol.scrollTop = ol.scrollHeight }
        const addStep = function (s) { stepsHead.hidden = false; steps.appendChild(stepItem(s)) }
        const addAdvice = function (a) { adviceHead.hidden = false; advice.appendChild(adviceItem(a)) }
        // Every check has a server-side deadline well under this; if no verdict came, the stream is stuck.
        const watchdog = setTimeout(function () {
          status.textContent = T.networkError
          const link = el('a', 'report-link', T.fullResult)
          link.href = '/r/' + encodeURIComponent(j.id) + '?lang=' + lang
          status.appendChild(document.createTextNode(' '))
          status.appendChild(link)
          finish()
        }, 150000)
        follow(j.id, {
          transcript: function (l) { addLine(l) },
          step: function (s) { addStep(s); announce(stepAnnouncement(check, s)) },
          advice: addAdvice,
          done: function (r) {
            // The final report is the truth: redraw what the stream may have missed.
            const explained = replyExplanations(r.advice)
            sink.reset(); (r.transcript || []).forEach(function (l) { addLine(l, explained) })
            steps.textContent = ''; (r.steps || []).forEach(addStep)
            advice.textContent = ''; (r.advice || []).forEach(addAdvice)
            clearTimeout(watchdog)
            status.textContent = ''
            showResult(live, r)
            finish()
          },
          lost: function () { status.textContent = T.networkError; finish() }
        })
      })
    }).catch(function () {
      status.textContent = T.networkError
      finish()
    })
  }

  Array.prototype.forEach.call(document.querySelectorAll('form.check-form'), function (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault()
      runCheck(form)
    })
  })

  // A report page that is still running follows the stream, then reloads the finished page.
  const article = document.querySelector('article.report[data-running]:not(.diagnosis)')
  if (article) {
    const id = article.getAttribute('data-report-id')
    const ol = document.getElementById('transcript')
    const steps = document.getElementById('steps-list')
    const advice = document.getElementById('advice-list')
    const adviceSection = document.getElementById('advice-section')
    const announce = announcer(document.getElementById('announce'))
    // Lines already on the page (a folded mail body counts line by line) are skipped when the stream replays them.
    let skip = ol.querySelectorAll('li.line:not(.fold)').length
    const sink = transcriptSink(ol)
    follow(id, {
      transcript: function (l) { if (skip > 0) { skip--; return } sink.add(l) },
      step: function (s) {
        if (!Array.prototype.some.call(steps.children, function (c) { return c.querySelector('.step-name').getAttribute('data-name') === s.name && c.querySelector('.step-detail').textContent === redact(s.detail) })) {
          steps.appendChild(stepItem(s))
          announce(stepAnnouncement('', s))
        }
      },
      advice: function (a) { if (!advice.querySelector('[data-code="' + String(a.code).replace(/["\\]/g, '') + '"]')) { adviceSection.hidden = false; advice.appendChild(adviceItem(a)) } },
      done: function () { window.location.reload() },
      lost: function () { window.location.reload() }
    })
    // A stream that went quiet without a verdict: look again from the server's side.
    setTimeout(function () { window.location.reload() }, 60000)
  }

  // A single check linked as #check-x opens its folded form.
  function openHash () {
    const d = window.location.hash && document.getElementById(window.location.hash.slice(1))
    if (d && d.tagName === 'DETAILS') d.open = true
  }
  openHash()
  window.addEventListener('hashchange', openHash)

  // A running diagnosis: each check's stage and time left, from the diagnosis'
  // own event stream (`child` events: type, id, status, stage, deadline, summary),
  // then the final page.
  const diag = document.querySelector('article.diagnosis[data-running]')
  if (diag) {
    const id = diag.getAttribute('data-report-id')
    const list = document.getElementById('children-list')
    const announce = announcer(document.getElementById('announce'))
    const deadlines = {}
    const name = function (c) { return (T.checkShort || {})[c.type] || c.title || c.type }
    const rowFor = function (c) {
      let li = list.querySelector('li[data-type="' + String(c.type).replace(/[^a-z0-9]/gi, '') + '"]')
      if (!li) {
        li = el('li', 'child')
        li.setAttribute('data-type', c.type)
        li.appendChild(el('span', 'child-name', name(c)))
        li.appendChild(el('span', 'verdict'))
        li.appendChild(el('span', 'stage from-check'))
        li.appendChild(el('span', 'countdown'))
        list.appendChild(li)
      }
      return li
    }
    const setRow = function (c) {
      if (!c || typeof c.type !== 'string') return
      const li = rowFor(c)
      const status = c.status === 'queued' || !c.status ? 'waiting' : c.status
      const before = li.getAttribute('data-status')
      li.className = 'child c-' + status
      li.setAttribute('data-status', status)
      const badge = li.querySelector('.verdict')
      badge.className = 'verdict v-' + status
      badge.textContent = status === 'waiting' ? T.stageWaiting : ((T.verdict || {})[status] || status)
      const stage = li.querySelector('.stage')
      let text = ''
      if (status === 'running') {
        text = c.stage || T.stageStarting
        if (typeof c.deadline === 'number') deadlines[c.type] = c.deadline
      } else {
        delete deadlines[c.type]
        li.querySelector('.countdown').textContent = ''
        text = status === 'waiting' ? '' : (c.summary || '')
      }
      if (text !== stage.textContent || status !== before) {
        const said = status === 'running' ? text : badge.textContent
        if (status !== 'waiting') announce(String(T.stepAnnounce || '%c: %s').replace('%c', name(c)).replace('%s', said))
      }
      stage.textContent = text
      if (c.id && !li.querySelector('a.child-link')) {
        const a = el('a', 'child-link', T.openReport || '')
        a.href = '/r/' + encodeURIComponent(c.id) + '?lang=' + lang
        li.appendChild(a)
      }
    }
    // Deadlines are the server's epoch ms: the page's own clock may be off, so the server's
    // idea of "now" is taken from the time left it rendered.
    let skew = 0
    Array.prototype.forEach.call(list.querySelectorAll('.countdown[data-left-ms]'), function (c) {
      const li = c.parentNode
      const dl = Number(li.getAttribute('data-deadline'))
      if (dl) skew = dl - Number(c.getAttribute('data-left-ms')) - Date.now()
      deadlines[li.getAttribute('data-type')] = dl || Date.now() + Number(c.getAttribute('data-left-ms'))
    })
    const tick = function () {
      const now = Date.now() + skew
      Object.keys(deadlines).forEach(function (type) {
        const cd = list.querySelector('li[data-type="' + type + '"] .countdown')
        if (!cd) return
        const left = Math.ceil((deadlines[type] - now) / 1000)
        cd.textContent = left > 0 ? fmt(T.remaining, left) : T.overdue
      })
    }
    setInterval(tick, 1000)
    tick()
    follow(id, {
      child: function (c) { setRow(c); tick() },
      done: function () { window.location.reload() },
      lost: function () { setTimeout(function () { window.location.reload() }, 2000) }
    })
  }

  // Share: copy the result's address (the page's own, without the language).
  Array.prototype.forEach.call(document.querySelectorAll('button.share-button'), function (btn) {
    const out = btn.parentNode.querySelector('.share-status')
    btn.hidden = false
    btn.addEventListener('click', function () {
      const url = btn.getAttribute('data-url')
      const done = function () { out.textContent = T.shareCopied }
      const manual = function () {
        const input = document.getElementById('share-url')
        input.focus(); input.select()
        let ok = false
        try { ok = document.execCommand('copy') } catch (e) { ok = false }
        out.textContent = ok ? T.shareCopied : T.copyFailed
      }
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(url).then(done, manual)
      else manual()
    })
  })

  // Copy block: the button appears only with JavaScript; the text is selectable without it.
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (btn) {
    const target = document.getElementById(btn.getAttribute('data-copy-target'))
    const out = btn.parentNode.querySelector('.copy-status')
    btn.hidden = false
    btn.addEventListener('click', function () {
      const text = target.textContent
      const ok = function () { out.textContent = T.copied }
      const manual = function () {
        const range = document.createRange()
        range.selectNodeContents(target)
        const sel = window.getSelection()
        sel.removeAllRanges(); sel.addRange(range)
        let copied = false
        try { copied = document.execCommand('copy') } catch (e) { copied = false }
        out.textContent = copied ? T.copied : T.copyFailed
      }
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(ok, manual)
      else manual()
    })
  })
})()
