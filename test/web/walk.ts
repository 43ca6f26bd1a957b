// Shared by walk-*.test.ts (one file per language and screen, so each stays
// within the per-file time limit). Every page, looked at: Chromium walks the home page, a diagnosis while it
// runs and when it is done, a report of every type (real checks against a
// real SMTP server on the visitor's loopback "home" address), a refusal, a
// 404, the tools and the embed frame, in Japanese and English, on a desktop
// (1280 px) and a phone (390 px). For each: a screenshot under
// test/screenshots/walk-*.png, no horizontal scrolling, no serious or
// critical axe violations, and on the Japanese pages no run of four or more
// English words outside code, transcripts and what a server sent.
import type { Test } from 'tap'
import type { Page } from 'playwright-core'
import { startSmtp } from '../fixtures/smtp.js'
import { screenshot, axeSerious } from './browser.js'
import { harness } from './harness.js'
import { ReportBuilder, type Report } from '../../src/core/report.js'
import { senderRules, rulesStepDetail, type RuleFacts } from '../../src/inbound/sender-rules.js'

export async function walk (t: Test, lang: 'ja' | 'en', phone: boolean, dark = false): Promise<void> {
  const { home, base, app, homeContext } = await harness(t)
  const smtp = await startSmtp({ ip: home, name: 'mx.home.example', starttls: true, users: ['taro', 'postmaster', 'abuse'] })
  t.teardown(() => smtp.close())

  /** Run a check the way a program does and return the stored report id. */
  async function run (type: string, payload: Record<string, unknown>, lang: 'ja' | 'en'): Promise<Report> {
    const res = await app.inject({ method: 'POST', url: `/api/v1/checks/${type}?lang=${lang}`, payload, remoteAddress: home })
    if (res.statusCode !== 200) throw new Error(`${type}: ${res.statusCode} ${res.body.slice(0, 300)}`)
    return res.json() as Report
  }

  const CHILD_TYPES = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay']

  /** A diagnosis as the diag check stores it: from the real API when it exists, else put together from real child reports. */
  async function diagnosis (lang: 'ja' | 'en', reports: Record<string, Report>): Promise<{ done: string, running: string }> {
    let done: string | null = null
    const res = await app.inject({ method: 'POST', url: `/api/v1/checks/all?lang=${lang}`, payload: { target: 'taro@home.example' }, remoteAddress: home })
    if (res.statusCode === 200) done = (res.json() as Report).id
    const store = app.mx.store
    if (!done) {
      const b = new ReportBuilder('all', home, lang)
      b.target({ domain: 'home.example', host: 'mx.home.example', ip: home })
      b.set('children', CHILD_TYPES.map((type) => ({ type, id: reports[type].id, status: reports[type].status })))
      b.set('fixFirst', CHILD_TYPES.flatMap((type) => reports[type].status === 'pass' ? [] : reports[type].advice.slice(0, 1).map((a) => ({ check: type, code: a.code, message: lang === 'ja' ? a.ja : a.en }))))
      for (const type of CHILD_TYPES) b.step(`child ${type}`, reports[type].status === 'running' ? 'error' : reports[type].status, reports[type].summary)
      b.finish(lang === 'ja' ? '直すべき点があります。まず下の「まずこれを直す」から。' : 'There are things to fix; start with "Fix this first" below.')
      await store.saveReport(b.report, 3600)
      done = b.report.id
    }
    // The running state, frozen: two checks done, one in the middle of its dialogue, the rest waiting.
    const child = new ReportBuilder('smtp', home, lang)
    child.target({ domain: 'home.example', host: 'mx.home.example', ip: home })
    child.line('S', '220 mx.home.example ESMTP')
    child.step('banner', 'pass', lang === 'ja' ? '挨拶を受け取りました' : 'greeting received', 12)
    await store.saveReport(child.report, 3600)
    const b = new ReportBuilder('all', home, lang)
    b.target({ domain: 'home.example', host: null, ip: null })
    // The children as the diagnosis lists them (src/checks/all.ts ChildLink), mid-run.
    b.set('children', [
      { type: 'dns', id: reports.dns.id, status: reports.dns.status, title: 'DNS', summary: reports.dns.summary },
      { type: 'ports', id: reports.ports.id, status: reports.ports.status, title: 'ports', summary: reports.ports.summary },
      { type: 'smtp', id: child.report.id, status: 'running', title: 'SMTP', stage: child.report.steps[0].title, deadline: Date.now() + 25_000 },
      ...['receive', 'roles', 'relay'].map((type) => ({ type, id: null, status: 'queued', title: type }))
    ])
    await store.saveReport(b.report, 3600)
    return { done, running: b.report.id }
  }

  /** A send-test report as the listener stores it: a mail from a home line on a dynamic-IP list, without DKIM. */
  async function sendReport (lang: 'ja' | 'en'): Promise<string> {
    const f: RuleFacts = {
      connectingIp: home,
      ptr: 'p1234-ipoe.ipoe.ocn.ne.jp',
      fcrdns: true,
      helo: 'mx.home.example',
      heloFqdn: true,
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
      spf: { result: 'pass', domain: 'home.example' },
      dkim: [],
      dmarc: { result: 'none', policy: null, domain: 'home.example' },
      arc: null,
      format: { messageId: true, date: true, from: true, fromDomain: 'home.example', listUnsubscribe: false, oneClick: false },
      dnsbl: [{ zone: 'pbl.dnsbl.example', listed: true, answer: '127.0.0.11', reason: 'dynamic IP range', dynamic: true }],
      stopped: false
    }
    const rules = senderRules(f, lang)
    const b = new ReportBuilder('send', home, lang)
    b.target({ domain: 'home.example', host: null, ip: null })
    b.set('address', 't-7kq2m9xw4p@send.mxprobe.example')
    b.set('waitUntil', new Date(Date.now() - 60_000).toISOString())
    b.set('inbound', {
      address: 't-7kq2m9xw4p@send.mxprobe.example',
      connectingIp: home,
      family: 4,
      isCallerIp: true,
      isMxAddress: true,
      ptr: f.ptr,
      ptrNames: [f.ptr!],
      fcrdns: true,
      ptrGeneric: true,
      helo: f.helo,
      heloResolves: true,
      tls: f.tls,
      mailFrom: 'taro@home.example',
      spf: f.spf,
      spfHelo: null,
      dkim: [],
      dmarc: f.dmarc,
      dnsbl: f.dnsbl.map((x) => ({ ...x })),
      headers: null,
      subject: lang === 'ja' ? '開通テスト' : 'send test',
      size: 812,
      charset: { declared: true, charsets: ['utf-8'], undeclaredParts: 0 },
      excerpt: 'hello',
      receivedAt: new Date().toISOString(),
      lookupMs: 40,
      analysisMs: 60,
      arc: null,
      format: f.format,
      senderRules: rules
    })
    b.step('send-arrival', 'pass', lang === 'ja' ? `${home} から IPv4 で 812 バイトのメールが届きました` : `a mail of 812 bytes arrived from ${home} over IPv4`)
    b.step('send-dkim', 'warn', lang === 'ja' ? '署名がありません' : 'no signature')
    b.step('send-rules', 'warn', rulesStepDetail(rules, lang))
    b.advise('send.dnsbl_dynamic', { ip: home, zone: 'pbl.dnsbl.example', answer: '127.0.0.11', reason: 'dynamic IP range' })
    b.advise('send.dkim_none', { domain: 'home.example' })
    b.finish(lang === 'ja' ? `${home} からのメールを受け取りましたが、受信側に迷惑メール扱いされる可能性がある点があります` : `mail from ${home} arrived, but receivers may junk or refuse it`)
    await app.mx.store.saveReport(b.report, 3600)
    return b.report.id
  }

  /**
 * Text of the page that mxprobe itself wrote: without code, transcripts,
 * server text and the language switch. checkText: only what the checks
 * wrote (.from-check: summaries, steps, advice), else only the page's own.
 */
  async function ownText (page: Page, checkText: boolean): Promise<string[]> {
    return await page.evaluate((checkText) => {
      const clone = document.body.cloneNode(true) as HTMLElement
      clone.querySelectorAll('code, pre, kbd, samp, .mono, .verbatim, ol.transcript, textarea, nav.lang, script').forEach((e) => e.remove())
      if (checkText) {
        const keep = Array.from(clone.querySelectorAll('.from-check')).map((e) => (e as HTMLElement).cloneNode(true) as HTMLElement)
        clone.textContent = ''
        for (const k of keep) { const d = document.createElement('div'); d.appendChild(k); clone.appendChild(d) }
      } else {
        clone.querySelectorAll('.from-check').forEach((e) => e.remove())
      }
      // innerText needs layout: measure the clone off screen.
      clone.style.position = 'absolute'
      clone.style.left = '-99999px'
      document.body.appendChild(clone)
      const text = clone.innerText
      clone.remove()
      return text.split('\n').map((l) => l.trim()).filter(Boolean)
    }, checkText)
  }

  const ENGLISH_RUN = /(?:^|[^A-Za-z])([A-Za-z][A-Za-z'’-]*(?:[ ]+[A-Za-z][A-Za-z'’-]*){3,})/
  /**
   * What a server sent stays as it was sent, also inside a check's sentence: an
   * SMTP reply (code, optional enhanced code, text) or a POP3 status line, up to
   * the end of the quote. Those are not mxprobe's words and are not judged.
   */
  const SERVER_REPLY = /\b[2-5]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3} )?[^()（）「」]*|[+-](?:OK|ERR)\b[^()（）「」]*/g
  const mxprobeWords = (line: string): string => line.replace(SERVER_REPLY, ' ')

  async function look (page: Page, name: string, tt: Test): Promise<void> {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    tt.ok(overflow <= 0, `${name}: no horizontal scrolling (overflow ${overflow}px)`)
    await screenshot(page, `walk-${name}-${lang}-${phone ? 'phone' : 'desktop'}${dark ? '-dark' : ''}`)
    if (phone) {
    // The header keeps every item on one line: no word is broken.
      const broken = await page.evaluate(() => Array.from(document.querySelectorAll('header.site a')).filter((a) => a.getClientRects().length > 1).map((a) => a.textContent))
      tt.same(broken, [], `${name}: no header item wraps`)
      return
    }
    tt.same(await axeSerious(page), [], `${name} (${lang}): no serious or critical axe violations`)
    if (lang === 'ja') {
      const runs = (await ownText(page, false)).map((l) => l.match(ENGLISH_RUN)?.[1]).filter(Boolean)
      tt.same(runs, [], `${name}: no English sentence in the Japanese page itself`)
      const checkRuns = (await ownText(page, true)).map((l) => mxprobeWords(l).match(ENGLISH_RUN)?.[1]).filter(Boolean)
      // What the checks write (summaries, step titles and details, advice) follows the report's language too.
      tt.same(checkRuns, [], `${name}: no English sentence in what the checks wrote`)
      if (checkRuns.length) tt.comment(`${name}: English in check texts: ${JSON.stringify(checkRuns)}`)
    }
  }

  const reports: Record<string, Report> = {
    dns: await run('dns', { domain: 'home.example' }, lang),
    ports: await run('ports', { ports: [25, 110, 995] }, lang),
    smtp: await run('smtp', { domain: 'home.example' }, lang),
    receive: await run('receive', { address: 'taro@home.example' }, lang),
    roles: await run('roles', { domain: 'home.example' }, lang),
    relay: await run('relay', { domain: 'home.example' }, lang),
    pop3: await run('pop3', { domain: 'home.example' }, lang)
  }
  const diag = await diagnosis(lang, reports)

  const ctx = await homeContext({ width: phone ? 390 : 1280, locale: lang === 'ja' ? 'ja-JP' : 'en-US', timezoneId: lang === 'ja' ? 'Asia/Tokyo' : 'Europe/London', dark })
  const page = await ctx.newPage()
  const visit = async (name: string, url: string): Promise<void> => {
    const res = await page.goto(`${base}${url}`)
    t.ok(res && res.status() < 500, `${name}: ${res?.status()}`)
    await look(page, name, t)
  }
  await visit('home', `/?lang=${lang}`)
  await visit('home-receive-open', `/?lang=${lang}&open=1#check-receive`)
  await visit('diagnosis-running', `/r/${diag.running}?lang=${lang}`)
  await visit('diagnosis-done', `/r/${diag.done}?lang=${lang}`)
  for (const [type, r] of Object.entries(reports)) await visit(`report-${type}`, `/r/${r.id}?lang=${lang}`)
  // The send test, finished as a home line usually finishes it: the page with the big receivers' checklist, and its report.
  const sent = await sendReport(lang)
  await visit('send-done', `/send/${sent}?lang=${lang}`)
  await visit('report-send', `/r/${sent}?lang=${lang}`)
  // The relay report is long: its table and its steps, each on their own, to look at.
  await page.goto(`${base}/r/${reports.relay.id}?lang=${lang}`)
  await screenshot(page, `walk-report-relay-table-${lang}-${phone ? 'phone' : 'desktop'}`, 'section[aria-labelledby="details-title"]')
  await screenshot(page, `walk-report-relay-top-${lang}-${phone ? 'phone' : 'desktop'}`, 'article.report > h1 ~ section:nth-of-type(2)')

  // A refusal, from the form: a mail test for a domain whose MX is not this visitor.
  await page.goto(`${base}/?lang=${lang}&refuse=1#check-receive`)
  await page.fill('#receive-address', 'taro@elsewhere.example')
  await page.click('form[data-check="receive"] button[type=submit]')
  await page.waitForSelector('#live-receive .refusal')
  await look(page, 'refusal-inline', t)
  // The diagnosis form is a plain form post (with or without JavaScript): the refusal is a page of its own.
  await page.goto(`${base}/?lang=${lang}`)
  await page.fill('#target', 'taro@elsewhere.example')
  await Promise.all([page.waitForURL(/\/r\/[A-Za-z0-9_-]{16}(\?.*)?$/), page.click('form.diagnose button[type=submit]')])
  await look(page, 'refusal-page', t)

  await visit('not-found', `/no/such/page?lang=${lang}`)
  await visit('tools-headers', `/tools/headers?lang=${lang}`)
  await page.fill('#raw', 'Received: from mail.example.net (mail.example.net [203.0.113.25]) by mx.home.example with ESMTPS id 1; Tue, 1 Dec 2026 10:00:00 +0900\nFrom: "Bank" <info@bank.example>\nSubject: =?UTF-8?B?44GU5Yip55So56K66KqN44Gu44GK6aGY44GE?=\n\nbody')
  await page.click('form.tool-form button[type=submit]')
  await page.waitForSelector('#hops-title')
  await look(page, 'tools-headers-result', t)
  await visit('tools-mojibake', `/tools/mojibake?lang=${lang}`)
  await page.fill('#text', 'ã\u0081\u008aç\u009f¥ã\u0082\u0089ã\u0081\u009b')
  await page.click('form.tool-form button[type=submit]')
  await page.waitForSelector('#best-title')
  await look(page, 'tools-mojibake-result', t)
  await visit('embed-frame', `/embed/frame?check=receive&lang=${lang}`)
  await ctx.close()
}
