// The send test's message analysis (src/inbound/content.ts), called directly
// on the main thread with an in-memory resolver: what the worker computes,
// without the worker. DKIM over the bounded message, DMARC with the SPF
// result handed in, charsets, the subject, the excerpt.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { dkimSign } from 'mailauth/lib/dkim/sign.js'
import { analyzeContent, charsetInfo, headerText } from '../../src/inbound/content.js'

const { publicKey, privateKey } = generateKeyPairSync('ed25519')
const rawKey = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('base64')
const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string

const records: Record<string, string[][]> = {
  'sel._domainkey.home.test': [[`v=DKIM1; k=ed25519; p=${rawKey}`]],
  '_dmarc.home.test': [['v=DMARC1; p=reject']]
}
const asked: string[] = []
const resolver = async (name: string, type: string): Promise<unknown[]> => {
  asked.push(`${type} ${name}`)
  const r = type === 'TXT' ? records[name] : undefined
  if (!r) throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' })
  return r
}

const compose = (from: string, body = 'kaitsuu test\r\n'): string => [
  `From: Home <${from}>`,
  'To: test@inbound.test',
  'Subject: =?UTF-8?B?6ZaL6YCa44OG44K544OI?=',
  'Date: Mon, 07 Dec 2026 12:00:00 +0900',
  'Message-ID: <1@home.test>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=UTF-8',
  '',
  body
].join('\r\n')
const sign = async (msg: string, d = 'home.test'): Promise<Buffer> => {
  const s = await dkimSign(msg, { signatureData: [{ signingDomain: d, selector: 'sel', privateKey: pem, algorithm: 'ed25519-sha256' }] })
  return Buffer.from(s.signatures + msg)
}

t.test('a signed mail: DKIM pass and aligned, DMARC pass, the subject decoded', async (t) => {
  const f = await analyzeContent(await sign(compose('a@home.test')), { sender: 'a@home.test', spfPassDomain: null, resolver })
  t.same(f.dkim.map((d) => [d.result, d.domain, d.selector, d.aligned]), [['pass', 'home.test', 'sel', true]])
  t.same(f.dmarc, { result: 'pass', policy: 'reject', domain: 'home.test' })
  t.equal(f.subject, '開通テスト')
  t.same(f.charset, { declared: true, charsets: ['utf-8'], undeclaredParts: 0 })
  t.equal(f.excerpt, 'kaitsuu test\r\n')
  t.equal(f.bounds.checked, 1)
  t.ok(f.headers, 'the header tool ran on the bounded block')
})

t.test('a body changed after signing is a failed signature, and DMARC falls to the policy', async (t) => {
  const signed = (await sign(compose('a@home.test'))).toString().replace('kaitsuu test', 'tampered')
  const f = await analyzeContent(Buffer.from(signed), { sender: 'a@home.test', spfPassDomain: null, resolver })
  t.equal(f.dkim[0].result, 'fail')
  t.match(f.dkim[0].reason, /body hash/)
  t.equal(f.dmarc.result, 'fail')
  t.equal(f.dmarc.policy, 'reject')
})

t.test('an unsigned mail: DMARC passes on the SPF domain alone', async (t) => {
  const f = await analyzeContent(Buffer.from(compose('a@home.test')), { sender: 'a@home.test', spfPassDomain: 'home.test', resolver })
  t.same(f.dkim, [])
  t.equal(f.dmarc.result, 'pass')
})

t.test('no From field: no DMARC verdict, and no crash', async (t) => {
  const f = await analyzeContent(Buffer.from('Subject: x\r\n\r\nbody\r\n'), { sender: '', spfPassDomain: null, resolver })
  t.same(f.dmarc, { result: 'none', policy: null, domain: null })
  t.equal(f.subject, 'x')
})

t.test('a resolver that fails: the signature is a temporary or key error, never a pass', async (t) => {
  const failing = async (): Promise<unknown[]> => { throw Object.assign(new Error('budget'), { code: 'ETIMEOUT' }) }
  const f = await analyzeContent(await sign(compose('a@home.test')), { sender: 'a@home.test', spfPassDomain: null, resolver: failing })
  t.equal(f.dkim.length, 1)
  t.not(f.dkim[0].result, 'pass')
})

t.test('a legacy-charset header block and body: latin1, excerpt bounded', async (t) => {
  const sjis = Buffer.concat([Buffer.from('From: a@home.test\r\nSubject: '), Buffer.from([0x83, 0x65, 0x83, 0x58, 0x83, 0x67]), Buffer.from('\r\n\r\n'), Buffer.alloc(10_000, 0x82)])
  const f = await analyzeContent(sjis, { sender: '', spfPassDomain: null, resolver })
  t.equal(f.excerpt.length, 2000, 'the excerpt is bounded')
  t.same(f.charset, { declared: false, charsets: [], undeclaredParts: 1 }, 'non-ASCII text without a charset')
  t.equal(headerText(Buffer.from([0x41, 0x83, 0x65])), 'A\u0083e', 'invalid UTF-8: the raw bytes')
  t.equal(headerText(Buffer.from('件名', 'utf8')), '件名', 'valid UTF-8 (SMTPUTF8) stays UTF-8')
})

t.test('charsetInfo walks multipart mail one level deep', async (t) => {
  const head = 'Content-Type: multipart/alternative;\r\n boundary="b1"\r\n'
  const body = Buffer.from([
    '--b1', 'Content-Type: text/plain; charset="ISO-2022-JP"', '', 'x',
    '--b1', 'Content-Type: text/html', 'Content-Transfer-Encoding: base64', '', Buffer.from('<p>日本語</p>').toString('base64'),
    '--b1', 'Content-Type: text/plain', 'Content-Transfer-Encoding: quoted-printable', '', '=E6=97=A5',
    '--b1', 'Content-Type: text/plain', '', 'only ascii',
    '--b1', 'Content-Type: image/png', '', '\x89PNG',
    '--b1--', ''
  ].join('\r\n'), 'latin1')
  t.same(charsetInfo(head, body), { declared: false, charsets: ['iso-2022-jp'], undeclaredParts: 2 })
  t.same(charsetInfo('Content-Type: multipart/mixed\r\n', Buffer.from('x')), { declared: true, charsets: [], undeclaredParts: 0 }, 'no boundary: nothing to walk')
  t.same(charsetInfo('', Buffer.from('\x1b$B$3$s\x1b(B', 'latin1')), { declared: false, charsets: [], undeclaredParts: 1 }, 'ISO-2022-JP escapes count as non-ASCII')
})

t.test('only the chosen signatures cost DNS lookups', async (t) => {
  asked.length = 0
  let msg = compose('a@home.test')
  for (let i = 0; i < 30; i++) {
    const s = await dkimSign(msg, { signatureData: [{ signingDomain: `junk${i}.test`, selector: 'sel', privateKey: pem, algorithm: 'ed25519-sha256' }] })
    msg = s.signatures + msg
  }
  const f = await analyzeContent(await sign(msg), { sender: 'a@home.test', spfPassDomain: null, resolver })
  t.equal(f.bounds.signatures, 31)
  t.equal(f.bounds.checked, 5)
  t.ok(f.dkim.some((d) => d.domain === 'home.test' && d.result === 'pass'), 'the From domain\'s signature verified among the junk')
  const keyLookups = asked.filter((a) => a.includes('._domainkey.'))
  t.equal(keyLookups.length, 5, 'one key lookup per chosen signature')
})
