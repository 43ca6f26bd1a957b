// The DNS wire format, byte by byte: the query mxprobe sends (RD, AD, CD,
// EDNS0 with DO) and the answers it accepts, including hostile ones.
import t from 'tap'
import { encodeQuery, decodeAnswer, TYPES } from '../../src/dns/wire.js'
import { parseServer, DnssecClient, edeText } from '../../src/dns/dnssec.js'

function name (n: string): Buffer {
  return Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])])
}

function answer (flags: number, answers: Buffer[], opt?: Buffer): Buffer {
  const h = Buffer.alloc(12)
  h.writeUInt16BE(0x1234, 0)
  h.writeUInt16BE(flags, 2)
  h.writeUInt16BE(1, 4)
  h.writeUInt16BE(answers.length, 6)
  h.writeUInt16BE(opt ? 1 : 0, 10)
  const q = Buffer.concat([name('mx.example.test'), Buffer.from([0, 1, 0, 1])])
  return Buffer.concat([h, q, ...answers, ...(opt ? [opt] : [])])
}

function rr (owner: Buffer, type: number, ttl: number, rdata: Buffer): Buffer {
  const f = Buffer.alloc(10)
  f.writeUInt16BE(type, 0)
  f.writeUInt16BE(1, 2)
  f.writeUInt32BE(ttl, 4)
  f.writeUInt16BE(rdata.length, 8)
  return Buffer.concat([owner, f, rdata])
}

t.test('the query asks for AD, sets CD only when asked, and carries EDNS0 with DO', async (t) => {
  const q = encodeQuery(7, 'mx.example.test', TYPES.TLSA, false)
  t.equal(q.readUInt16BE(0), 7)
  t.equal(q.readUInt16BE(2), 0x0120, 'RD and AD, no CD')
  t.equal(encodeQuery(7, 'a.test', 1, true).readUInt16BE(2), 0x0130, 'CD set')
  t.equal(q.readUInt16BE(10), 1, 'one additional record: OPT')
  const opt = q.subarray(q.length - 11)
  t.equal(opt.readUInt16BE(1), 41)
  t.equal(opt.readUInt32BE(5) & 0x8000, 0x8000, 'DO bit')
  t.throws(() => encodeQuery(1, `${'a'.repeat(64)}.test`, 1, false), /bad label|too long|ends early/)
  t.throws(() => encodeQuery(1, Array(130).fill('ab').join('.'), 1, false), /bad label|too long|ends early/)
})

t.test('answers: flags, records by type, compression, extended errors', async (t) => {
  const ptr = Buffer.from([0xc0, 12]) // the question's name
  const tlsa = rr(ptr, TYPES.TLSA, 300, Buffer.from([3, 1, 1, 0xab, 0xcd]))
  const a = rr(ptr, TYPES.A, 60, Buffer.from([192, 0, 2, 1]))
  const aaaa = rr(ptr, TYPES.AAAA, 60, Buffer.from([0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]))
  const txt = rr(ptr, TYPES.TXT, 60, Buffer.from([3, 0x61, 0x62, 0x63, 2, 0x64, 0x65]))
  const mx = rr(ptr, TYPES.MX, 60, Buffer.concat([Buffer.from([0, 10]), name('mail.example.test')]))
  const ede = Buffer.from([0, 15, 0, 6, 0, 6, 0x62, 0x61, 0x64, 0x0a])
  const opt = Buffer.concat([Buffer.from([0]), Buffer.from([0, 41, 4, 0xd0, 0, 0, 0x80, 0, 0, ede.length]), ede])
  const ans = decodeAnswer(answer(0x81a2, [tlsa, a, aaaa, txt, mx], opt))
  t.equal(ans.rcodeName, 'SERVFAIL')
  t.ok(ans.flags.qr && ans.flags.ra && ans.flags.ad && !ans.flags.cd)
  t.same(ans.answers.map((r) => r.typeName), ['TLSA', 'A', 'AAAA', 'TXT', 'MX'])
  t.equal(ans.answers[0].name, 'mx.example.test')
  t.same((ans.answers[0].value as any).data, Buffer.from([0xab, 0xcd]))
  t.equal(ans.answers[1].value, '192.0.2.1')
  t.equal(ans.answers[2].value, '2001:db8::1')
  t.same(ans.answers[3].value, ['abc', 'de'])
  t.same(ans.answers[4].value, { priority: 10, exchange: 'mail.example.test' })
  t.same(ans.ede, [{ code: 6, text: 'bad ' }], 'control characters of EXTRA-TEXT are blanked')
  t.equal(edeText(ans.ede), 'DNSSEC Bogus: bad ')
})

t.test('hostile answers are rejected, not looped on', async (t) => {
  const loop = rr(Buffer.from([0xc0, 33]), TYPES.A, 1, Buffer.from([1, 2, 3, 4]))
  t.throws(() => decodeAnswer(answer(0x8180, [loop])), /backwards/)
  const short = answer(0x8180, [rr(Buffer.from([0xc0, 12]), TYPES.A, 1, Buffer.from([1, 2, 3, 4]))])
  t.throws(() => decodeAnswer(short.subarray(0, short.length - 2)), /ends early/)
  t.throws(() => decodeAnswer(Buffer.alloc(5)), /bad label|too long|ends early/)
  const longLabel = Buffer.concat([Buffer.from([64]), Buffer.alloc(64, 0x61), Buffer.from([0])])
  t.throws(() => decodeAnswer(answer(0x8180, [rr(longLabel, 1, 1, Buffer.from([1, 2, 3, 4]))])), /label/)
})

t.test('resolvers: the AD bit is believed from named resolvers and loopback only', async (t) => {
  t.same(parseServer('192.0.2.1', true), { host: '192.0.2.1', port: 53, trusted: true })
  t.same(parseServer('192.0.2.1:5353', false), { host: '192.0.2.1', port: 5353, trusted: false })
  t.same(parseServer('[::1]:53', false), { host: '::1', port: 53, trusted: true })
  t.same(parseServer('127.0.0.53', false), { host: '127.0.0.53', port: 53, trusted: true })
  t.throws(() => parseServer('resolver.example', true))
  const lan = new DnssecClient({ servers: [], systemServers: ['192.168.1.1'] })
  t.notOk(lan.validating)
  const a = await lan.query('example.test', 'A')
  t.equal(a.status, 'unknown', 'a LAN resolver proves nothing: no socket, unknown')
  t.match(a.reason, /DNSSEC_RESOLVERS/)
  t.ok(new DnssecClient({ servers: ['192.0.2.53'] }).validating, 'an operator-named resolver is believed')
})
