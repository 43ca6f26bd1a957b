// The tools' finished answers (src/web/tool-answers.ts) built in this
// process: the worker runs the same functions, but tap does not see a
// worker thread's coverage, and the byte offsets of the PTR slot are worth
// testing where a failure is readable. The JSON is the API's shape, the
// slot lands where the origin goes, large answers stream in pieces.
import t from 'tap'
import { Readable } from 'node:stream'
import { analyzeHeaders } from '../../src/tools/headers.js'
import { repairMojibake } from '../../src/tools/mojibake.js'
import { fillSlot, headersJson, headersOriginJson, headersPage, mojibakeJson, mojibakePage } from '../../src/web/tool-answers.js'
import { POSTFIX } from '../tools/samples.js'

const saved = { id: 'abc', self: '/api/v1/tools/results/abc', page: '/tools/results/abc' }
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')

t.test('headersJson: the origin goes into its slot, right after hops', async (t) => {
  const a = analyzeHeaders(POSTFIX)
  const out = headersJson(a, 'en', saved)
  t.type(out.slot, 'number')
  const filled = fillSlot(out, headersOriginJson(a.origin))
  t.ok(Buffer.isBuffer(filled.body), 'a small answer is one buffer')
  const body = JSON.parse((filled.body as Buffer).toString('utf8'))
  t.same(Object.keys(body).slice(0, 4), ['hops', 'origin', 'findings', 'saved'], 'the key order fastify gave')
  t.same(body.origin, JSON.parse(JSON.stringify(a.origin)))
  t.same(body.saved, { id: 'abc', links: { self: saved.self, page: saved.page } })
  t.ok(Array.isArray(body.advice))
  t.equal(filled.length, Buffer.byteLength((filled.body as Buffer)))
  const unsaved = JSON.parse(text(fillSlot(headersJson(a, 'ja', null), headersOriginJson(a.origin)).body as Buffer))
  t.equal(unsaved.saved, null)
})

t.test('headersPage: the PTR line has a slot, or is inline for a stored result', async (t) => {
  const a = analyzeHeaders(POSTFIX)
  const slotted = headersPage(a, 'ja', saved, POSTFIX, 'slot')
  t.type(slotted.slot, 'number', 'the analysis has an origin, so its PTR line has a place')
  const page = fillSlot(slotted, '<p id="ptr">mail.example</p>').body
  t.ok(Buffer.isBuffer(page), 'a page of a few KiB is one buffer')
  const html = (page as Buffer).toString('utf8')
  t.equal(html.indexOf('<p id="ptr">mail.example</p>'), Buffer.from(slotted.body).subarray(0, slotted.slot ?? 0).toString('utf8').length, 'the PTR line where the marker was')
  t.notOk(text(slotted.body).includes('mxprobe:ptr'), 'the marker itself never reaches the page')
  const inline = headersPage(a, 'en', null, null, 'inline')
  t.equal(inline.slot, null)
  t.match(text(inline.body), /<html/)
  const noOrigin = headersPage(analyzeHeaders('Subject: only a subject\n'), 'en', null, null, 'slot')
  t.equal(noOrigin.slot, null, 'no origin, no PTR slot')
})

t.test('mojibake answers: the API fields in order, and the page', async (t) => {
  const garbled = Buffer.from('日本語のメールです。', 'utf8').toString('latin1')
  const r = repairMojibake(garbled)
  const body = JSON.parse(text(mojibakeJson(r, 'ja', saved).body))
  t.same(Object.keys(body), ['candidates', 'unchanged', 'advice', 'saved'])
  t.equal(body.candidates[0].text, '日本語のメールです。')
  t.same(Object.keys(body.candidates[0]), ['text', 'path', 'score', 'japaneseShare', 'lost', 'guessed', 'label', 'implausible', 'marks', 'mapping'])
  const page = mojibakePage(r, 'en', null, garbled)
  t.equal(page.slot, null)
  t.ok(text(page.body).includes('日本語のメールです。'))
})

t.test('fillSlot: answers over 64 KiB stream in pieces of known length', async (t) => {
  const big = new TextEncoder().encode('x'.repeat(200 * 1024))
  const out = fillSlot({ body: big, slot: 100 * 1024 }, '"origin":null,')
  t.ok(out.body instanceof Readable)
  const chunks: Buffer[] = []
  for await (const c of out.body as Readable) chunks.push(c as Buffer)
  const all = Buffer.concat(chunks)
  t.equal(all.length, out.length)
  t.ok(chunks.every((c) => c.length <= 64 * 1024))
  t.equal(all.subarray(100 * 1024, 100 * 1024 + 14).toString(), '"origin":null,', 'the fragment in its slot')
  const none = fillSlot({ body: big.subarray(0, 10), slot: 3 }, '')
  t.equal((none.body as Buffer).toString(), 'xxxxxxxxxx', 'an empty fragment leaves the bytes as they are')
})
