// Forgiving input: what people paste into a domain or target field.
import t from 'tap'
import { understandTarget, understoodText } from '../../src/checks/target-input.js'
import { errorText } from '../../src/i18n/errors.js'
import { BadInputError } from '../../src/errors.js'

t.test('a domain, an address, a URL: the domain is taken out', async (t) => {
  const cases: Array<[string, string, string, string | null]> = [
    ['example.jp', 'domain', 'example.jp', null],
    ['Example.JP.', 'domain', 'example.jp', null],
    ['taro@example.jp', 'address', 'example.jp', 'taro@example.jp'],
    ['Taro Yamada <taro@example.jp>', 'address', 'example.jp', 'taro@example.jp'],
    ['mailto:hanako@example.jp?subject=hi', 'address', 'example.jp', 'hanako@example.jp'],
    ['https://www.example.jp/blog/?p=1', 'url', 'example.jp', null],
    ['http://mail.example.jp:8080', 'url', 'mail.example.jp', null],
    ['example.jp/contact', 'url', 'example.jp', null],
    ['例え.テスト', 'domain', 'xn--r8jz45g.xn--zckzah', null],
    ['https://例え.テスト/', 'url', 'xn--r8jz45g.xn--zckzah', null]
  ]
  for (const [input, kind, domain, address] of cases) {
    const u = understandTarget(input)
    t.equal(u.kind, kind, `${input}: ${kind}`)
    t.equal(u.domain.ascii, domain, `${input}: ${domain}`)
    t.equal(u.address?.address ?? null, address, `${input}: address`)
  }
})

t.test('still refused: control characters, IP addresses, nonsense', async (t) => {
  for (const bad of ['exa\r\nmple.jp', 'taro@exa\nmple.jp', '192.0.2.1', '::1', '[::1]', 'http://192.0.2.1/', 'http://', 'taro@', 'no-dot', '']) {
    let err: unknown = null
    try { understandTarget(bad) } catch (e) { err = e }
    t.ok(err instanceof BadInputError, `${JSON.stringify(bad)}: ${(err as Error)?.message}`)
  }
})

t.test('the note says what was taken, in the report language', async (t) => {
  const u = understandTarget('https://www.example.jp/')
  t.match(understoodText('ja', u), /URL なので、ホスト名 example\.jp/)
  t.match(understoodText('en', u), /is a URL: testing its host name example\.jp/)
  t.match(understoodText('ja', understandTarget('taro@example.jp')), /メールアドレスなので、ドメイン example\.jp/)
})

t.test('validation messages in Japanese', async (t) => {
  t.equal(errorText('en', 'domain is empty'), 'domain is empty')
  t.equal(errorText('ja', 'domain is empty'), 'domain が空です。')
  t.match(errorText('ja', 'domain contains a control character (CR)'), /制御文字 \(CR\)/)
  t.match(errorText('ja', 'domain must be a domain name, not an IP address'), /IP アドレスではなくドメイン名/)
  t.match(errorText('ja', "body must have required property 'target'"), /必須の項目 target/)
  t.match(errorText('ja', 'port 22 is not a mail port mxprobe tests (allowed: 25, 110)'), /ポート 22 は/)
  t.equal(errorText('ja', 'すでに日本語'), 'すでに日本語')
  t.match(errorText('ja', 'something new'), /^入力に誤りがあります: something new$/)
  // Every message the validators throw gets a Japanese sentence (not the fallback).
  for (const bad of ['exa\rmple.jp', '192.0.2.1', 'a b.jp', 'example.123', 'no-dot', 'a..jp', `${'a'.repeat(64)}.jp`, 'ex_ample.jp', 'taro@', '"q"@example.jp', '<taro@example.jp', 'http://']) {
    try {
      understandTarget(bad, 'domain')
      t.fail(`${bad} accepted`)
    } catch (err) {
      t.notMatch(errorText('ja', (err as Error).message), /入力に誤りがあります/, `${JSON.stringify(bad)}: ${(err as Error).message}`)
    }
  }
})
