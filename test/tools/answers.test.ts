// The tools' answers are built in the worker thread (src/web/tool-answers.ts)
// and only written by the main thread. They must say what the main thread
// used to say: the JSON bodies and the pages are compared here with the tools
// run and rendered in this process the way the routes did it before (the
// result, its advice, the PTR names of the origin through the app's resolver,
// the saved link), for the API and the pages, fresh and stored, with the form
// paste decoded in the worker. Not timed.
import t, { type Test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { parse as formbodyParse } from 'fast-querystring'
import type { FastifyInstance } from 'fastify'
import { testApp, randomLoopback } from '../helpers.js'
import { startDns, reverseName } from '../fixtures/dns.js'
import { POSTFIX, GMAIL } from './samples.js'
import { analyzeHeaders, findingMessages, type HeaderAnalysis } from '../../src/tools/headers.js'
import { repairMojibake } from '../../src/tools/mojibake.js'
import { mojibakeAdvice, toolLinks } from '../../src/tools/records.js'
import { headersResultPage, mojibakeResultPage } from '../../src/web/tools.js'
import { splitToolForm, decodeFormValue, PASTE_FIELDS } from '../../src/tools/input.js'
import type { Lang } from '../../src/i18n/index.js'

const ORIGIN_IP = '133.18.0.25'
const PTR_SAMPLE = [
  `Received: from mail.sender.example (mail.sender.example [${ORIGIN_IP}]) by mx.rcpt.example (Postfix) with ESMTPS id A1; Mon, 15 Jan 2024 10:00:04 +0000`,
  'From: "A & B" <a@sender.example>',
  'Subject: 100% <b>sure</b> a+b=c \u0001'
].join('\n')
/** UTF-8 read as latin1, just under the 256 KiB input cap (as in pool.test.ts). */
function heavyMojibake (): string {
  const ja = 'サーバーの設定を変更しました。再起動後に送信テストをお願いします。件名：【重要】（ＩＤ：ABC-123）\n'
  let s = Buffer.from(ja.repeat(3000), 'utf8').toString('latin1')
  while (Buffer.byteLength(s) > 256 * 1024) s = s.slice(0, Math.floor(s.length * 0.95))
  return s
}
const garbled = Buffer.from('日本語のメールです。半角+記号&=%も。', 'utf8').toString('latin1')

/** The analysis as the routes had it after the PTR question (its answer is in the DNS fixture). */
function analysed (raw: string): HeaderAnalysis {
  const a = analyzeHeaders(raw)
  if (a.origin?.ip === ORIGIN_IP) a.origin.ptr = ['mail.sender.example']
  return a
}

type Saved = { id: string, self: string, page: string } | null
const apiSaved = (s: Saved): unknown => s ? { id: s.id, links: { self: s.self, page: s.page } } : null

function expectedJson (tool: 'headers' | 'mojibake', input: string, lang: Lang, saved: Saved): unknown {
  if (tool === 'headers') {
    const a = analysed(input)
    return JSON.parse(JSON.stringify({ ...a, advice: findingMessages(a.findings, lang), saved: apiSaved(saved) }))
  }
  const r = repairMojibake(input)
  return JSON.parse(JSON.stringify({ ...r, advice: mojibakeAdvice(r, lang), saved: apiSaved(saved) }))
}

function expectedPage (tool: 'headers' | 'mojibake', input: string, lang: Lang, saved: Saved): string {
  return tool === 'headers' ? headersResultPage(lang, analysed(input), saved, input) : mojibakeResultPage(lang, repairMojibake(input), saved, input)
}

const savedOf = (id: string | undefined): Saved => id ? { id, ...toolLinks(id) } : null

async function setup (t: Test): Promise<{ app: FastifyInstance, caller: string }> {
  const dns = await startDns({ [reverseName(ORIGIN_IP)]: { PTR: ['mail.sender.example'] } })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, RATE_LIMITS: 'tools=1000/600' })
  t.teardown(() => app.close())
  return { app, caller: randomLoopback() }
}

const CASES: Array<['headers' | 'mojibake', string, string]> = [
  ['headers', 'Postfix chain, documentation origin (no PTR question)', POSTFIX],
  ['headers', 'origin with PTR names, markup and a control character', PTR_SAMPLE],
  ['headers', 'Gmail', GMAIL],
  ['mojibake', 'short garbled text with + & = %', garbled],
  ['mojibake', 'correct Japanese', '正しい日本語のメールです。'],
  ['mojibake', '256 KiB paste (an answer of about 1 MB)', heavyMojibake()]
]

t.test('API: the same JSON as the tools give in this process, fresh and saved', async (t) => {
  const { app, caller } = await setup(t)
  for (const [tool, name, input] of CASES) {
    for (const lang of ['ja', 'en'] as const) {
      for (const save of [false, true]) {
        const url = `/api/v1/tools/${tool}?lang=${lang}${save ? '&save=1' : ''}`
        const res = await app.inject({ method: 'POST', url, payload: tool === 'headers' ? { raw: input } : { text: input }, remoteAddress: caller })
        t.equal(res.statusCode, 200, `${name} ${lang}: ${res.body.slice(0, 200)}`)
        t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
        t.equal(Number(res.headers['content-length']), res.rawPayload.length, 'content-length is the body\'s')
        const body = res.json()
        t.equal(typeof body.saved?.id === 'string', save, 'a link only when asked')
        t.strictSame(body, expectedJson(tool, input, lang, savedOf(body.saved?.id)), `${tool}: ${name}, ${lang}${save ? ', saved' : ''}`)
        if (save) {
          // The stored record holds the result as answered (the PTR names included) and the page renders it.
          const rec = (await app.inject({ method: 'GET', url: body.saved.links.self })).json()
          if (tool === 'headers') t.strictSame(rec.analysis, JSON.parse(JSON.stringify(analysed(input))), 'stored analysis, with its PTR names')
          else {
            t.equal(rec.input, input, 'stored input')
            t.strictSame(rec.repair, JSON.parse(JSON.stringify(repairMojibake(input))), 'stored repair')
          }
          const page = await app.inject({ method: 'GET', url: `${body.saved.links.page}?lang=${lang}` })
          t.equal(page.statusCode, 200)
          const stored = tool === 'headers' ? headersResultPage(lang, analysed(input), savedOf(body.saved.id), null) : mojibakeResultPage(lang, repairMojibake(input), savedOf(body.saved.id), null)
          t.ok(page.body === stored, `stored ${tool} page as rendered here (${page.body.length} / ${stored.length} characters)`)
        }
      }
    }
  }
})

t.test('pages: the same HTML as rendered in this process; the paste decoded in the worker as formbody decodes it', async (t) => {
  const { app, caller } = await setup(t)
  for (const [tool, name, input] of CASES) {
    const field = tool === 'headers' ? 'raw' : 'text'
    for (const lang of ['ja', 'en'] as const) {
      for (const save of [false, true]) {
        const payload = new URLSearchParams({ [field]: input, ...(save ? { save: '1' } : {}) }).toString()
        const res = await app.inject({ method: 'POST', url: `/tools/${tool}?lang=${lang}`, payload, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
        t.equal(res.statusCode, 200, `${name} ${lang}: ${res.body.slice(0, 200)}`)
        t.equal(res.headers['content-type'], 'text/html; charset=utf-8')
        t.equal(Number(res.headers['content-length']), res.rawPayload.length, 'content-length is the body\'s')
        const id = /href="\/tools\/r\/([^"]+)"/.exec(res.body)?.[1]
        t.equal(Boolean(id), save, 'a link only when asked')
        const expected = expectedPage(tool, input, lang, savedOf(id))
        t.ok(res.body === expected, `${tool}: ${name}, ${lang}${save ? ', saved' : ''} (${res.body.length} / ${expected.length} characters)`)
        if (id && tool === 'mojibake') t.equal((await app.inject({ method: 'GET', url: `/api/v1/checks/${id}` })).json().input, input, 'the decoded paste is stored, not its form encoding')
      }
    }
  }
  // The same paste as JSON to the page (no form encoding) gives the same page.
  const json = await app.inject({ method: 'POST', url: '/tools/mojibake?lang=en', payload: { text: garbled }, remoteAddress: caller })
  t.ok(json.body === expectedPage('mojibake', garbled, 'en', null), 'JSON body to the page')
  // curl -d style: a raw "+", a lone "%" (malformed: formbody keeps the value as sent).
  for (const body of ['text=a+b%2Bc%26d%3De', 'text=100%+sure+%E6%97%A5', 'text=%E3%81%82&save=0&text=x', 'raw=&text=%E6%97%A5%E6%9C%AC']) {
    const res = await app.inject({ method: 'POST', url: '/tools/mojibake?lang=en', payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: caller })
    const parsed = formbodyParse(body) as Record<string, unknown>
    if (typeof parsed.text !== 'string') { t.equal(res.statusCode, 400, `${body}: refused as before (${res.statusCode})`); continue }
    t.equal(res.statusCode, 200, body)
    t.ok(res.body === expectedPage('mojibake', parsed.text, 'en', null), `${body}: the paste formbody would have given`)
  }
})

t.test('a stored result\'s page is rendered in the worker: a full pool answers with the busy page', async (t) => {
  const app = await testApp({ TOOLS_THREADS: '1', TOOLS_QUEUE: '1', RATE_LIMITS: 'tools=1000/600' })
  t.teardown(() => app.close())
  const saved = (await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake?save=1', payload: { text: garbled }, remoteAddress: randomLoopback() })).json().saved
  t.equal((await app.inject({ method: 'GET', url: `${saved.links.page}?lang=en` })).statusCode, 200)
  // One heavy job running, one waiting: the pool is full until the first ends (a second or so).
  const heavy = heavyMojibake()
  const jobs = [0, 1].map(() => app.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text: heavy }, remoteAddress: randomLoopback() }))
  for (let i = 0; i < 2000 && app.mx.tools.queued < 1; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(app.mx.tools.queued, 1, 'one job waits')
  const page = await app.inject({ method: 'GET', url: `${saved.links.page}?lang=ja` })
  t.equal(page.statusCode, 503)
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8')
  t.ok(Number(page.headers['retry-after']) >= 1, 'with Retry-After')
  t.match(page.body, /混み合って/)
  t.same((await Promise.all(jobs)).map((r) => r.statusCode), [200, 200])
})

t.test('the tool form parser splits like @fastify/formbody and leaves only the paste encoded', async (t) => {
  const bodies = [
    '', 'a', 'a=', '=x', '&&a=1&&', 'a=1&a=2&a=3', 'save=on&text=x', 'text=a+b', 'text=%', 'text=%zz%41', 'text=%E3%81', 'text=%ED%A0%80',
    'text=a=b=c', 'raw=%E6%97%A5%E6%9C%AC+%2B', 'k%20ey=v%20al', 'k+ey=v+al', '__proto__=x', 'text=1&raw=2&text=3', 'text=%F0%9F%98%80%c3%a9',
    new URLSearchParams({ text: garbled, raw: PTR_SAMPLE, save: '1' }).toString()
  ]
  for (const body of bodies) {
    const split = splitToolForm(body)
    const decoded: Record<string, unknown> = Object.create(null)
    for (const [k, v] of Object.entries(split)) {
      decoded[k] = PASTE_FIELDS.has(k) ? (Array.isArray(v) ? v.map(decodeFormValue) : decodeFormValue(v)) : v
    }
    t.strictSame(decoded, formbodyParse(body), JSON.stringify(body).slice(0, 80))
  }
  t.equal(splitToolForm('text=%E6%97%A5&save=%31').text, '%E6%97%A5', 'the paste stays encoded')
  t.equal(splitToolForm('text=%E6%97%A5&save=%31').save, '1', 'other fields are decoded')
})

t.test('the worker threads run at a lower priority than the event loop (TOOLS_NICE, Linux)', { skip: process.platform !== 'linux' && 'per-thread nice is Linux' }, async (t) => {
  const niceOf = (): number[] => readdirSync('/proc/self/task').flatMap((id) => {
    try {
      const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8')
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])]
    } catch { return [] } // the thread ended meanwhile
  })
  const app = await testApp({ TOOLS_NICE: '7', RATE_LIMITS: 'tools=1000/600' })
  t.teardown(() => app.close())
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake', payload: { text: 'abc' }, remoteAddress: randomLoopback() })).statusCode, 200)
  t.ok(niceOf().includes(7), `a thread at nice 7 (${niceOf().join(' ')})`)
  const main = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[16])
  t.equal(main, 0, 'the main thread keeps its priority')
})
