// The test page with IPV4_ORIGIN / IPV6_ORIGIN: hidden proofs fields in
// every form, "Your IPv4 / IPv6" side by side, the two origins in the page
// (escaped) and in its connect-src; without them, the page as it was.
import t from 'tap'
import { testApp, randomLoopback } from '../helpers.js'
import { formToBody } from '../../routes/web.js'

const V4 = 'https://v4.mxprobe.test'
const V6 = 'https://v6.mxprobe.test:8443'

t.test('with both origins: proof fields in every form, both families, the origins in connect-src', async (t) => {
  const app = await testApp({ IPV4_ORIGIN: V4, IPV6_ORIGIN: V6 })
  t.teardown(() => app.close())
  const ip = randomLoopback()
  for (const lang of ['ja', 'en'] as const) {
    const res = await app.inject({ url: `/?lang=${lang}`, remoteAddress: ip })
    t.equal(res.statusCode, 200)
    const csp = String(res.headers['content-security-policy'])
    t.match(csp, `connect-src 'self' ${V4} ${V6};`, 'the page may ask the two origins, nothing else')
    t.match(csp, "script-src 'self';", 'the rest of the policy as strict as before')
    const body = res.body
    const forms = body.match(/<form [^>]*method="post"[^>]*>[\s\S]*?<\/form>/g) ?? []
    t.equal(forms.length, 8, 'the diagnosis and the seven checks')
    for (const f of forms) {
      t.match(f, '<input type="hidden" name="proofs" value="" data-family="4"><input type="hidden" name="proofs" value="" data-family="6">', 'one hidden proofs field per family, empty until the script fills it')
    }
    t.match(body, `data-origin="${V4}"`)
    t.match(body, `data-origin="${V6}"`)
    if (lang === 'ja') {
      t.match(body, /<h3 id="families-title">あなたの IPv4 \/ IPv6<\/h3>/)
      t.match(body, /<dt>あなたの IPv4<\/dt><dd [^>]*id="caller-ip4"[^>]*data-state="checking">確認中…<\/dd>/)
      t.match(body, /<dt>あなたの IPv6<\/dt><dd [^>]*id="caller-ip6"/)
      t.match(body, /IPv6 なし/, 'the script\'s words for a family that does not answer are on the page')
    } else {
      t.match(body, /<h3 id="families-title">Your IPv4 \/ IPv6<\/h3>/)
      t.match(body, /<dt>Your IPv6<\/dt>/)
      t.match(body, /no IPv6/)
    }
    t.notOk(/"proof":|name="proofs" value="[^"]/.test(body), 'the server never puts a proof into a page')
  }
})

t.test('one origin only: the other family says plainly that it has none', async (t) => {
  const app = await testApp({ IPV4_ORIGIN: V4 })
  t.teardown(() => app.close())
  const v6 = await app.inject({ url: '/?lang=ja', remoteAddress: 'fd00:6d78:1:2::9' })
  t.match(v6.body, /id="caller-ip6"[^>]*data-state="connection">fd00:6d78:1:2::9<\/dd>/, 'the connection\'s own family is known at once')
  t.match(v6.body, /id="caller-ip4"[^>]*data-origin="https:\/\/v4\.mxprobe\.test"[^>]*data-state="checking"/)
  const v4 = await app.inject({ url: '/?lang=en', remoteAddress: randomLoopback() })
  t.match(v4.body, /id="caller-ip6"[^>]*data-origin=""[^>]*data-state="none">no IPv6<\/dd>/)
  t.match(String(v4.headers['content-security-policy']), `connect-src 'self' ${V4};`)
})

t.test('an origin is written into the page escaped', async (t) => {
  // Config accepts only origins, so nothing dangerous can get there; the page escapes all the same.
  const app = await testApp({ IPV4_ORIGIN: 'https://v4.mxprobe.test' })
  t.teardown(() => app.close())
  app.mx.config.check.origins = { 4: 'https://x.test/"><script>alert(1)</script>' }
  const res = await app.inject({ url: '/?lang=en', remoteAddress: randomLoopback() })
  t.notOk(res.body.includes('<script>alert(1)'), 'escaped')
  t.match(res.body, /data-origin="https:\/\/x\.test\/&quot;&gt;&lt;script&gt;/)
})

t.test('without origins: the page as it was', async (t) => {
  const app = await testApp({})
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/?lang=ja', remoteAddress: randomLoopback() })
  t.notOk(res.body.includes('name="proofs"'), 'no proof fields')
  t.notOk(res.body.includes('families-title'))
  t.match(String(res.headers['content-security-policy']), "connect-src 'self';")
})

t.test('the form body: filled proofs fields become the list, empty ones are left out', async (t) => {
  t.same(formToBody('dns', { domain: ' home.test ', proofs: ['abc', ''] }), { domain: 'home.test', proofs: ['abc'] })
  t.same(formToBody('all', { target: 'home.test', proofs: ' xyz ' }), { target: 'home.test', proofs: ['xyz'] })
  t.same(formToBody('ports', { proofs: ['', ''] }), { ports: [25, 110, 143, 465, 587, 993, 995] })
  t.same(formToBody('smtp', { domain: 'home.test' }), { domain: 'home.test' })
})
