// The send test's input bounds (src/inbound/bound.ts), pure and on the
// main thread: which DKIM signatures go to verification, what of the
// header block is kept, and what the report is told was cut.
import t from 'tap'
import { boundMessage, headerEnd, HEADER_CAP, MAX_FIELDS, MAX_FIELD_BYTES, MAX_SIGNATURES, MAX_SIGNED_HEADERS } from '../../src/inbound/bound.js'

const sig = (d: string, s: string, h = 'from:to:subject'): string => `DKIM-Signature: v=1; a=rsa-sha256; d=${d}; s=${s};\r\n h=${h}; bh=AAAA; b=BBBB`
const mail = (head: string[], body = 'hello\r\n'): Buffer => Buffer.from(head.join('\r\n') + '\r\n\r\n' + body, 'latin1')
const signers = (m: Buffer): string[] => [...m.toString('latin1').matchAll(/d=([^;]+); s=([^;]+);/g)].map((x) => `${x[1]}/${x[2]}`)

t.test('headerEnd: CRLF CRLF, a bare LF LF first, or no body at all', async (t) => {
  t.same(headerEnd(Buffer.from('A: 1\r\n\r\nbody')), { end: 4, skip: 4 })
  t.same(headerEnd(Buffer.from('A: 1\n\nbody\r\n\r\nmore')), { end: 4, skip: 2 }, 'the earlier bare LF LF wins')
  t.same(headerEnd(Buffer.from('A: 1\r\nB: 2\r\n')), { end: 12, skip: 0 }, 'no separator: all header')
})

t.test('a plain mail passes unchanged, with honest counts', async (t) => {
  const raw = mail(['From: a@home.test', 'To: b@x.test', sig('home.test', 's1'), 'Subject: hi'])
  const b = boundMessage(raw)
  t.equal(b.message.toString('latin1'), raw.toString('latin1'), 'nothing cut, nothing reordered')
  t.equal(b.body.toString(), 'hello\r\n')
  t.same(b.bounds, { headerBytes: raw.indexOf('\r\n\r\n'), headerTruncated: false, signatures: 1, checked: 1, skipped: [], arcSets: 0, arcDropped: false })
})

t.test('a flood of junk signatures cannot hide the From domain\'s one', async (t) => {
  const junk = Array.from({ length: 40 }, (_, i) => sig(`junk${i}.test`, `s${i}`))
  const raw = mail(['From: "A" <a@mail.home.test>', ...junk, sig('other.test', 'o'), sig('home.test', 'parent'), sig('mail.home.test', 'exact'), 'Subject: x'])
  const b = boundMessage(raw)
  t.equal(b.bounds.signatures, 43)
  t.equal(b.bounds.checked, MAX_SIGNATURES)
  const kept = signers(b.message)
  t.ok(kept.includes('mail.home.test/exact'), 'the aligned signature is kept')
  t.ok(kept.includes('home.test/parent'), 'the parent domain (relaxed alignment) next')
  t.equal(kept.length, MAX_SIGNATURES)
  t.equal(b.bounds.skipped.length, MAX_SIGNATURES * 2, 'the list of skipped ones is itself bounded')
  t.ok(b.bounds.skipped.every((s) => s.why === 'not_checked'))
  t.ok(b.message.toString('latin1').includes('Subject: x'), 'the other fields stay')
})

t.test('an over-long h= list or an over-long signature field is not verified', async (t) => {
  const longH = Array.from({ length: MAX_SIGNED_HEADERS + 1 }, () => 'x').join(':')
  const huge = sig('home.test', 'big', 'from:' + 'y'.repeat(MAX_FIELD_BYTES))
  const raw = mail(['From: a@home.test', sig('home.test', 'many', longH), huge, sig('home.test', 'ok')])
  const b = boundMessage(raw)
  t.equal(b.bounds.signatures, 3)
  t.equal(b.bounds.checked, 1)
  t.same(signers(b.message), ['home.test/ok'])
  t.same(b.bounds.skipped.map((s) => [s.selector, s.why]), [['many', 'h_list'], ['big', 'h_list']])
})

t.test('a signature without d= or a mail without From ranks last but may still be checked', async (t) => {
  const raw = mail(['To: b@x.test', 'DKIM-Signature: v=1; a=rsa-sha256; h=to; bh=A; b=B'])
  const b = boundMessage(raw)
  t.equal(b.bounds.checked, 1)
  t.same(b.bounds.skipped, [])
})

t.test('the header block is cut at a field boundary: bytes, field count, long fields', async (t) => {
  const filler = Array.from({ length: 2000 }, (_, i) => `X-F${i}: ${'v'.repeat(60)}`)
  const b = boundMessage(mail(['From: a@home.test', ...filler]))
  t.equal(b.bounds.headerTruncated, true)
  t.ok(b.header.length <= HEADER_CAP, `kept ${b.header.length} bytes`)
  t.ok(b.header.toString('latin1').endsWith('\r\n'), 'ends at a field boundary')

  const many = Array.from({ length: MAX_FIELDS + 50 }, (_, i) => `X${i}: 1`)
  const c = boundMessage(mail(many))
  t.equal(c.header.toString('latin1').split('\r\n').length - 1, MAX_FIELDS, 'at most MAX_FIELDS fields')
  t.equal(c.bounds.headerTruncated, true)

  const folded = `X-Long: ${'a'.repeat(100)}${'\r\n\t'.concat('b'.repeat(100)).repeat(200)}`
  const d = boundMessage(mail(['From: a@home.test', folded, 'Subject: after']))
  t.equal(d.bounds.headerTruncated, true, 'a folded field over MAX_FIELD_BYTES is dropped whole')
  t.notOk(d.header.toString('latin1').includes('X-Long'))
  t.ok(d.header.toString('latin1').includes('Subject: after'), 'its continuation lines are not taken for fields')
})

t.test('bare LF mails keep their line ending between header and body', async (t) => {
  const b = boundMessage(Buffer.from('From: a@home.test\nSubject: s\n\nbody\n'))
  t.equal(b.message.toString(), 'From: a@home.test\nSubject: s\n\nbody\n')
})

t.test('linear in the input: the hostile shapes stay fast', async (t) => {
  const names = Array.from({ length: 50_000 }, (_, i) => `x${i}`).join(':')
  const lines = Array.from({ length: 50_000 }, (_, i) => `x${i}: y`)
  const started = performance.now()
  const b = boundMessage(mail(['From: a@home.test', sig('home.test', 'h', names), ...lines]))
  const ms = performance.now() - started
  t.equal(b.bounds.checked, 0, 'the 50,000-name h= list is not verified')
  t.equal(b.bounds.headerTruncated, true)
  t.ok(ms < 2000, `bounded in ${ms.toFixed(0)} ms`)
})
