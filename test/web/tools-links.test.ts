// The test page leads to the forensics tools, and a saved tool result
// opened at /r/:id lands on the tools' own result page.
import t from 'tap'
import { testApp, randomLoopback } from '../helpers.js'

t.test('tools are reachable from the test page and from /r/:id', async (t) => {
  const app = await testApp({})
  t.teardown(() => app.close())
  const caller = randomLoopback()
  for (const lang of ['ja', 'en']) {
    const page = await app.inject({ url: `/?lang=${lang}`, remoteAddress: caller })
    t.equal(page.statusCode, 200)
    t.match(page.body, `href="/tools/headers?lang=${lang}"`)
    t.match(page.body, `href="/tools/mojibake?lang=${lang}"`)
  }
  const saved = await app.inject({ method: 'POST', url: '/api/v1/tools/mojibake?save=1', payload: { text: '譁・ｭ怜喧縺' }, remoteAddress: caller })
  t.equal(saved.statusCode, 200)
  const id = saved.json().saved?.id
  t.ok(id, 'a saved repair has an id')
  const r = await app.inject({ url: `/r/${id}?lang=en`, remoteAddress: caller })
  t.equal(r.statusCode, 303)
  t.equal(r.headers.location, `/tools/r/${id}?lang=en`)
  const page = await app.inject({ url: r.headers.location as string, remoteAddress: caller })
  t.equal(page.statusCode, 200)
})
