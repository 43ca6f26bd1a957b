// The one diagnosis against real parts: dns2 on loopback, an smtp-server
// fixture as the home mail server, the app over inject and over real HTTP
// (for the event stream).
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startDns, publishMx, type DnsFixture } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { SseParser } from '../fixtures/sse.js'
import { testApp, randomLoopback, reportModelErrors } from '../helpers.js'

const USERS = ['postmaster', 'abuse', 'webmaster', 'hostmaster', 'noc', 'security', 'ftp', 'taro']
const TYPES = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls', 'pop3']
const many = TYPES.map((x) => `${x}=1000/600`).join(',')
const ENV = { RATE_LIMITS: many, DOMAIN_RATE_LIMITS: many }

let dns: DnsFixture
t.before(async () => { dns = await startDns({}) })
t.teardown(async () => { await dns.close() })

async function app (env: Record<string, string> = {}) {
  const a = await testApp({ ...ENV, DNS_SERVERS: dns.server, ...env })
  t.teardown(() => a.close())
  return a
}

t.test('a healthy server: every child runs, each a stored report of its own', async (t) => {
  const srv = await startSmtp({ name: 'mx.healthy.test', users: USERS })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'healthy.test', srv.ip)
  const a = await app()
  const res = await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=en', payload: { target: 'healthy.test' }, remoteAddress: srv.ip })
  t.equal(res.statusCode, 200, res.body)
  const r = res.json()
  t.same(reportModelErrors(r), [], 'the report fits the model; its status is its steps\' verdict')
  t.equal(r.type, 'all')
  t.same(r.children.map((c: any) => c.type), ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls'])
  for (const c of r.children) {
    t.ok(c.id, `${c.type} has a report`)
    const child = (await a.inject({ method: 'GET', url: `/api/v1/checks/${c.id}` })).json()
    t.equal(child.type, c.type)
    t.equal(child.status, c.status, `${c.type}: ${child.summary}`)
    t.same(reportModelErrors(child), [], `${c.type}: the report fits the model`)
    t.equal(child.callerIp, srv.ip)
  }
  t.same(srv.delivered.map((d) => d.to), [['postmaster@healthy.test']], 'the receive test wrote to postmaster@ the domain')
  // No STARTTLS is the one finding; ports the server does not run are no finding.
  t.same(r.fixFirst.map((f: any) => f.code), ['smtp.no_starttls'])
  t.equal(r.fixFirst[0].check, 'smtp')
  t.equal(r.fixFirst[0].id, r.children.find((c: any) => c.type === 'smtp').id)
  t.equal(r.status, 'warn', r.summary)
  t.same(r.advice.map((x: any) => x.code), ['smtp.no_starttls'], 'the parent advises what fixFirst lists, once')
  t.equal(r.understood.kind, 'domain')
})

t.test('a mail address as target: the receive test writes to it, the report says what it took', async (t) => {
  const srv = await startSmtp({ name: 'mx.addr.test', users: USERS })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'addr.test', srv.ip)
  const a = await app()
  const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', payload: { target: ' Taro <taro@addr.test> ' }, remoteAddress: srv.ip })).json()
  t.equal(r.target.domain, 'addr.test')
  t.same(r.understood, { input: 'Taro <taro@addr.test>', kind: 'address', domain: 'addr.test', address: 'taro@addr.test' })
  t.ok(r.transcript.some((l: any) => l.dir === 'I' && /メールアドレス/.test(l.text) && /addr\.test/.test(l.text)))
  t.same(srv.delivered.map((d) => d.to), [['taro@addr.test']])
  const url = (await a.inject({ method: 'POST', url: '/api/v1/checks/all?async=1', payload: { target: 'https://www.addr.test/blog/' }, remoteAddress: srv.ip })).json()
  t.ok(url.id)
  const done = await waitDone(a, url.id)
  t.equal(done.understood.kind, 'url')
  t.equal(done.target.domain, 'addr.test', 'www. of a web address is dropped')
})

async function waitDone (a: any, id: string): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const r = (await a.inject({ method: 'GET', url: `/api/v1/checks/${id}` })).json()
    if (r.status !== 'running') return r
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('never finished')
}

t.test('one slot per caller: the children run one by one, no deadlock', async (t) => {
  const srv = await startSmtp({ name: 'mx.oneslot.test', users: USERS })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'oneslot.test', srv.ip)
  const a = await app({ CONCURRENCY_PER_CALLER: '1' })
  const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: 'oneslot.test' }, remoteAddress: srv.ip })).json()
  t.ok(r.children.every((c: any) => c.id && ['pass', 'warn'].includes(c.status)), JSON.stringify(r.children.map((c: any) => [c.type, c.status, c.summary])))
  // While a diagnosis runs with one slot, a single check of the same caller may find it taken: 429, not a hang.
  const a2 = await app({ CONCURRENCY_PER_CALLER: '1' })
  const both = await Promise.all([
    a2.inject({ method: 'POST', url: '/api/v1/checks/all?async=1', payload: { target: 'oneslot.test' }, remoteAddress: srv.ip }),
    a2.inject({ method: 'POST', url: '/api/v1/checks/all?async=1', payload: { target: 'oneslot.test' }, remoteAddress: srv.ip })
  ])
  const finished = await Promise.all(both.map((x) => waitDone(a2, x.json().id)))
  for (const f of finished) t.ok(f.children.every((c: any) => c.id && c.status !== 'error'), 'two diagnoses of one caller sharing one slot both finish')
})

t.test('the event stream tells which child started, its stage, and how it ended', async (t) => {
  const srv = await startSmtp({ name: 'mx.sse.test', users: USERS })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'sse.test', srv.ip)
  const a = await app()
  await a.listen({ host: '127.0.0.1', port: 0 })
  const port = (a.server.address() as AddressInfo).port
  const started = await new Promise<any>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, localAddress: srv.ip, method: 'POST', path: '/api/v1/checks/all?async=1&lang=ja', headers: { 'content-type': 'application/json' } }, (res) => {
      let b = ''
      res.on('data', (c) => { b += c })
      res.on('end', () => resolve(JSON.parse(b)))
    })
    req.on('error', reject)
    req.end(JSON.stringify({ target: 'sse.test' }))
  })
  const events = await new Promise<Array<{ event: string, data: any }>>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, localAddress: srv.ip, path: started.links.events }, (res) => {
      const out: Array<{ event: string, data: any }> = []
      const p = new SseParser()
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        for (const ev of p.push(chunk)) {
          out.push({ event: ev.event, data: JSON.parse(ev.data) })
          if (ev.event === 'done') { res.destroy(); resolve(out) }
        }
      })
      res.on('error', reject)
    }).on('error', reject)
  })
  const child = events.filter((e) => e.event === 'child').map((e) => e.data)
  for (const type of ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls']) {
    const mine = child.filter((c) => c.type === type)
    t.equal(mine[0].phase, 'queued', `${type} queued first`)
    const s = mine.find((c) => c.phase === 'started')
    t.ok(s?.id && s.status === 'running' && typeof s.deadline === 'number', `${type} started with id and deadline`)
    const f = mine.at(-1)
    t.equal(f.phase, 'finished', `${type} finished last`)
    t.ok(['pass', 'warn'].includes(f.status), `${type}: ${f.summary}`)
  }
  const stage = child.find((c) => c.phase === 'stage' && c.type === 'smtp')
  t.ok(stage?.stage, 'a stage event names the step the child is in')
  const done = events.at(-1)!
  t.equal(done.event, 'done')
  t.ok(Array.isArray(done.data.fixFirst) && Array.isArray(done.data.children))
})

t.test('refused as a whole: the classic mistakes, in the caller\'s language, with a retry', async (t) => {
  const home = randomLoopback()
  const old = randomLoopback()
  dns.zone['lan.test'] = { MX: [{ exchange: 'mx.lan.test', priority: 10 }] }
  dns.zone['mx.lan.test'] = { A: ['192.168.1.2'] }
  dns.zone['stale.test'] = { MX: [{ exchange: 'mx.stale.test', priority: 10 }] }
  dns.zone['mx.stale.test'] = { A: [{ address: old, ttl: 600 }] }
  dns.zone['nomx.test'] = { TXT: ['v=spf1 -all'] }
  const a = await app()
  const post = (target: string, lang = 'ja') => a.inject({ method: 'POST', url: `/api/v1/checks/all?lang=${lang}`, payload: { target }, remoteAddress: home })

  const lan = await post('lan.test')
  t.equal(lan.statusCode, 403)
  const l = lan.json()
  t.equal(l.error, 'ip_mismatch')
  t.same(l.diagnosis.map((d: any) => d.code), ['refusal.mx_private'])
  t.match(l.message, /プライベートアドレス/)
  t.match(l.message, /192\.168\.1\.2/)
  t.equal(l.fixFirst[0].code, 'refusal.mx_private')
  t.equal(l.retry.possible, true)

  const st = (await post('stale.test')).json()
  t.same(st.diagnosis.map((d: any) => d.code), ['refusal.ddns_stale'])
  t.match(st.diagnosis[0].message, new RegExp(old.replace(/\./g, '\\.')))
  t.match(st.diagnosis[0].message, new RegExp(home.replace(/\./g, '\\.')))
  t.match(st.diagnosis[0].message, /600 秒/)
  t.equal(st.retry.afterSeconds, 600)

  const en = (await post('stale.test', 'en')).json()
  t.match(en.diagnosis[0].message, /dynamic-DNS entry has not been updated/)
  t.match(en.message, /not an address/)

  const none = (await post('nomx.test')).json()
  t.same(none.diagnosis.map((d: any) => d.code), ['refusal.no_mx'])
  t.match(none.message, /MX レコードもアドレスもありません/)
})

t.test('rate limits count the children', async (t) => {
  const srv = await startSmtp({ name: 'mx.rl.test', users: USERS })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'rl.test', srv.ip)
  // relay allows one per window: the first diagnosis spends it, the second is refused before any socket.
  const a = await app({ RATE_LIMITS: many.replace('relay=1000/600', 'relay=1/600') })
  const first = await a.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: 'rl.test' }, remoteAddress: srv.ip })
  t.equal(first.statusCode, 200)
  const conns = srv.connections
  const second = await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', payload: { target: 'rl.test' }, remoteAddress: srv.ip })
  t.equal(second.statusCode, 429)
  t.ok(Number(second.headers['retry-after']) > 0)
  t.match(second.json().message, /relay/)
  t.match(second.json().message, /上限/)
  t.equal(srv.connections, conns, 'no connection for a refused diagnosis')
})

t.test('a diagnosis and the single checks share one counter per check type', async (t) => {
  const srv = await startSmtp({ name: 'mx.shared.test', users: USERS })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'shared.test', srv.ip)
  // relay allows one per window: a single relay check spends it, then the diagnosis (which
  // would run relay again) is refused; with a fresh caller it is the other way round.
  const a = await app({ RATE_LIMITS: many.replace('relay=1000/600', 'relay=1/600') })
  const single = await a.inject({ method: 'POST', url: '/api/v1/checks/relay', payload: { domain: 'shared.test' }, remoteAddress: srv.ip })
  t.equal(single.statusCode, 200)
  const all = await a.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: 'shared.test' }, remoteAddress: srv.ip })
  t.equal(all.statusCode, 429, 'the diagnosis finds the relay limit spent by the single check')
  t.match(all.json().message, /relay/)

  const srv2 = await startSmtp({ name: 'mx.shared2.test', users: USERS })
  t.teardown(() => srv2.close())
  publishMx(dns.zone, 'shared2.test', srv2.ip)
  const b = await app({ RATE_LIMITS: many.replace('relay=1000/600', 'relay=1/600') })
  const first = await b.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: 'shared2.test' }, remoteAddress: srv2.ip })
  t.equal(first.statusCode, 200)
  const after = await b.inject({ method: 'POST', url: '/api/v1/checks/relay', payload: { domain: 'shared2.test' }, remoteAddress: srv2.ip })
  t.equal(after.statusCode, 429, 'the single relay check finds the limit spent by the diagnosis')
})

t.test('bad input: 400 in the caller\'s language', async (t) => {
  const a = await app()
  const r = await a.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: 'exa\r\nmple.com' }, remoteAddress: randomLoopback() })
  t.equal(r.statusCode, 400)
  const none = await a.inject({ method: 'POST', url: '/api/v1/checks/all', payload: {}, remoteAddress: randomLoopback() })
  t.equal(none.statusCode, 400)
  const ja = await a.inject({ method: 'POST', url: '/api/v1/checks/all', headers: { 'accept-language': 'ja,en;q=0.5' }, payload: { target: 'exa\r\nmple.com' }, remoteAddress: randomLoopback() })
  t.equal(ja.statusCode, 400)
  t.match(ja.json().message, /制御文字 \(CR\)/)
  const jaMissing = await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', payload: {}, remoteAddress: randomLoopback() })
  t.match(jaMissing.json().message, /必須の項目 target/)
  const ip = await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', payload: { target: '192.0.2.1' }, remoteAddress: randomLoopback() })
  t.match(ip.json().message, /IP アドレスではなくドメイン名/)
  const txt = await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', headers: { accept: 'text/plain' }, payload: { target: '192.0.2.1' }, remoteAddress: randomLoopback() })
  t.match(txt.headers['content-type'], /^text\/plain/)
  t.match(txt.body, /^bad_input: .*IP アドレスではなくドメイン名/)
})

t.test('nothing listens on port 25: every mail test fails (not error), one paragraph says why, first', async (t) => {
  const home = randomLoopback()
  publishMx(dns.zone, 'down.test', home)
  const a = await app()
  const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', payload: { target: 'down.test' }, remoteAddress: home })).json()
  const by = Object.fromEntries(r.children.map((c: any) => [c.type, c]))
  for (const type of ['ports', 'smtp', 'receive', 'roles', 'relay', 'tls']) t.equal(by[type].status, 'fail', `${type}: ${by[type].summary}`)
  t.equal(by.dns.status, 'pass')
  t.equal(r.status, 'fail')
  t.equal(r.fixFirst[0].code, 'ports.refused', 'the ports check words it')
  t.equal(r.fixFirst.filter((f: any) => /^(net\.|ports\.|smtp\.unreachable)/.test(f.code)).length, 1, 'one paragraph for port 25, not one per check')
  t.match(r.fixFirst[0].message, /ポート 25/)
  t.match(r.summary, /問題が見つかりました/)
  t.match(r.summary, /25 番ポートに外から接続できません。このままではメールが届きません/, 'the headline names the cause')
  for (const s of r.steps) t.match(s.title, /[\u3040-\u30ff\u4e00-\u9fff]|^POP3$/, `step title in Japanese: ${s.title}`)
})

t.test('an open relay: the headline names it in words, and it is the first fix', async (t) => {
  const { startScripted } = await import('../fixtures/relay-smtp.js')
  const home = randomLoopback()
  const srv = await startScripted({ ip: home, rcpt: () => '250 2.1.5 Ok' })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'open.test', home)
  const a = await app()
  const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', payload: { target: 'open.test' }, remoteAddress: home })).json()
  t.equal(r.fixFirst[0].code, 'relay.open', r.fixFirst.map((f: any) => f.code).join(' '))
  t.equal(r.fixFirst[0].level, 1)
  t.equal(r.fixFirst[0].cause, '第三者中継になっています')
  t.ok(r.fixFirst.some((f: any) => f.code === 'smtp.no_starttls'), 'the TLS warning is still listed, after it')
  t.match(r.summary, /第三者中継になっています。すぐに直してください。/)
  t.notMatch(r.summary, /指摘から/, 'no check name for a headline')
  const en = (await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=en', payload: { target: 'open.test' }, remoteAddress: home })).json()
  t.match(en.summary, /Your server is an open relay\. Fix this at once\./)
})

t.test('with POP3 credentials: pop3 joins the children; the password is stored nowhere', async (t) => {
  const srv = await startSmtp({ name: 'mx.pop.test', users: USERS })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'pop.test', srv.ip)
  const a = await app()
  const secret = 'S3cret-pass-word'
  const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: 'pop.test', username: 'taro', password: secret }, remoteAddress: srv.ip })).json()
  t.same(r.children.map((c: any) => c.type), ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls', 'pop3'])
  const pop = r.children.find((c: any) => c.type === 'pop3')
  t.equal(pop.status, 'fail', `nothing listens on POP3: fail, not error (${pop.summary})`)
  const stored = [JSON.stringify(r)]
  for (const c of r.children) stored.push((await a.inject({ method: 'GET', url: `/api/v1/checks/${c.id}` })).body)
  stored.push(JSON.stringify(await a.mx.store.getEvents(r.id, 0)))
  t.notOk(stored.some((s) => s.includes(secret)), 'the password is in no report and no event')
  const half = await a.inject({ method: 'POST', url: '/api/v1/checks/all', payload: { target: 'pop.test', password: secret }, remoteAddress: srv.ip })
  t.equal(half.statusCode, 400)
  t.notMatch(half.body, new RegExp(secret))
})

t.test('the tls child takes the smtp child\'s STARTTLS handshake; the certificate is advised once', async (t) => {
  const srv = await startSmtp({ name: 'mx.share.test', users: USERS, starttls: true })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'share.test', srv.ip)
  const a = await app()
  const ehlos = (rep: any): number => rep.transcript.filter((l: any) => l.dir === 'C' && /^EHLO /.test(l.text)).length
  // Alone, the tls check makes its own handshake on 25 beside its hand-made hellos.
  const alone = (await a.inject({ method: 'POST', url: '/api/v1/checks/tls?lang=en', payload: { domain: 'share.test' }, remoteAddress: srv.ip })).json()
  t.equal(alone.services.find((s: any) => s.port === 25).reused, undefined)
  const r = (await a.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', payload: { target: 'share.test' }, remoteAddress: srv.ip })).json()
  t.same(reportModelErrors(r), [])
  const tlsId = r.children.find((c: any) => c.type === 'tls').id
  const tls = (await a.inject({ method: 'GET', url: `/api/v1/checks/${tlsId}` })).json()
  const s25 = tls.services.find((s: any) => s.port === 25)
  t.equal(s25.reused, true, 'port 25 comes from the smtp child')
  t.equal(s25.state, 'tls')
  t.same(s25.problems, ['self_signed'], 'and is judged as the check\'s own handshake would be')
  t.equal(ehlos(alone) - ehlos(tls), 1, 'one STARTTLS dialogue fewer on port 25')
  t.match(tls.transcript.map((l: any) => l.text).join('\n'), /ポート 25: まとめて診断のほかのテストが確立した TLS 接続の結果を使います/)
  // The smtp child still advises its own certificate; the diagnosis lists the tls check's, once.
  const smtp = (await a.inject({ method: 'GET', url: `/api/v1/checks/${r.children.find((c: any) => c.type === 'smtp').id}` })).json()
  t.ok(smtp.advice.some((x: any) => x.code === 'smtp.cert_self_signed'))
  const certs = r.fixFirst.filter((f: any) => /cert/.test(f.code))
  t.same(certs.map((f: any) => [f.check, f.code]), [['tls', 'tls.cert_self_signed']])
})
