// The fix-first list: ordered as an expert fixes a home server, one entry per cause.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fixFirst, classify, declarationOf, worstInWords, FIX_ORDER, STAGES } from '../../src/checks/fix-order.js'
import { renderFixOrderDoc } from '../../src/checks/fix-order-doc.js'
import { causeWords } from '../../src/i18n/fix-order.js'
import { adviceText, adviceCodes } from '../../src/i18n/index.js'
import { stepTitle } from '../../src/i18n/steps.js'

const adv = (code: string, params: Record<string, unknown> = {}) => ({ code, params, message: adviceText(code, 'en', params), ja: adviceText(code, 'ja', params), en: adviceText(code, 'en', params) })
const rep = (type: string, ...advice: any[]) => ({ id: `id-${type}`, type, status: 'fail' as const, advice })

t.test('worst harm first; inside a level DNS, reachability, server, mailboxes', async (t) => {
  const list = fixFirst([
    rep('relay', adv('relay.open', { mailFrom: 'a@b', rcptTo: 'c@d', id: 'r1' })),
    rep('roles', adv('roles.required_missing', { address: 'abuse@x.jp', reply: '550', rfc: 'RFC 2142', local: 'abuse' })),
    rep('smtp', adv('smtp.no_starttls'), adv('smtp.cert_expired', { validTo: '2020-01-01' }), adv('smtp.short_deadlines', { banner: 1, command: 1, total: 1 })),
    rep('ports', adv('ports.filtered_25', { port: 25, ip: '203.0.113.9' }), adv('ports.others_closed', { ports: '110', refused: '110', filtered: '', ip: '203.0.113.9' })),
    rep('dns', adv('dns.mx_private', { host: 'mx.x.jp', ip: '192.168.1.2', kind: 'private/LAN', range: '192.168.0.0/16' }), adv('dns.ptr_missing', { ip: '203.0.113.9' }))
  ], 'ja')
  t.same(list.map((x) => x.code), ['relay.open', 'dns.mx_private', 'ports.filtered_25', 'roles.required_missing', 'dns.ptr_missing', 'smtp.cert_expired', 'smtp.no_starttls'])
  t.same(list.map((x) => x.level), [1, 2, 2, 2, 3, 3, 4])
  t.equal(list[1].check, 'dns')
  t.equal(list[1].id, 'id-dns')
  t.match(list[1].message, /192\.168\.1\.2/)
  t.match(list[1].message, /ルーター/, 'in the asked language')
  t.equal(list[1].cause, 'MX に LAN 内のアドレスが登録されています')
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

t.test('every advice code declares its level and stage, or that it is a note; no declaration is stale', async (t) => {
  // Load every area that registers advice, so adviceCodes() is the whole catalogue.
  // Every module of the folders where advice is registered (workers excepted: they run as threads).
  const { readdirSync } = await import('node:fs')
  for (const dir of ['checks', 'inbound', 'tools', 'i18n', 'i18n/advice', 'web']) {
    for (const f of readdirSync(new URL(`../../src/${dir}/`, import.meta.url))) {
      if (f.endsWith('.ts') && !f.endsWith('.d.ts') && !/worker/.test(f)) await import(`../../src/${dir}/${f.replace(/\.ts$/, '.js')}`)
    }
  }
  const codes = adviceCodes()
  t.ok(codes.length > 100, `${codes.length} codes loaded`)
  const undeclared = codes.filter((c) => declarationOf(c) === undefined)
  t.same(undeclared, [], 'declare new codes in FIX_ORDER (src/checks/fix-order.ts), then npm run docs:fix-order')
  const stale = Object.keys(FIX_ORDER).filter((k) => !k.endsWith('.*') && !codes.includes(k))
  t.same(stale, [], 'every declaration names a code that exists')
  for (const [code, d] of Object.entries(FIX_ORDER)) {
    if ('note' in d) { t.ok(d.note.length > 5, `${code}: a note says why`); continue }
    t.ok([1, 2, 3, 4].includes(d.level) && STAGES.includes(d.stage), `${code}: level ${d.level}, stage ${d.stage}`)
    t.ok(causeWords(d.cause, 'ja', { port: 25 }).length > 0 && causeWords(d.cause, 'en', { port: 25 }).length > 0)
  }
  t.equal(classify({ code: 'smtp.short_deadlines' }), null)
  t.equal(classify({ code: 'relay.closed' }), null)
  t.equal(classify({ code: 'ports.others_closed' }), null)
  t.equal(classify({ code: 'tools.headers.no_dkim' }), null)
})

t.test('docs/FIX-ORDER.md is the table the declarations render', async (t) => {
  const file = readFileSync(new URL('../../docs/FIX-ORDER.md', import.meta.url), 'utf8')
  t.equal(file, renderFixOrderDoc(), 'run npm run docs:fix-order')
  t.match(file, /`relay\.open` \| Your server is an open relay \| 第三者中継になっています/)
})

t.test('harm first: the pairs that matter', async (t) => {
  const order = (...advice: Array<[string, string, Record<string, unknown>?]>) =>
    fixFirst(advice.map(([type, code, params]) => rep(type, adv(code, params ?? {}))), 'ja').map((x) => x.code)
  const cert = (code: string) => ['smtp', code, { subject: 'CN=x', host: 'mx.x.jp', validTo: '2020-01-01', reason: 'r', names: ['a'], days: 3 }] as [string, string, Record<string, unknown>]
  const relay: [string, string, Record<string, unknown>] = ['relay', 'relay.open', { mailFrom: 'a@b', rcptTo: 'c@d', id: 'r1', count: 1, example: 'x' }]
  const postmaster: [string, string, Record<string, unknown>] = ['roles', 'roles.required_missing', { address: 'postmaster@x.jp', reply: '550', rfc: 'RFC 5321', local: 'postmaster' }]
  const filtered: [string, string, Record<string, unknown>] = ['ports', 'ports.filtered_25', { port: 25, ip: '203.0.113.9' }]
  const mxPrivate: [string, string, Record<string, unknown>] = ['dns', 'dns.mx_private', { host: 'mx.x.jp', ip: '192.168.1.2', kind: 'private', range: '192.168.0.0/16' }]
  // The review's two cases: an open relay, and a refused postmaster@, each below certificate warnings.
  t.same(order(cert('smtp.cert_self_signed'), cert('smtp.cert_name_mismatch'), relay), ['relay.open', 'smtp.cert_name_mismatch', 'smtp.cert_self_signed'], 'open relay before cert warnings')
  t.same(order(cert('smtp.cert_self_signed'), cert('smtp.cert_expired'), postmaster)[0], 'roles.required_missing', 'refused postmaster@ before cert warnings')
  t.same(order(cert('smtp.cert_untrusted'), ['smtp', 'smtp.postmaster_refused', { reply: '550' }])[0], 'smtp.postmaster_refused')
  t.same(order(mxPrivate, relay)[0], 'relay.open', 'harming others outranks a broken MX')
  t.same(order(filtered, relay)[0], 'relay.open')
  t.same(order(postmaster, filtered, mxPrivate), ['dns.mx_private', 'ports.filtered_25', 'roles.required_missing'], 'inside "stops mail": DNS, reachability, mailboxes')
  t.same(order(['smtp', 'smtp.rcpt_refused', { address: 'u@x.jp', reply: '554', domain: 'x.jp' }], cert('smtp.cert_expired'))[0], 'smtp.rcpt_refused', 'a refused recipient before an expired certificate')
  t.same(order(['send', 'send.ptr_generic', { ip: '203.0.113.9', ptr: 'p1.isp.jp' }], cert('smtp.cert_self_signed'))[0], 'send.ptr_generic', 'receivers junking mail before a warning')
  t.same(order(['send', 'send.spf_none', { domain: 'x.jp' }], filtered)[0], 'ports.filtered_25', 'mail not arriving before SPF')
  // A port other than 25 is a warning of its own; port 25 stops mail.
  const p587 = classify({ code: 'ports.refused', params: { port: 587, ip: '203.0.113.9' } })!
  const p25 = classify({ code: 'ports.refused', params: { port: 25, ip: '203.0.113.9' } })!
  t.equal(p587.level, 4)
  t.equal(p25.level, 2)
  t.not(p587.cause, p25.cause)
  // The same relay on both families is one cause.
  t.equal(classify({ code: 'relay.open', params: { family: 'ipv4' } })!.cause, classify({ code: 'relay.open', params: { family: 'ipv6' } })!.cause)
})

t.test('the headline names the worst cause in words, never a check', async (t) => {
  const list = fixFirst([rep('smtp', adv('smtp.cert_self_signed', { subject: 'CN=x', host: 'mx.x.jp' })), rep('relay', adv('relay.open', { mailFrom: 'a@b', rcptTo: 'c@d', id: 'r1', count: 2, example: 'x' }))], 'ja')
  t.equal(worstInWords(list[0], 'ja'), '第三者中継になっています。すぐに直してください。')
  t.equal(list[0].level, 1)
  t.equal(list[0].stage, 'server')
  const en = fixFirst([rep('dns', adv('dns.mx_private', { host: 'mx.x.jp', ip: '192.168.1.2', kind: 'private', range: '192.168.0.0/16' }))], 'en')
  t.equal(worstInWords(en[0], 'en'), 'The MX points to a LAN address. Mail cannot get through: fix this first.')
  t.equal(worstInWords(undefined, 'ja'), '')
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
