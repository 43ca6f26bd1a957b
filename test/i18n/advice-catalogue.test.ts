// Every advice text of every area, rendered in both languages with
// parameters of the kinds the checks pass: none throws, none shows
// "undefined" or "[object Object]", the Japanese one is Japanese and never
// shows a raw ISO date or time. The catalogues register at import time, so
// every module that registers one is imported here.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { adviceCodes, adviceText } from '../../src/i18n/index.js'

const DATE = '2026-12-21T03:04:05.000Z'
/** A plausible value for a parameter, by its name; the catalogues read lists, numbers, dates and names. */
function sample (key: string): unknown {
  const k = key.toLowerCase()
  if (/ports$/.test(k)) return [25, 587]
  if (/^(port|count|total|n|ms|days|messages|octets|lookups|limit|max|checked|more|signatures|bytes|kib|size|score|seconds|ttl|minutes)$/.test(k) || /count$|ms$|days$|bytes$/.test(k)) return 3
  if (/^valid|date$|since$|until$|expires$|^at$|at$/.test(k) && !/^(what|format|stat)/.test(k)) return DATE
  if (/^(many|ok|tls|secure|aligned|listed|signed)$/.test(k)) return false
  if (/ips$|addresses$|hosts$|names$|list$|zones$|domains$|codes$|items$|rules$/.test(k)) return ['192.0.2.1', 'mx.example.jp']
  if (/ip$|address$/.test(k)) return '192.0.2.1'
  if (/host|domain|name|mx|helo|ptr/.test(k)) return 'mx.example.jp'
  return 'x'
}
const params = new Proxy({}, { get: (_t, key) => typeof key === 'string' ? sample(key) : undefined, has: () => true })

t.before(async () => {
  // every module that registers a catalogue (grep: registerAdvice), and the catalogues themselves
  for (const f of readdirSync('src/i18n/advice')) if (f.endsWith('.ts')) await import(`../../src/i18n/advice/${f.replace(/\.ts$/, '.js')}`)
  for (const m of ['../../src/web/tools.js', '../../src/checks/tls.js', '../../src/inbound/service.js', '../../src/tools/mojibake.js', '../../src/tools/headers.js']) await import(m)
})

/** What is wrong with one rendered text; [] when nothing. */
function problems (lang: 'ja' | 'en', text: string): string[] {
  const out: string[] = []
  if (text.length < 10) out.push('too short')
  if (/undefined|\[object |NaN/.test(text)) out.push('a missing parameter')
  if (lang === 'ja' && !/[\u3040-\u30ff\u4e00-\u9fff]/.test(text)) out.push('not Japanese')
  if (lang === 'ja' && /\d{4}-\d{2}-\d{2}/.test(text)) out.push('a raw ISO date')
  return out
}

t.test('every advice code renders in ja and en', async (t) => {
  const codes = adviceCodes()
  t.ok(codes.length > 150, `${codes.length} codes`)
  for (const code of codes) {
    for (const lang of ['ja', 'en'] as const) {
      let text = ''
      try { text = adviceText(code, lang, params) } catch (err) { t.fail(`${code} ${lang} throws: ${(err as Error).message}`); continue }
      const p = problems(lang, text)
      if (p.length) t.fail(`${code} ${lang}: ${p.join(', ')}: ${text.slice(0, 200)}`)
    }
  }
  t.pass(`${codes.length * 2} texts rendered`)
})

t.test('the checks can fail', async (t) => {
  const p = params as Record<string, any>
  t.same(problems('ja', `期限は ${p.validTo} です`), ['a raw ISO date'], 'an ISO date on a Japanese text')
  t.same(problems('ja', `Port ${p.port} is closed`), ['not Japanese'], 'English in the Japanese catalogue')
  t.same(problems('en', `Port ${p.port} is ${p.nested?.value}`), ['a missing parameter'])
  t.same(problems('en', `Port ${p.port} is closed to the outside`), [])
})

t.test('dates as people write them: JST for Japanese, UTC for English', async (t) => {
  const { dayText, timeText } = await import('../../src/i18n/dates.js')
  t.equal(dayText('2026-12-21T20:00:00Z', 'ja'), '2026年12月22日', 'already the next day in Japan')
  t.equal(dayText('2026-03-01T00:00:00Z', 'ja'), '2026年3月1日', 'no leading zeros, as people write the date')
  t.equal(dayText('2026-03-01T00:00:00Z', 'en'), '1 Mar 2026')
  t.equal(dayText('2026-12-21T20:00:00Z', 'en'), '21 Dec 2026')
  t.equal(timeText('2026-12-21T03:04:05Z', 'ja'), '2026年12月21日 12:04:05 (日本時間)')
  t.equal(timeText('2026-12-21T03:04:05Z', 'en'), '21 Dec 2026 03:04:05 UTC')
  t.equal(dayText('not a date', 'ja'), 'not a date', 'text that is not a date stays as it is')
  t.equal(timeText(undefined, 'en'), '')
})
