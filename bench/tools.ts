// Timing figures for the forensics tools at their input limits: how long the
// largest accepted paste takes, and how fast oversized or binary input is
// refused. Prints figures; run with `npm run bench:tools`. Targets: every
// analysis or repair at the input limit (and every hostile shape) in under
// 1 s median, every HTTP answer in under 2 s; a miss is a non-zero exit.
import iconv from 'iconv-lite'
import { pino } from 'pino'
import { analyzeHeaders } from '../src/tools/headers.js'
import { repairMojibake } from '../src/tools/mojibake.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const LIMIT = 256 * 1024
const missed: string[] = []

function time (label: string, fn: () => unknown, runs = 5): void {
  fn() // warm up
  const t: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn()
    t.push(performance.now() - t0)
  }
  t.sort((a, b) => a - b)
  const median = t[Math.floor(runs / 2)]
  if (median >= 1000) missed.push(`${label}: median ${median.toFixed(0)} ms ≥ 1000 ms`)
  console.log(`${label.padEnd(64)} median ${median.toFixed(1).padStart(8)} ms   max ${t[runs - 1].toFixed(1).padStart(8)} ms`)
}

function fit (s: string): string {
  let out = s
  while (Buffer.byteLength(out) > LIMIT) out = out.slice(0, Math.floor(out.length * 0.95))
  return out
}

const ja = 'サーバーの設定を変更しました。再起動後に送信テストをお願いします。件名：【重要】（ＩＤ：ABC-123）\n'
const hops = fit(Array.from({ length: 3000 }, (_, i) => `Received: from h${i}.example.com (h${i}.example.com [198.51.100.${i % 250}])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\tby mx${i}.example.net (Postfix) with ESMTPS id Q${i}\n\tfor <u@example.net>; Mon, 1 Jan 2024 00:00:${String(i % 60).padStart(2, '0')} +0000`).join('\n'))
time(`headers: ${Math.round(Buffer.byteLength(hops) / 1024)} KiB of Received headers (1000 analysed)`, () => analyzeHeaders(hops))
const oneLine = fit('Received: from ' + 'a'.repeat(LIMIT) + ' by x; Mon, 1 Jan 2024 00:00:00 +0000')
time('headers: one 256 KiB Received line (kept, not parsed)', () => analyzeHeaders(oneLine))
const subjects = fit(Array.from({ length: 4000 }, (_, i) => `X-H${i}: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?UTF-8?B?5pel5pys6Kqe?=`).join('\n'))
time('headers: 256 KiB of encoded-word headers (1000 decoded)', () => analyzeHeaders(subjects))

const text = ja.repeat(2000)
const cases: Record<string, string> = {
  'UTF-8 read as latin1': fit(Buffer.from(text, 'utf8').toString('latin1')),
  'Shift_JIS read as windows-1252 (iconv-lite, lost bytes)': fit(iconv.decode(iconv.encode(text, 'shift_jis'), 'windows-1252')),
  'UTF-8 read as Shift_JIS (WHATWG, lost bytes)': fit(new TextDecoder('shift_jis').decode(Buffer.from(text, 'utf8'))),
  'Shift_JIS read as UTF-8 (unrepairable)': fit(iconv.encode(text, 'shift_jis').toString('utf8')),
  'base64 of UTF-8': fit(Buffer.from(text, 'utf8').toString('base64')),
  'correct Japanese (identity)': fit(text)
}
for (const [name, s] of Object.entries(cases)) time(`mojibake: 256 KiB, ${name}`, () => repairMojibake(s), 3)

// hostile shapes: inputs built to make a backtracking parser quadratic
const hostile: Record<string, () => unknown> = {
  'From: of 200,000 characters without @': () => analyzeHeaders('From: ' + 'a'.repeat(200_000)),
  'Authentication-Results of 100,000 "a="': () => analyzeHeaders('Authentication-Results: x; ' + 'a='.repeat(100_000)),
  'Authentication-Results of 200,000 characters without "="': () => analyzeHeaders('Authentication-Results: x; ' + 'a'.repeat(200_000)),
  'Received-SPF of 200,000 characters without "="': () => analyzeHeaders('Received-SPF: pass ' + 'a'.repeat(200_000)),
  'Received: of nested "(" x 30': () => analyzeHeaders(('Received: from ' + '('.repeat(4000) + '\n').repeat(30)),
  'mojibake: "$B" x 60,000 then a kanji': () => repairMojibake('$B'.repeat(60_000) + 'あ'),
  'mojibake: "=?a?B?" then 200,000 x': () => repairMojibake('=?a?B?' + 'x'.repeat(200_000)),
  'mojibake: "=E3" x 80,000': () => repairMojibake('=E3'.repeat(80_000))
}
for (const [name, fn] of Object.entries(hostile)) time(`hostile: ${name}`, fn, 3)

const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent', RATE_LIMITS: 'tools=100000/60' }), { logger: pino({ level: 'silent' }) })
async function http (label: string, payload: string | Buffer, type = 'application/json'): Promise<void> {
  const t0 = performance.now()
  const r = await app.inject({ method: 'POST', url: '/api/v1/tools/headers', payload, headers: { 'content-type': type } })
  const ms = performance.now() - t0
  if (ms >= 2000) missed.push(`${label}: ${ms.toFixed(0)} ms ≥ 2000 ms`)
  if (r.statusCode >= 500) missed.push(`${label}: HTTP ${r.statusCode}`)
  console.log(`${label.padEnd(64)} ${String(r.statusCode).padStart(4)} in ${ms.toFixed(1).padStart(8)} ms`)
}
await http('HTTP: 10 MB JSON body', JSON.stringify({ raw: 'Subject: ' + 'x'.repeat(10 * 1024 * 1024) }))
await http('HTTP: header line of a million characters', JSON.stringify({ raw: 'Received: from ' + 'a'.repeat(1_000_000) }))
await http('HTTP: binary (PNG bytes) as JSON', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 1, 2, 3]))
await http('HTTP: NUL bytes in the text', JSON.stringify({ raw: 'Subject: \u0000\u0000' }))
await http('HTTP: largest accepted header block', JSON.stringify({ raw: hops }))
await app.close()
console.log(missed.length ? `\nFAIL: ${missed.length} target(s) missed\n  ${missed.join('\n  ')}` : '\nPASS: every figure within its target')
if (missed.length) process.exitCode = 1
