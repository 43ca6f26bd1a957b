// The tools through HTTP: JSON API and pages, real Redis for stored links and
// rate limits, a real DNS server on loopback for the origin's PTR.
import t from 'tap'
import { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import iconv from 'iconv-lite'
import { testApp, randomLoopback, REDIS_URL, uniquePrefix } from '../helpers.js'
import { startDns, reverseName } from '../fixtures/dns.js'
import { POSTFIX, GMAIL, JA_SUBJECT, encodedWord } from './samples.js'

const caller = randomLoopback()

/** Redis connects in the background; a request before that is refused (503, fail closed). */
async function ready (app: FastifyInstance): Promise<void> {
  for (let i = 0; i < 100 && !app.mx.store.isReady(); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  await app.mx.store.ping()
}

// A public-looking origin (never contacted: only its PTR is asked, of the DNS server on loopback).
const ORIGIN_IP = '133.18.0.25'
const PTR_SAMPLE = [
  'Received: from mail.sender.example (mail.sender.example [133.18.0.25]) by mx.rcpt.example (Postfix) with ESMTPS id A1; Mon, 15 Jan 2024 10:00:04 +0000',
  'From: a@sender.example',
  'Subject: ptr'
].join('\n')

t.test('API: headers and mojibake answer without storing anything; ?save=1 stores a report-shaped record', async (t) => {
  const prefix = uniquePrefix()
  const dns = await startDns({ [reverseName(ORIGIN_IP)]: { PTR: ['mail.sender.example'] } })
  t.teardown(() => dns.close())
  const app = await testApp({ REDIS_URL, REDIS_PREFIX: prefix, DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  await ready(app)
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.quit())
  const keys = async (): Promise<string[]> => (await redis.keys(`${prefix}*`)).filter((k) => !k.startsWith(`${prefix}rl:`))

  const res = await app.inject({ method: 'POST', url: '/api/v1/tools/headers', payload: { raw: POSTFIX }, remoteAddress: caller })
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  const a = res.json()
  t.equal(a.subject, JA_SUBJECT)
  t.equal(a.hops.length, 4)
  t.equal(a.origin.ip, '203.0.113.25')
  t.equal(a.origin.ptr, null, 'no PTR question for a documentation address')
  t.equal(a.saved, null)
  t.ok(a.advice.length && a.advice.every((x: { message: string }) => typeof x.message === 'string'))
  t.same(await keys(), [], 'nothing but rate-limit counters in Redis')

  const ptr = (await app.inject({ method: 'POST', url: '/api/v1/tools/headers', payload: { raw: PTR_SAMPLE }, remoteAddress: caller })).json()
  t.equal(ptr.origin.ip, ORIGIN_IP)
  t.same(ptr.origin.ptr, ['mail.sender.example'], 'reverse DNS through the app\'s resolver')
  t.same(dns.queries.filter((q) => q.type === 'PTR').map((q) => q.name), [reverseName(ORIGIN_IP)], 'exactly one PTR question')

  const garbled = Buffer.from('日本語のメールです。', 'utf8').toString('latin1')
  const m = await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text: garbled }, remoteAddress: caller })
  t.equal(m.statusCode, 200, m.body.slice(0, 300))
  const mj = m.json()
  t.equal(mj.candidates[0].text, '日本語のメールです。')
  t.same(mj.candidates[0].path, ['latin1→bytes', 'bytes as utf-8'])
  t.same(mj.candidates[0].label, { ja: 'UTF-8 のメールを欧文 (Latin-1) として表示したもの', en: 'a UTF-8 mail shown as Western (Latin-1)' }, 'named for people, in both languages')
  t.equal(mj.candidates[0].implausible, false)
  t.same(mj.candidates[0].marks, [])
  t.ok(mj.candidates.some((c: { implausible: boolean }) => c.implausible), 'the garbled input is flagged for folding')
  t.equal(mj.unchanged, false)
  t.same(await keys(), [], 'mojibake input not stored either')

  const saved = (await app.inject({ method: 'POST', url: '/api/v1/tools/headers?save=1&lang=ja', payload: { raw: GMAIL }, remoteAddress: caller })).json()
  t.match(saved.saved, { id: /^[A-Za-z0-9_-]{16}$/, links: { self: `/api/v1/checks/${saved.saved.id}`, page: `/tools/r/${saved.saved.id}` } })
  const stored = await app.inject({ method: 'GET', url: saved.saved.links.self })
  t.equal(stored.statusCode, 200, 'the stored record passes the common report schema')
  const rec = stored.json()
  t.equal(rec.type, 'headers')
  t.equal(rec.status, 'warn', 'the display-name spoof is a warning')
  t.equal(rec.callerIp, caller)
  t.same(rec.target, { domain: null, host: null, ip: null })
  t.ok(rec.startedAt && rec.finishedAt && rec.summary)
  t.equal(rec.steps.length, 2)
  t.same(rec.transcript, [])
  t.ok(rec.advice.some((x: { code: string, message: string }) => x.code === 'tools.headers.display_name_address' && /フィッシング/.test(x.message)), 'advice in the requested language')
  t.equal(rec.analysis.subject, 'ご利用確認のお願い')
  const page = await app.inject({ method: 'GET', url: saved.saved.links.page })
  t.equal(page.statusCode, 200)
  t.match(page.body, /ご利用確認のお願い/)

  const ms = (await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake?save=1', payload: { text: garbled }, remoteAddress: caller })).json()
  const mrec = (await app.inject({ method: 'GET', url: `/api/v1/checks/${ms.saved.id}` })).json()
  t.equal(mrec.type, 'mojibake')
  t.equal(mrec.status, 'pass')
  t.equal(mrec.input, garbled)
  t.equal(mrec.repair.candidates[0].text, '日本語のメールです。')
  t.equal((await keys()).length >= 2, true, 'saved records are in Redis')
  t.equal((await app.inject({ method: 'GET', url: '/tools/r/AAAAAAAAAAAAAAAA' })).statusCode, 404)
})

t.test('bad input: 400 for binary and malformed bodies, 413 for too large, fast and clear', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const post = (url: string, payload: string | object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload, headers: typeof payload === 'string' ? { 'content-type': 'application/json', ...headers } : headers, remoteAddress: caller })

  // a NUL no longer refuses a header paste: it is analysed and the damage reported
  const nul = await post('/api/v1/tools/headers', { raw: 'Subject: a\u0000b' })
  t.equal(nul.statusCode, 200)
  t.ok(nul.json().findings.some((f: { code: string }) => f.code === 'tools.headers.nul_bytes'))
  const nulText = await post('/api/v1/tools/mojibake', { text: 'a\u0000b' })
  t.equal(nulText.statusCode, 400)
  t.match(nulText.json().message, /NUL/)
  const lone = await post('/api/v1/tools/mojibake', '{"text":"abc\\ud800def"}')
  t.equal(lone.statusCode, 400)
  t.match(lone.json().message, /surrogate/)
  const ctl = await post('/api/v1/tools/mojibake', { text: '\u0001\u0002\u0003\u0004'.repeat(50) })
  t.equal(ctl.statusCode, 400)
  t.match(ctl.json().message, /binary/)
  const png = await app.inject({ method: 'POST', url: '/api/v1/tools/headers', payload: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), headers: { 'content-type': 'application/json' }, remoteAddress: caller })
  t.equal(png.statusCode, 400, 'binary sent as JSON is not JSON')
  const octet = await app.inject({ method: 'POST', url: '/api/v1/tools/headers', payload: Buffer.alloc(100), headers: { 'content-type': 'application/octet-stream' }, remoteAddress: caller })
  t.equal(octet.statusCode, 415)
  t.equal((await post('/api/v1/tools/headers', { raw: 'x', extra: 1 })).statusCode, 400, 'additionalProperties: false')
  t.equal((await post('/api/v1/tools/headers', { raw: 42 })).statusCode, 400)
  t.equal((await post('/api/v1/tools/headers', { raw: '   ' })).statusCode, 400, 'empty')
  t.equal((await post('/api/v1/tools/mojibake?save=maybe', { text: 'x' })).statusCode, 400)

  const tenMb = await post('/api/v1/tools/headers', JSON.stringify({ raw: 'Subject: ' + 'x'.repeat(10 * 1024 * 1024) }))
  t.equal(tenMb.statusCode, 413)
  t.equal(tenMb.json().error, 'too_large')
  const millionLine = await post('/api/v1/tools/headers', { raw: 'Received: from ' + 'a'.repeat(1_000_000) + ' by x; Mon, 1 Jan 2024 00:00:00 +0000' })
  t.equal(millionLine.statusCode, 413, 'a header line of a million characters')
  t.match(millionLine.json().message, /256 KiB/)
  const justOver = await post('/api/v1/tools/mojibake', { text: 'あ'.repeat(90_000) })
  t.equal(justOver.statusCode, 413, '270,000 bytes of UTF-8 is over 256 KiB even though it is 90,000 characters')

  // the largest accepted input still gets an answer (the timing figure is in bench/tools.ts)
  const big = Array.from({ length: 1200 }, (_, i) => `Received: from h${i}.example.com (h${i}.example.com [198.51.100.${i % 250}]) by mx${i}.example.net (Postfix) with ESMTP id Q${i}; Mon, 1 Jan 2024 00:00:00 +0000`).join('\n').slice(0, 250 * 1024)
  const okBig = await post('/api/v1/tools/headers', { raw: big })
  t.equal(okBig.statusCode, 200)
  t.equal(okBig.json().hops.length, 1000, 'at most 1000 header fields are analysed')
})

t.test('rate limit: config.rateLimits.tools per caller', async (t) => {
  const app = await testApp({ RATE_LIMITS: 'tools=2/600' })
  t.teardown(() => app.close())
  const hit = () => app.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text: 'abc' }, remoteAddress: caller })
  t.equal((await hit()).statusCode, 200)
  t.equal((await hit()).statusCode, 200)
  const third = await hit()
  t.equal(third.statusCode, 429)
  t.ok(Number(third.headers['retry-after']) > 0)
  t.same(Object.keys(third.json()), ['error', 'message'], 'the one 429 shape')
  t.match(third.json(), { error: 'rate_limited', message: /at most 2 tool requests per 600 s; try again in \d+ s/ })
  const other = await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text: 'abc' }, remoteAddress: randomLoopback() })
  t.equal(other.statusCode, 200, 'another caller has its own budget')
  const page = await app.inject({ method: 'POST', url: '/tools/mojibake?lang=en', payload: 'text=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(page.statusCode, 429, 'the form shares the budget')
  t.match(page.headers['content-type'], /text\/html/)
  t.ok(Number(page.headers['retry-after']) > 0)
  const ja = await app.inject({ method: 'POST', url: '/tools/mojibake?lang=ja', payload: 'text=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(ja.statusCode, 429)
  t.match(ja.body, /解析ツールの利用回数が上限に達しました \(600 秒に 2 回まで\)。\d+ 秒後にもう一度お試しください。/, 'a Japanese page says it in Japanese')
  t.notMatch(ja.body, /rate limit exceeded/)
})

t.test('pages: forms without JavaScript, Japanese and English, every byte escaped', async (t) => {
  const app = await testApp({ REDIS_URL })
  t.teardown(() => app.close())
  await ready(app)

  const en = await app.inject({ method: 'GET', url: '/tools/headers?lang=en' })
  t.equal(en.statusCode, 200)
  t.match(en.headers['content-type'], /text\/html; charset=utf-8/)
  t.match(en.headers['content-security-policy'], /default-src 'none'/)
  t.match(en.body, /<html lang="en">/)
  t.match(en.body, /Mail header analyzer/)
  t.match(en.body, /<form method="post" action="\/tools\/headers\?lang=en"/)
  t.notMatch(en.body, /<script/i, 'no JavaScript')
  const ja = await app.inject({ method: 'GET', url: '/tools/mojibake', headers: { 'accept-language': 'ja,en;q=0.5' } })
  t.match(ja.body, /<html lang="ja">/)
  t.match(ja.body, /文字化けメールの修復/)
  const acceptEn = await app.inject({ method: 'GET', url: '/tools/mojibake', headers: { 'accept-language': 'en-US,en;q=0.9' } })
  t.match(acceptEn.body, /Garbled mail repair/)
  const queryWins = await app.inject({ method: 'GET', url: '/tools/mojibake?lang=ja', headers: { 'accept-language': 'en-US' } })
  t.match(queryWins.body, /<html lang="ja">/)

  const evil = [
    'Received: from <script>alert(1)</script> (x [198.51.100.1]) by "><img src=x onerror=alert(2)> with SMTP; Mon, 1 Jan 2024 00:00:00 +0000',
    'Received: <b>unparseable</b> & stuff',
    `Subject: ${encodedWord('<img src=x onerror=alert(3)> ' + JA_SUBJECT, 'UTF-8')}`,
    'From: "</td><script>alert(4)</script>" <a@b.example>',
    'X-Esc: \u001b[31mred'
  ].join('\n')
  const form = `raw=${encodeURIComponent(evil)}`
  const res = await app.inject({ method: 'POST', url: '/tools/headers?lang=ja', payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  t.match(res.headers['cache-control'], /no-store/)
  t.notMatch(res.body, /<script>alert|<img src=x|<b>unparseable/i, 'no markup from the input survives')
  t.match(res.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
  t.match(res.body, /&lt;img src=x onerror=alert\(3\)&gt; 【重要】会議の日程について/, 'the decoded subject is shown, escaped')
  t.match(res.body, /&lt;b&gt;unparseable&lt;\/b&gt; &amp; stuff/, 'the unparseable hop is shown')
  t.match(res.body, /<span class="ctl">\\x1b<\/span>/, 'control characters are made visible')
  const area = res.body.match(/<textarea[^>]*>([\s\S]*?)<\/textarea>/)![1]
  t.notMatch(area, /<span/, 'the textarea holds the text itself, ready to submit again')
  t.match(area, /\u001b\[31mred/)
  t.match(area, /&lt;script&gt;/)
  t.match(res.body, /経路 \(古い順\)/)
  t.notMatch(res.body, /共有リンク:/, 'no link unless asked')

  const saved = await app.inject({ method: 'POST', url: '/tools/headers?lang=en', payload: `raw=${encodeURIComponent(POSTFIX)}&save=1`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(saved.statusCode, 200)
  const link = saved.body.match(/href="(\/tools\/r\/[A-Za-z0-9_-]{16})"/)
  t.ok(link, 'a link is issued when asked')
  const again = await app.inject({ method: 'GET', url: link![1] })
  t.equal(again.statusCode, 200)
  t.match(again.body, /【重要】会議の日程について/)

  const sjis = iconv.encode('お知らせ', 'shift_jis').toString('latin1')
  const mj = await app.inject({ method: 'POST', url: '/tools/mojibake?lang=en', payload: `text=${encodeURIComponent(sjis)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(mj.statusCode, 200)
  t.match(mj.body, /latin1→bytes → bytes as shift_jis/)
  t.match(mj.body, /<pre>お知らせ<\/pre>/)

  const empty = await app.inject({ method: 'POST', url: '/tools/mojibake?lang=en', payload: 'text=', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(empty.statusCode, 400)
  t.match(empty.body, /role="alert"/)
  const nul = await app.inject({ method: 'POST', url: '/tools/mojibake?lang=en', payload: 'text=a%00b', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(nul.statusCode, 400)
  t.match(nul.body, /NUL bytes/)
  const huge = await app.inject({ method: 'POST', url: '/tools/headers?lang=ja', payload: 'raw=' + 'x'.repeat(2 * 1024 * 1024), headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(huge.statusCode, 413)
  t.match(huge.body, /入力が大きすぎます/)
  const over = await app.inject({ method: 'POST', url: '/tools/headers?lang=en', payload: 'raw=' + 'x'.repeat(300 * 1024), headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(over.statusCode, 413)
  t.match(over.body, /256 KiB/)
})

t.test('the tools are in the OpenAPI description; the pages are not', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const paths = res.json().paths
  t.ok(paths['/api/v1/tools/headers']?.post, 'headers endpoint documented')
  t.ok(paths['/api/v1/tools/mojibake']?.post, 'mojibake endpoint documented')
  t.notOk(paths['/tools/headers'], 'HTML pages hidden')
})

t.test('store down: 503 (the shared rate limit lives there), as JSON and as a page', async (t) => {
  const app = await testApp({ REDIS_URL: 'redis://127.0.0.1:1' })
  t.teardown(() => app.close())
  const api = await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake?save=1', payload: { text: 'abc' }, remoteAddress: caller })
  t.equal(api.statusCode, 503)
  t.equal(api.json().error, 'store_unavailable')
  const page = await app.inject({ method: 'POST', url: '/tools/headers?lang=en', payload: 'raw=Subject%3A+x&save=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
  t.equal(page.statusCode, 503)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, /store is down/)
})
