// The header analyzer's origin against SpamAssassin's first untrusted relay
// on a hand-written set in every common Received format
// (test/tools/origin-corpus.ts). SpamAssassin's answers are recorded by
// scripts/sa-origin.ts (run it again after changing the set). Every message
// where the two disagree is listed with the reason; mxprobe must be right
// on more of them than SpamAssassin, and on every one where it disagrees.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { analyzeHeaders } from '../../src/tools/headers.js'
import { ORIGIN_CASES } from './origin-corpus.js'

const sa = JSON.parse(readFileSync(new URL('./fixtures/origin-spamassassin.json', import.meta.url), 'utf8')) as { spamassassin: string, firstUntrusted: Record<string, string | null> }
const now = new Date('2024-02-01T00:00:00Z')

t.test('the recorded SpamAssassin answers cover the whole set (else run scripts/sa-origin.ts)', async (t) => {
  for (const c of ORIGIN_CASES) t.ok(c.name in sa.firstUntrusted, c.name)
})

t.test('origin: mxprobe vs SpamAssassin', async (t) => {
  let mx = 0
  let peer = 0
  let counted = 0
  const lines: string[] = []
  for (const c of ORIGIN_CASES) {
    const a = analyzeHeaders(c.raw, { now })
    const got = a.origin?.ip ?? null
    const theirs = sa.firstUntrusted[c.name] ?? null
    if (c.ambiguous) {
      t.ok(a.origin?.ambiguous, `${c.name}: reported as ambiguous, not guessed`)
      t.equal(got, null, `${c.name}: no address claimed`)
      t.ok(a.findings.some((f) => f.code === 'tools.headers.ambiguous_peer'), 'a finding says so')
      lines.push(`  ambiguous  ${c.name}: mxprobe says it cannot tell (${a.origin?.candidates.join(', ')}), SpamAssassin ${theirs}`)
      continue
    }
    counted++
    const ok = got === c.truth
    const saOk = theirs === c.truth
    if (ok) mx++
    if (saOk) peer++
    if (ok !== saOk || !ok) lines.push(`  ${ok ? 'mxprobe ' : saOk ? 'SA      ' : 'neither '}  ${c.name}: truth ${c.truth}, mxprobe ${got}, SpamAssassin ${theirs} — ${c.why}`)
    t.ok(ok, `${c.name}: origin ${c.truth} (got ${got}${a.origin ? `, ${a.origin.reason}` : ''})`)
  }
  t.comment(`origin right: mxprobe ${mx}/${counted}, ${sa.spamassassin} ${peer}/${counted}`)
  t.comment(`where they differ (the reason is the case's own):\n${lines.join('\n')}`)
  console.log(`origin right: mxprobe ${mx}/${counted}, SpamAssassin ${peer}/${counted}\n${lines.join('\n')}`)
  t.ok(mx > peer, 'mxprobe names the origin right more often than SpamAssassin')
})

t.test('walked hops say why they are the recipient\'s own', async (t) => {
  const c = ORIGIN_CASES.find((x) => x.name.startsWith('fetchmail from'))!
  const a = analyzeHeaders(c.raw, { now })
  t.same(a.origin?.walked.map((w) => w.why), ['retrieval', 'same-organisation'])
  t.ok(a.origin?.recipientDomains.includes('isp.example'), 'the mailbox provider joins the boundary')
  const f = ORIGIN_CASES.find((x) => x.name.startsWith('postfix: forged HELO carrying'))!
  const b = analyzeHeaders(f.raw, { now })
  t.equal(b.hops[0].heloIp, '192.0.2.1')
  t.ok(b.findings.some((x) => x.code === 'tools.headers.helo_ip'))
})

t.test('a NUL byte no longer refuses the paste: the header block is analysed and the damage reported', async (t) => {
  const raw = ORIGIN_CASES[0].raw.replace('Subject: test', 'Subject: te\u0000st') + '\n\u0000\u0000binary tail'
  const a = analyzeHeaders(raw, { now })
  t.equal(a.origin?.ip, ORIGIN_CASES[0].truth)
  const f = a.findings.find((x) => x.code === 'tools.headers.nul_bytes')
  t.ok(f, 'reported')
  t.equal(f?.params.count, 3)
  t.equal(f?.params.inHeader, 1)
  t.equal(a.subject, 'te\ufffdst', 'shown as U+FFFD')
})
