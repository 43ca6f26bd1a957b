// Figures for the forensics tools: accuracy (the header analyzer's origin
// against SpamAssassin's first untrusted relay, the mojibake repair per way
// of garbling), the p90 time of one call at realistic sizes (target: 50 ms),
// and timing at the input limits (how long the largest accepted paste
// takes, how fast oversized or binary input is refused). Exits non-zero
// when a target is missed. Run with `npm run bench:tools`.
import iconv from 'iconv-lite'
import { pino } from 'pino'
import { analyzeHeaders } from '../src/tools/headers.js'
import { repairMojibake } from '../src/tools/mojibake.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { readFileSync } from 'node:fs'
import { ORIGIN_CASES } from '../test/tools/origin-corpus.js'
import { PATHS, PASSAGES, measure, formatScores, overall, OVERALL_TARGET } from '../test/tools/mojibake-corpus.js'

const misses: string[] = []

// ---------------------------------------------------------------- accuracy
const sa = JSON.parse(readFileSync(new URL('../test/tools/fixtures/origin-spamassassin.json', import.meta.url), 'utf8')) as { spamassassin: string, firstUntrusted: Record<string, string | null> }
let mxRight = 0
let saRight = 0
let counted = 0
for (const c of ORIGIN_CASES) {
  if (c.ambiguous) continue
  counted++
  if ((analyzeHeaders(c.raw).origin?.ip ?? null) === c.truth) mxRight++
  if ((sa.firstUntrusted[c.name] ?? null) === c.truth) saRight++
}
console.log(`header origin right: mxprobe ${mxRight}/${counted}, ${sa.spamassassin} ${saRight}/${counted}`)
if (mxRight <= saRight) misses.push('origin: mxprobe is not ahead of SpamAssassin')

const scores = measure((x) => repairMojibake(x))
console.log(formatScores(scores))
for (const sc of scores) if (sc.lossless && sc.right < 0.95 * sc.total) misses.push(`mojibake: ${sc.name} ${sc.right}/${sc.total}`)
const [right, total] = overall(scores)
if (right < OVERALL_TARGET * total) misses.push(`mojibake: first candidate right on ${right}/${total}, below ${(100 * OVERALL_TARGET).toFixed(1)} %`)

// ------------------------------------------------- p90 at realistic sizes
// The machine is shared (load far above its two cores): the target is checked on the CPU time of
// the call (process.cpuUsage), which other processes do not inflate; wall time is printed beside it.
function p90 (label: string, inputs: string[], fn: (s: string) => unknown, target = 50): void {
  for (const x of inputs.slice(0, 3)) fn(x) // warm up
  const cpu: number[] = []
  const wall: number[] = []
  for (const x of inputs) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    fn(x)
    wall.push(performance.now() - t0)
    const d = process.cpuUsage(c0)
    cpu.push((d.user + d.system) / 1000)
  }
  const q = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * 0.9))] }
  const max = (a: number[]): number => Math.max(...a)
  console.log(`${label.padEnd(64)} p90 cpu ${q(cpu).toFixed(1).padStart(6)} ms (wall ${q(wall).toFixed(1)})   max cpu ${max(cpu).toFixed(1)} ms   (${cpu.length} calls, target ${target} ms)`)
  if (q(cpu) > target) misses.push(`${label}: p90 ${q(cpu).toFixed(1)} ms`)
}
const headerInputs = ORIGIN_CASES.flatMap((c) => [c.raw, c.raw.replace('\n\n', '\n' + Array.from({ length: 40 }, (_, i) => `X-Filler-${i}: ${'x'.repeat(60)}`).join('\n') + '\n\n')])
p90('headers: one message header block (1–5 KB)', headerInputs, (x) => analyzeHeaders(x))
for (const n of [1, 6, 24]) {
  const texts: string[] = []
  for (let k = 0; k < 24; k++) {
    const text = Array.from({ length: n }, (_, q) => PASSAGES[(k + q) % PASSAGES.length]).join('\n')
    for (const p of PATHS) { const g = p.make(text); if (g && g !== text) texts.push(g) }
  }
  const size = Math.round(texts.reduce((a, x) => a + x.length, 0) / texts.length)
  p90(`mojibake: ${n} passage(s) garbled every way (about ${size} characters)`, texts, (x) => repairMojibake(x))
}

const LIMIT = 256 * 1024

function time (label: string, fn: () => unknown, runs = 5): void {
  fn() // warm up
  const t: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn()
    t.push(performance.now() - t0)
  }
  t.sort((a, b) => a - b)
  console.log(`${label.padEnd(64)} median ${t[Math.floor(runs / 2)].toFixed(1).padStart(8)} ms   max ${t[runs - 1].toFixed(1).padStart(8)} ms`)
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
  console.log(`${label.padEnd(64)} ${String(r.statusCode).padStart(4)} in ${(performance.now() - t0).toFixed(1).padStart(8)} ms`)
}
await http('HTTP: 10 MB JSON body', JSON.stringify({ raw: 'Subject: ' + 'x'.repeat(10 * 1024 * 1024) }))
await http('HTTP: header line of a million characters', JSON.stringify({ raw: 'Received: from ' + 'a'.repeat(1_000_000) }))
await http('HTTP: binary (PNG bytes) as JSON', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 1, 2, 3]))
await http('HTTP: NUL bytes in the text (analysed, damage reported)', JSON.stringify({ raw: 'Subject: \u0000\u0000' }))
await http('HTTP: largest accepted header block', JSON.stringify({ raw: hops }))
await app.close()

if (misses.length) {
  console.log(`\nMISSED:\n  ${misses.join('\n  ')}`)
  process.exit(1)
}
console.log('\nall targets met')
