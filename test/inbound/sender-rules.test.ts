// The big receivers' checklist (src/inbound/sender-rules.ts) judged on findings
// built here, without sockets: a home server that meets every rule for every
// sender, one that fails the usual ones, a stopped analysis, ARC, and the
// dated data file it reads.
import t from 'tap'
import { senderRules, judgeRule, scoreLine, rulesStepDetail, type RuleFacts } from '../../src/inbound/sender-rules.js'
import { SENDER_RULES } from '../../src/inbound/sender-rules-data.js'
import { senderRulesText } from '../../src/i18n/sender-rules.js'

const good: RuleFacts = {
  connectingIp: '192.0.2.10',
  ptr: 'mail.home.test',
  fcrdns: true,
  helo: 'mail.home.test',
  heloFqdn: true,
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  spf: { result: 'pass', domain: 'home.test' },
  dkim: [{ result: 'pass', domain: 'home.test', selector: 's', aligned: true }],
  dmarc: { result: 'pass', policy: 'none', domain: 'home.test' },
  arc: null,
  format: { messageId: true, date: true, from: true, fromDomain: 'home.test', listUnsubscribe: false, oneClick: false },
  dnsbl: [{ zone: 'bl.test', listed: false, answer: null, reason: null, dynamic: false }],
  stopped: false
}

t.test('the data names its date and its sources, and the counts it scores', async (t) => {
  t.match(SENDER_RULES.asOf, /^\d{4}-\d{2}-\d{2}$/)
  const gmail = SENDER_RULES.receivers.find((r) => r.id === 'gmail')!
  const yahoo = SENDER_RULES.receivers.find((r) => r.id === 'yahoo')!
  t.ok(gmail.sources.some((s) => s.startsWith('https://support.google.com/')), 'Google\'s sender guidelines')
  t.ok(yahoo.sources.some((s) => s.startsWith('https://senders.yahooinc.com/')), 'Yahoo\'s sender requirements')
  t.same(gmail.rules.filter((r) => r.scope === 'all').map((r) => r.rule), ['ptr', 'auth', 'tls', 'format', 'not_gmail_from', 'dnsbl', 'arc'])
  t.same(yahoo.rules.filter((r) => r.scope === 'bulk').map((r) => r.rule), ['spf_and_dkim', 'dmarc', 'dmarc_aligned', 'one_click'])
  for (const lang of ['ja', 'en'] as const) {
    for (const r of SENDER_RULES.receivers.flatMap((x) => x.rules)) t.ok(senderRulesText(lang).title[r.rule], `${lang} title of ${r.rule}`)
  }
})

t.test('a server that meets every rule for every sender: Gmail 6/6, Yahoo 5/5', async (t) => {
  const v = senderRules(good, 'en')
  t.equal(scoreLine(v), 'Gmail 6/6, Yahoo 5/5', 'ARC does not count without a chain')
  t.equal(scoreLine(v, 'bulk'), 'Gmail 3/4, Yahoo 3/4', 'one-click unsubscribe is the bulk rule a personal mail lacks')
  const gmail = v.receivers[0]
  t.same(gmail.rules.map((r) => r.rule).slice(-4), ['one_click', 'spf_and_dkim', 'dmarc', 'dmarc_aligned'], 'bulk rules last, the unmet one first among them')
  t.match(gmail.rules.find((r) => r.rule === 'one_click')?.reason, /only needed if you send bulk mail/)
  t.notMatch(rulesStepDetail(v, 'en'), /Not met/)
})

t.test('the usual home-server faults, each unmet with its reason, unmet first', async (t) => {
  const bad: RuleFacts = {
    ...good,
    ptr: null,
    fcrdns: null,
    tls: null,
    helo: 'localhost',
    heloFqdn: false,
    spf: { result: 'softfail', domain: 'home.test' },
    dkim: [],
    dmarc: { result: 'none', policy: null, domain: null },
    format: { ...good.format!, messageId: false, fromDomain: 'gmail.com' },
    dnsbl: [{ zone: 'pbl.test', listed: true, answer: '127.0.0.10', reason: 'dynamic', dynamic: true }]
  }
  const v = senderRules(bad, 'en')
  t.equal(scoreLine(v), 'Gmail 0/6, Yahoo 0/5')
  const gmail = v.receivers[0]
  t.same(gmail.rules.filter((r) => r.met === false && r.scope === 'all').map((r) => r.rule), ['ptr', 'auth', 'tls', 'format', 'not_gmail_from', 'dnsbl'])
  const why = Object.fromEntries(gmail.rules.map((r) => [r.rule, r.reason]))
  t.equal(why.ptr, '192.0.2.10 has no PTR record')
  t.equal(why.auth, 'neither passes (SPF softfail, DKIM none)')
  t.equal(why.format, 'missing or malformed: Message-ID')
  t.match(why.not_gmail_from, /gmail\.com/)
  t.equal(why.dnsbl, 'listed in pbl.test')
  t.match(v.receivers[1].rules.find((r) => r.rule === 'helo')?.reason, /"localhost" is not a fully qualified name/)
  t.match(rulesStepDetail(v, 'en'), /^Gmail 0\/6, Yahoo 0\/5\. Bulk senders' extra rules: Gmail 0\/4, Yahoo 0\/4\. Not met: Reverse DNS/)
  const ja = senderRules(bad, 'ja')
  t.equal(ja.receivers[0].rules[0].reason, '192.0.2.10 に逆引きがありません')
  t.match(rulesStepDetail(ja, 'ja'), /^Gmail 0\/6、Yahoo 0\/5|^Gmail 0\/6, Yahoo 0\/5。大量送信者向けの追加ルール/)
})

t.test('a PTR that does not resolve back fails the rule; a generic one meets it', async (t) => {
  t.same(judgeRule('ptr', { ...good, fcrdns: false })?.met, false)
  t.same(judgeRule('ptr', { ...good, ptr: 'p123-ipngn.example.ne.jp' })?.met, true, 'the rule asks forward and reverse to agree, nothing more')
})

t.test('a stopped analysis leaves the message rules unchecked, not unmet, and out of the score', async (t) => {
  const stopped: RuleFacts = { ...good, stopped: true, dkim: [], spf: { result: 'fail', domain: 'home.test' }, format: null, dmarc: { result: 'temperror', policy: null, domain: null } }
  const v = senderRules(stopped, 'en')
  const gmail = v.receivers[0]
  t.same(gmail.rules.filter((r) => r.scope === 'all' && r.met === null).map((r) => r.rule).sort(), ['auth', 'format', 'not_gmail_from'])
  t.equal(`${gmail.met}/${gmail.of}`, '3/3', 'PTR, TLS and DNSBL are still judged')
  t.equal(gmail.rules.find((r) => r.rule === 'auth')?.reason, 'not checked: the analysis was stopped')
})

t.test('no block lists configured: the DNSBL rule is not checked', async (t) => {
  t.same(judgeRule('dnsbl', { ...good, dnsbl: [] }), { met: null, key: 'no_lists' })
})

t.test('ARC counts only when the mail carries a chain', async (t) => {
  t.equal(judgeRule('arc', good), null)
  t.equal(judgeRule('arc', { ...good, arc: { result: 'pass', sets: 1, i: 1 } })?.met, true)
  t.equal(judgeRule('arc', { ...good, arc: { result: 'fail', sets: 2, i: 2, reason: 'i=2 seal did not verify' } })?.met, false)
  t.equal(judgeRule('arc', { ...good, arc: { result: 'not_checked', sets: 9, i: null } })?.met, null, 'dropped by the bounds')
  t.equal(scoreLine(senderRules({ ...good, arc: { result: 'fail', sets: 1, i: 1 } }, 'en')), 'Gmail 6/7, Yahoo 5/5')
})

t.test('one-click unsubscribe: present, List-Unsubscribe alone, absent', async (t) => {
  t.equal(judgeRule('one_click', { ...good, format: { ...good.format!, listUnsubscribe: true, oneClick: true } })?.met, true)
  const half = judgeRule('one_click', { ...good, format: { ...good.format!, listUnsubscribe: true } })
  t.same(half, { met: false, key: 'one_click_none', p: { listUnsubscribe: 'yes' } })
})
