// The fix-first list: ordered as an expert fixes a home server, one entry per cause.
import t from 'tap'
import { fixFirst, classify } from '../../src/checks/fix-order.js'
import { adviceText, adviceCodes } from '../../src/i18n/index.js'
import { stepTitle } from '../../src/i18n/steps.js'

const adv = (code: string, params: Record<string, unknown> = {}) => ({ code, params, message: adviceText(code, 'en', params), ja: adviceText(code, 'ja', params), en: adviceText(code, 'en', params) })
const rep = (type: string, ...advice: any[]) => ({ id: `id-${type}`, type, status: 'fail' as const, advice })

t.test('DNS, then reachability, then the server, then mailboxes and relay', async (t) => {
  const list = fixFirst([
    rep('relay', adv('relay.open', { mailFrom: 'a@b', rcptTo: 'c@d', id: 'r1' })),
    rep('roles', adv('roles.required_missing', { address: 'abuse@x.jp', reply: '550', rfc: 'RFC 2142', local: 'abuse' })),
    rep('smtp', adv('smtp.no_starttls'), adv('smtp.cert_expired', { validTo: '2020-01-01' }), adv('smtp.short_deadlines', { banner: 1, command: 1, total: 1 })),
    rep('ports', adv('ports.filtered_25', { port: 25, ip: '203.0.113.9' }), adv('ports.others_closed', { ports: '110', refused: '110', filtered: '', ip: '203.0.113.9' })),
    rep('dns', adv('dns.mx_private', { host: 'mx.x.jp', ip: '192.168.1.2', kind: 'private/LAN', range: '192.168.0.0/16' }), adv('dns.ptr_missing', { ip: '203.0.113.9' }))
  ], 'ja')
  t.same(list.map((x) => x.code), ['dns.mx_private', 'ports.filtered_25', 'smtp.cert_expired', 'smtp.no_starttls', 'dns.ptr_missing', 'relay.open', 'roles.required_missing'])
  t.equal(list[0].check, 'dns')
  t.equal(list[0].id, 'id-dns')
  t.match(list[0].message, /192\.168\.1\.2/)
  t.match(list[0].message, /ルーター/, 'in the asked language')
})

t.test('one entry per cause: port 25 unreachable seen by five checks is one paragraph', async (t) => {
  const list = fixFirst([
    rep('smtp', adv('smtp.unreachable_checklist', { ip: '203.0.113.9', what: 'no answer' }), adv('net.timeout', { ip: '203.0.113.9', port: 25 })),
    rep('receive', adv('smtp.unreachable_checklist', { ip: '203.0.113.9', what: 'no answer' }), adv('net.timeout', { ip: '203.0.113.9', port: 25 })),
    rep('roles', adv('net.timeout', { ip: '203.0.113.9', port: 25 })),
    rep('relay', adv('net.timeout', { ip: '203.0.113.9', port: 25 })),
    rep('ports', adv('ports.filtered_25', { port: 25, ip: '203.0.113.9' }))
  ], 'en')
  t.same(list.map((x) => [x.check, x.code]), [['ports', 'ports.filtered_25']], 'the ports check words it best')
})

t.test('an open relay found by many vectors is one entry', async (t) => {
  const list = fixFirst([rep('relay',
    adv('relay.open', { mailFrom: 'a@b', rcptTo: 'c@d', id: 'r1' }),
    adv('relay.open', { mailFrom: 'e@f', rcptTo: 'g@h', id: 'r2' }),
    adv('relay.open_trick', { rcptTo: 'x%y@z', id: 'r9', outside: 'o.test' }))], 'en')
  t.same(list.map((x) => x.code), ['relay.open'])
})

t.test('notes are no findings; unknown codes of other areas still find their place', async (t) => {
  t.equal(classify({ code: 'smtp.short_deadlines' }), null)
  t.equal(classify({ code: 'relay.closed' }), null)
  t.equal(classify({ code: 'ports.others_closed' }), null)
  t.ok(classify({ code: 'receive.some_new_code' })!.rank > classify({ code: 'smtp.no_starttls' })!.rank)
  t.ok(classify({ code: 'dns.something_new' })!.rank < classify({ code: 'ports.filtered_25', params: { port: 25 } })!.rank)
  // Every advice code is either a finding with a rank or a known note.
  for (const code of adviceCodes()) {
    const k = classify({ code, params: { port: 25 } })
    if (k) t.ok(Number.isFinite(k.rank), code)
  }
})

t.test('every step a check writes has a Japanese title', async (t) => {
  const names = ['mx', 'address mx.example.jp', 'caller ip', 'ptr', 'port 25 (SMTP)', 'port 465 (SMTPS (submission over TLS))', 'deadlines', 'connect', 'banner', 'banner name',
    'ehlo', 'ehlo (tls)', 'helo', 'starttls', 'tls', 'certificate', 'size', 'PIPELINING', '8BITMIME', 'SMTPUTF8', 'smtputf8', 'mail from', 'MAIL FROM', 'mail', 'rcpt', 'data',
    'end of data', 'dialogue', 'postmaster', 'quit', 'relay r07', 'authentication', 'battery', '<postmaster@example.jp>', '<postmaster>', 'greeting 110', 'capabilities 110',
    'capabilities 110 after STLS', 'login before TLS', 'STLS', 'certificate 995', 'QUIT 110', 'port 110', 'login', 'child dns', 'child relay', 'hop 1', 'candidate 2']
  for (const n of names) {
    const ja = stepTitle(n, 'ja')
    t.ok(/[\u3040-\u30ff\u4e00-\u9fff]/.test(ja) || /^[A-Z0-9 ()]+$/.test(ja), `${n} → ${ja}`)
    t.notMatch(ja, /\b(submission|over|after|before|required|recommended)\b/, `${n}: no English words in ${ja}`)
    t.ok(stepTitle(n, 'en').length > 0)
  }
})
