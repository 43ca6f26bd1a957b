// The message's form and its ARC chain (src/inbound/content.ts formatFacts and
// analyzeContent's ARC verdict), on the main thread with an in-memory resolver:
// Message-ID, Date and From as Gmail and Yahoo check them, one-click
// unsubscribe, and a forwarder's ARC set verified, broken, or past the bounds.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { sealMessage } from 'mailauth/lib/arc/index.js'
import { analyzeContent, formatFacts } from '../../src/inbound/content.js'
import { MAX_ARC_SETS, boundMessage } from '../../src/inbound/bound.js'

const base = [
  'From: Home <a@home.test>',
  'To: test@inbound.test',
  'Subject: hello',
  'Date: Mon, 07 Dec 2026 12:00:00 +0900',
  'Message-ID: <1@home.test>'
]
const head = (lines: string[]): string => lines.join('\r\n') + '\r\n'

t.test('a well-formed header block meets RFC 5322 as receivers check it', async (t) => {
  t.same(formatFacts(head(base)), { messageId: true, date: true, from: true, fromDomain: 'home.test', listUnsubscribe: false, oneClick: false })
})

t.test('a missing Message-ID, a second Date, a From without an address are each found', async (t) => {
  t.equal(formatFacts(head(base.filter((l) => !l.startsWith('Message-ID')))).messageId, false)
  t.equal(formatFacts(head([...base, 'Date: Tue, 08 Dec 2026 12:00:00 +0900'])).date, false, 'two Date fields')
  t.equal(formatFacts(head(base.map((l) => l.startsWith('Date') ? 'Date: 2026-12-07 12:00' : l))).date, false, 'an ISO date is not RFC 5322')
  t.equal(formatFacts(head(base.map((l) => l.startsWith('Message-ID') ? 'Message-ID: 1@home.test' : l))).messageId, false, 'no angle brackets')
  const noAddr = formatFacts(head(base.map((l) => l.startsWith('From') ? 'From: Home' : l)))
  t.equal(noAddr.from, false)
  t.equal(noAddr.fromDomain, '')
  t.equal(formatFacts(head(base.map((l) => l.startsWith('Date') ? 'Date: Mon,\r\n 07 Dec 2026 12:00:00 +0900 (JST)' : l))).date, true, 'a folded Date with a comment')
  t.equal(formatFacts(head(base.map((l) => l.startsWith('Date') ? `Date: ${new Date(0).toUTCString()}` : l))).date, true, 'the obsolete zone GMT (RFC 5322 4.3), as JavaScript writes it')
  t.equal(formatFacts(head(base.map((l) => l.startsWith('Date') ? 'Date: 7 Dec 2026 12:00 JST' : l))).date, false, 'JST is no zone RFC 5322 knows')
})

t.test('one-click unsubscribe needs an https link and List-Unsubscribe-Post (RFC 8058)', async (t) => {
  const one = formatFacts(head([...base, 'List-Unsubscribe: <https://home.test/u/1>, <mailto:u@home.test>', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click']))
  t.same([one.listUnsubscribe, one.oneClick], [true, true])
  const mailtoOnly = formatFacts(head([...base, 'List-Unsubscribe: <mailto:u@home.test>', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click']))
  t.same([mailtoOnly.listUnsubscribe, mailtoOnly.oneClick], [true, false])
  const noPost = formatFacts(head([...base, 'List-Unsubscribe: <https://home.test/u/1>']))
  t.same([noPost.listUnsubscribe, noPost.oneClick], [true, false])
})

// ARC: the forwarder signs with RSA (RFC 8617 names rsa-sha256 only).
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const pub = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64')
const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
const records: Record<string, string[][]> = { 'arc._domainkey.list.test': [[`v=DKIM1; k=rsa; p=${pub}`]] }
const resolver = async (name: string, type: string): Promise<unknown[]> => {
  const r = type === 'TXT' ? records[name] : undefined
  if (!r) throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' })
  return r
}
const message = head(base) + 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nforwarded by a list\r\n'
const seal = async (msg: string, i: number, cv: string): Promise<string> =>
  (await sealMessage(msg, { signingDomain: 'list.test', selector: 'arc', privateKey: pem, authResults: 'mx.list.test; dkim=none; spf=pass smtp.mailfrom=home.test', cv, i })).toString() + msg

t.test('no ARC set: no ARC verdict, nothing looked up for it', async (t) => {
  const f = await analyzeContent(Buffer.from(message), { sender: 'a@home.test', spfPassDomain: null, resolver })
  t.equal(f.arc, null)
  t.equal(f.format.messageId, true)
})

t.test('a forwarder\'s valid ARC set verifies; a changed seal does not', async (t) => {
  const sealed = await seal(message, 1, 'none')
  const ok = await analyzeContent(Buffer.from(sealed), { sender: 'a@home.test', spfPassDomain: null, resolver })
  t.same([ok.arc?.result, ok.arc?.sets, ok.arc?.i], ['pass', 1, 1])
  const broken = sealed.replace(/(ARC-Seal:[^]*?b=)([A-Za-z0-9+/])/, (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'))
  t.not(broken, sealed, 'the seal was changed')
  const bad = await analyzeContent(Buffer.from(broken), { sender: 'a@home.test', spfPassDomain: null, resolver })
  t.equal(bad.arc?.sets, 1)
  t.not(bad.arc?.result, 'pass')
})

t.test(`more than ${MAX_ARC_SETS} ARC sets are dropped before verification and reported unchecked`, async (t) => {
  let msg = message
  for (let i = 1; i <= MAX_ARC_SETS + 1; i++) msg = await seal(msg, i, i === 1 ? 'none' : 'pass')
  const b = boundMessage(Buffer.from(msg))
  t.equal(b.bounds.arcSets, MAX_ARC_SETS + 1)
  t.equal(b.bounds.arcDropped, true)
  t.notMatch(b.header.toString(), /^ARC-/im, 'no ARC field goes to verification')
  let asked = 0
  const counting = async (name: string, type: string): Promise<unknown[]> => { if (/arc\._domainkey/.test(name)) asked++; return await resolver(name, type) }
  const f = await analyzeContent(Buffer.from(msg), { sender: 'a@home.test', spfPassDomain: null, resolver: counting })
  t.same(f.arc, { result: 'not_checked', sets: MAX_ARC_SETS + 1, i: null })
  t.equal(asked, 0, 'no key was looked up for the dropped chain')
})

t.test(`up to ${MAX_ARC_SETS} sets verify as a chain`, async (t) => {
  let msg = message
  for (let i = 1; i <= 3; i++) msg = await seal(msg, i, i === 1 ? 'none' : 'pass')
  const f = await analyzeContent(Buffer.from(msg), { sender: 'a@home.test', spfPassDomain: null, resolver })
  t.same([f.arc?.result, f.arc?.sets, f.arc?.i], ['pass', 3, 3])
})
