import t from 'tap'
import { explainReply, explainEnhanced, explainCode, looksGreylisted, REPLY_CODES, ENHANCED_CODES } from '../../src/smtp/codes.js'
import { ReplyParser } from '../../src/smtp/reply.js'
import { SMTP_ADVICE } from '../../src/i18n/advice/smtp.js'
import { adviceText } from '../../src/i18n/index.js'

const reply = (text: string) => new ReplyParser().push(Buffer.from(text + '\r\n'))[0]

t.test('reply codes and enhanced codes, both languages', async (t) => {
  const e = explainReply(reply('550 5.1.1 <a@b.example>: Recipient address rejected'))
  t.equal(e.code, '550 5.1.1')
  t.equal(e.temporary, false)
  t.match(e.en, /^550: The mailbox is unavailable/)
  t.match(e.en, /5\.1\.1: Permanent failure: Bad destination mailbox address/)
  t.match(e.ja, /5\.1\.1: 恒久的な失敗: 宛先メールボックスのアドレスが不正/)
  t.match(e.ja, /恒久的なエラー/)

  const g = explainReply(reply('450 4.7.1 <a@b.example>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/'))
  t.equal(g.temporary, true)
  t.match(g.en, /greylisting/)
  t.match(g.ja, /グレイリスティング/)
  t.ok(looksGreylisted(reply('451 4.7.1 Please try again later')))
  t.notOk(looksGreylisted(reply('452 4.3.1 Insufficient system storage')))
  t.match(explainReply(reply('452 4.3.1 Insufficient system storage')).en, /temporary: a sending server keeps the message/)

  t.match(explainEnhanced('5.7.99')![0], /Permanent failure, security or policy status \(detail 99 is not registered\)/)
  t.match(explainEnhanced('4.9.1')![0], /^Persistent transient failure/)
  t.equal(explainEnhanced('5.1'), null)
  t.match(explainCode(599)[0], /Permanent negative/)
  t.match(explainCode(299)[1], /正常/)
  t.equal(explainReply(reply('250 ok')).temporary, false)
  t.equal(reply('550 4.1.1 wrong class').enhanced, null, 'an enhanced code of another class is not one')

  for (const [k, [en, ja]] of [...Object.entries(REPLY_CODES), ...Object.entries(ENHANCED_CODES)]) {
    t.ok(en.length > 5 && ja.length > 3 && /[぀-ヿ一-鿿]/.test(ja), `${k} has both texts`)
  }
})

t.test('every SMTP advice text renders in both languages with its parameters', async (t) => {
  const p = { stage: 'rcpt', reply: '550 5.1.1 x', en: 'E', ja: 'J', helo: 'probe.example', address: 'a@b.example', domain: 'b.example', from: 'x@y.example', reason: 'r', subject: 's', host: 'mx.b.example', validTo: '2026-01-01', days: 3, names: ['n.example'], banner: 'mx', ip: '192.0.2.1', ptr: 'p.example', size: 1000, mb: 0.1, command: 15, what: 'refused' }
  for (const code of Object.keys(SMTP_ADVICE)) {
    for (const lang of ['en', 'ja'] as const) {
      const text = adviceText(code, lang, p)
      t.notMatch(text, /undefined|\[object/, `${code} ${lang}`)
    }
  }
})
