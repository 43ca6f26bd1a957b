// GET /api/v1/checks/:id with Accept: text/plain: the forum text, for a
// server admin who tests from an SSH session with curl.
import t from 'tap'
import { testApp, randomLoopback } from '../helpers.js'
import { ReportBuilder } from '../../src/core/report.js'

t.test('a stored report as plain text', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const home = randomLoopback()
  const b = new ReportBuilder('smtp', home, 'ja')
  b.target({ domain: 'home.example', host: 'mx.home.example', ip: home })
  b.line('S', '220 mx.home.example ESMTP')
  b.step('banner', 'pass', '挨拶を受け取りました', 12)
  b.advise('dns.ptr_missing', { ip: home })
  b.finish('逆引きがありません')
  await app.mx.store.saveReport(b.report, 600)
  const id = b.report.id

  const json = await app.inject({ method: 'GET', url: `/api/v1/checks/${id}` })
  t.match(json.headers['content-type'], /application\/json/, 'JSON stays the default')
  t.equal(json.json().id, id)
  const browser = await app.inject({ method: 'GET', url: `/api/v1/checks/${id}`, headers: { accept: 'application/json, text/plain, */*' } })
  t.match(browser.headers['content-type'], /application\/json/, 'JSON listed first wins')

  const text = await app.inject({ method: 'GET', url: `/api/v1/checks/${id}`, headers: { accept: 'text/plain', host: 'mxprobe.example' } })
  t.equal(text.statusCode, 200)
  t.match(text.headers['content-type'], /^text\/plain; charset=utf-8/)
  t.match(text.body, '220 mx.home.example ESMTP', 'the transcript is in it')
  t.match(text.body, '逆引きがありません', 'in the report\'s own language when none is asked for')
  t.match(text.body, `/r/${id}`, 'with the page\'s address')
  t.notOk(text.body.trimStart().startsWith('{'), 'not JSON')

  const en = await app.inject({ method: 'GET', url: `/api/v1/checks/${id}?lang=en`, headers: { accept: 'text/plain' } })
  t.match(text.body, '固定 IP の契約', 'advice in Japanese by default')
  t.match(en.body, 'needs a fixed-IP plan', 'advice in the language asked for')
  t.notMatch(en.body, '固定 IP の契約', 'and only in it')

  const missing = await app.inject({ method: 'GET', url: '/api/v1/checks/AAAAAAAAAAAAAAAA', headers: { accept: 'text/plain' } })
  t.equal(missing.statusCode, 404)
  t.match(missing.headers['content-type'], /^text\/plain/)
  t.match(missing.body, /^not_found: /, 'an error as one line of text')

  const run = new ReportBuilder('smtp', home, 'en')
  await app.mx.store.saveReport(run.report, 600)
  const running = await app.inject({ method: 'GET', url: `/api/v1/checks/${run.report.id}`, headers: { accept: 'text/plain' } })
  t.equal(running.statusCode, 409, 'a running report has no forum text yet')
  t.equal(running.headers['retry-after'], '2')
  t.match(running.body, /still running/)
})
