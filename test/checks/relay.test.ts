import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { startScripted } from '../fixtures/relay-smtp.js'
import { testApp, randomLoopback, reportModelErrors } from '../helpers.js'
import { relayVectors } from '../../src/smtp/relay.js'

// HELO_NAME probe.mxprobe.test in testConfig → RELAY_PROBE_DOMAIN mxprobe.test
const OUT = 'relay-out.test'
const env = { RELAY_PROBE_DOMAIN: OUT, RATE_LIMITS: 'relay=1000/600', DOMAIN_RATE_LIMITS: 'relay=1000/600', CONCURRENCY_PER_CALLER: '10' }

t.test('the battery is a superset of nmap smtp-open-relay', async (t) => {
  const v = relayVectors({ domain: 'home.example', host: 'mx.home.example', ip: '192.0.2.5', outside: OUT })
  t.ok(v.length >= 20, `${v.length} vectors`)
  t.equal(v.filter((x) => x.nmap).length, 16, 'all 16 nmap tests are marked')
  t.equal(new Set(v.map((x) => x.id)).size, v.length, 'ids are unique')
  for (const x of v) t.ok(x.rcptTo.toLowerCase().includes(OUT), `${x.id} ends at the outside domain`)
  const v6 = relayVectors({ domain: 'home.example', host: 'mx.home.example', ip: '2001:db8::25', outside: OUT })
  t.ok(v6.some((x) => x.rcptTo === `mxprobe-relaytest%${OUT}@[IPv6:2001:db8::25]`), 'IPv6 address literal form')
})

t.test('relay check against scripted servers', async (t) => {
  const ips = Array.from({ length: 7 }, () => randomLoopback())
  const zone: Record<string, any> = {}
  ips.forEach((ip, i) => {
    zone[`d${i}.example`] = { MX: [{ exchange: `mx.d${i}.example`, priority: 10 }] }
    zone[`mx.d${i}.example`] = { A: [ip] }
  })
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, ...env })
  t.teardown(() => app.close())
  const post = (i: number, ip = ips[i]) => app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: `d${i}.example` }, remoteAddress: ip })

  await t.test('closed server: pass, polite, no DATA, never penalised', async (t) => {
    const srv = await startScripted({ ip: ips[0], softErrorLimit: 10, penaltyMs: 1000, hardErrorLimit: 20 })
    t.teardown(() => srv.close())
    const res = await post(0)
    t.equal(res.statusCode, 200)
    const r = res.json()
    t.equal(r.status, 'pass', r.summary)
    t.same(reportModelErrors(r), [], 'the report fits the model; its status is its steps\' verdict')
    t.ok(r.vectors.length >= 20)
    for (const v of r.vectors) {
      t.same(Object.keys(v).filter((k) => ['id', 'mailFrom', 'rcptTo', 'accepted', 'reply'].includes(k)).sort(), ['accepted', 'id', 'mailFrom', 'rcptTo', 'reply'])
      t.equal(v.accepted, false)
      t.match(v.reply, /^554 5\.7\.1/)
    }
    const verbs = srv.commands.map((c) => c.line.split(/[ :]/)[0].toUpperCase())
    t.notOk(verbs.includes('DATA'), 'no DATA was ever sent')
    const senders = new Set(r.vectors.map((v: any) => v.mailFrom)).size
    t.equal(verbs.filter((v) => v === 'RCPT').length, r.vectors.length, 'one RCPT per vector')
    t.ok(verbs.filter((v) => v === 'MAIL').length <= r.vectors.length + senders * srv.connections, 'one MAIL per vector, plus one per sender form and connection')
    t.equal(verbs.filter((v) => v === 'RSET').length, verbs.filter((v) => v === 'MAIL').length, 'RSET after every MAIL')
    t.equal(verbs.filter((v) => v === 'QUIT').length, srv.connections, 'QUIT at the end of every connection')
    t.ok(srv.maxConcurrent <= 3, `at most 3 connections at once (${srv.maxConcurrent})`)
    t.equal(r.relay.tested, r.vectors.length, 'every vector really tried')
    t.equal(srv.penalties, 0, 'never reached the error penalty')
    t.ok(Math.max(...srv.errorsPerConnection) <= 9, `errors per connection ${srv.errorsPerConnection.join(',')}`)
    t.ok(srv.chunks.some((c) => /^(MAIL FROM:[^\r]*\r\nRCPT TO:[^\r]*\r\nRSET\r\n){2,}(QUIT\r\n)?$/.test(c.text)), 'batches of MAIL+RCPT+RSET pipelined in one write')
    t.equal(srv.connections, 3, 'three connections, nine attempts each (Postfix slows down after ten errors)')
    t.equal(r.relay.connections, srv.connections)
    t.ok(r.advice.some((a: any) => a.code === 'relay.closed'))
  })

  await t.test('every trick form reaches the server verbatim and is detected', async (t) => {
    const ip = ips[1]
    const D = 'd1.example'
    const H = 'mx.d1.example'
    const L = `[${ip}]`
    const u = 'mxprobe-relaytest'
    // Written out by hand, independent of relayVectors(): the exact RCPT arguments a relay tester must send.
    const forms: Record<string, string> = {
      'external-sender': `${u}@${OUT}`,
      'percent-ip-literal': `${u}%${OUT}@${L}`,
      'percent-mx-host': `${u}%${OUT}@${H}`,
      'percent-domain': `${u}%${OUT}@${D}`,
      'quoted-outside': `"${u}@${OUT}"`,
      'quoted-percent': `"${u}%${OUT}"`,
      'quoted-at-ip-literal': `"${u}@${OUT}"@${L}`,
      'quoted-at-domain': `"${u}@${OUT}"@${D}`,
      'double-at-ip-literal': `${u}@${OUT}@${L}`,
      'double-at-mx-host': `${u}@${OUT}@${H}`,
      'double-at-domain': `${u}@${OUT}@${D}`,
      'source-route-ip-literal': `@${L}:${u}@${OUT}`,
      'source-route-mx-host': `@${H}:${u}@${OUT}`,
      'source-route-domain': `@${D}:${u}@${OUT}`,
      'bang-path': `${OUT}!${u}`,
      'bang-path-ip-literal': `${OUT}!${u}@${L}`,
      'bang-path-mx-host': `${OUT}!${u}@${H}`,
      'bang-path-domain': `${OUT}!${u}@${D}`,
      'upper-case-outside': `${u.toUpperCase()}@${OUT.toUpperCase()}`,
      'trailing-dot-outside': `${u}@${OUT}.`,
      'mixed-case-trailing-dot': 'mxprobe-relaytest@rElAy-oUt.tEsT.'
    }
    const senders: Record<string, string> = {
      'null-sender': '',
      'own-domain-sender': `mxprobe-relay@${D}`,
      'mx-host-sender': `mxprobe-relay@${H}`,
      'localhost-sender': 'mxprobe-relay@localhost',
      'no-domain-sender': 'mxprobe-relay',
      'ip-literal-sender': `mxprobe-relay@${L}`
    }
    // First run: the server accepts exactly the address tricks, never the plain outside recipient,
    // so nothing stops the battery early: every trick form must be put to RCPT and detected.
    const trickSet = new Set(Object.entries(forms).filter(([id]) => id !== 'external-sender').map(([, f]) => f))
    const srv = await startScripted({ ip, rcpt: (a) => trickSet.has(a) ? '250 2.1.5 Ok' : '554 5.7.1 Relay access denied' })
    t.teardown(() => srv.close())
    const r = (await post(1)).json()
    t.equal(r.status, 'fail')
    t.match(r.summary, /accepted at RCPT: possibly an open relay; some servers accept and bounce later/)
    t.notMatch(r.summary, /really tried/, 'nothing left out')
    const byId = Object.fromEntries(r.vectors.map((v: any) => [v.id, v]))
    for (const [id, form] of Object.entries(forms)) {
      t.equal(byId[id]?.rcptTo, form, `${id} sent as ${form}`)
      t.ok(srv.commands.some((c) => c.line === `RCPT TO:<${form}>`), `${id} reached the server verbatim`)
      t.equal(byId[id]?.accepted, id !== 'external-sender', `${id} ${id !== 'external-sender' ? 'detected' : 'refused'}`)
    }
    for (const [id, from] of Object.entries(senders)) {
      t.equal(byId[id]?.mailFrom, from, `${id} sender ${from || '<>'}`)
      t.ok(srv.commands.some((c) => c.line === `MAIL FROM:<${from}>`), `${id}: MAIL FROM:<${from}> sent`)
      t.same([byId[id]?.accepted, byId[id]?.stage, byId[id]?.tested], [false, 'rcpt', true], `${id} refused at RCPT`)
    }
    t.equal(r.relay.tested, r.vectors.length, 'every vector really tried')
    t.notOk(srv.commands.some((c) => /^DATA/i.test(c.line)), 'no DATA even when tricks are accepted')
    t.notOk(r.advice.some((a: any) => a.code === 'relay.open'), 'no plain relaying')
    t.ok(r.advice.some((a: any) => a.code === 'relay.open_trick' && /allow_percent_hack/.test(a.en)))
    await srv.close()

    // Then each spoofed sender alone: the plain outside recipient is accepted only from it. That is an
    // open relay found by that vector; what was not started by then is not tried, never "refused".
    for (const [id, from] of Object.entries({ ...senders, 'external-sender': `mxprobe-relay@${OUT}` })) {
      const one = await startScripted({ ip, rcpt: (a, f) => a === `${u}@${OUT}` && f === from ? '250 2.1.5 Ok' : '554 5.7.1 Relay access denied' })
      const rs = (await post(1)).json()
      await one.close()
      t.equal(rs.status, 'fail', `${id}: ${rs.summary}`)
      t.same(rs.vectors.filter((v: any) => v.accepted).map((v: any) => v.id), [id], `${id} alone detected`)
      t.ok(rs.advice.some((a: any) => a.code === 'relay.open' && /mynetworks/.test(a.en)))
      t.notOk(one.commands.some((c) => /^DATA/i.test(c.line)), 'no DATA even when plain mail is accepted')
      for (const v of rs.vectors) {
        t.ok(v.stage === 'not_tried' ? !v.tested && !v.accepted && /^not tried: the server already relays plain mail/.test(v.reply) : v.tested, `${id}: ${v.id} ${v.stage}`)
      }
    }

    // Second run: only the bang path is accepted: exactly that one vector is flagged.
    const one = await startScripted({ ip, rcpt: (a) => a === `${OUT}!${u}` ? '250 Ok' : '554 5.7.1 Relay access denied' })
    t.teardown(() => one.close())
    const r2 = (await post(1)).json()
    t.equal(r2.status, 'fail')
    t.same(r2.vectors.filter((v: any) => v.accepted).map((v: any) => v.id), ['bang-path'])
    t.notOk(one.commands.some((c) => /^DATA/i.test(c.line)))
  })

  await t.test('530 authentication required: warn, battery stops', async (t) => {
    const srv = await startScripted({ ip: ips[2], mail: () => '530 5.7.0 Authentication required' })
    t.teardown(() => srv.close())
    const r = (await post(2)).json()
    t.equal(r.status, 'warn', r.summary)
    t.ok(r.advice.some((a: any) => a.code === 'relay.auth_required'))
    const senders = new Set(r.vectors.map((v: any) => v.mailFrom)).size
    t.ok(srv.commands.filter((c) => c.line.startsWith('MAIL')).length <= senders * 3, 'no point hammering a server that wants AUTH: one flight per connection')
    t.notOk(srv.commands.some((c) => c.line.startsWith('RCPT')), 'no RCPT once MAIL demanded authentication')
    t.ok(r.vectors.slice(1).every((v: any) => v.stage === 'not_run' && v.accepted === false))
  })

  await t.test('temporary refusals: warn', async (t) => {
    const srv = await startScripted({ ip: ips[3], rcpt: () => '450 4.7.1 Greylisted, try again later' })
    t.teardown(() => srv.close())
    const r = (await post(3)).json()
    t.equal(r.status, 'warn')
    t.ok(r.advice.some((a: any) => a.code === 'relay.temporary'))
  })

  await t.test('no PIPELINING: one command at a time, same verdict', async (t) => {
    const srv = await startScripted({ ip: ips[4], pipelining: false })
    t.teardown(() => srv.close())
    const r = (await post(4)).json()
    t.equal(r.status, 'pass')
    t.equal(r.relay.pipelining, false)
    t.ok(srv.chunks.every((c) => (c.text.match(/\r\n/g) ?? []).length === 1), 'never more than one command per write')
    await srv.close()

    // Two tricks of one sender accepted: the vector after an accepted RCPT gets a transaction of its own.
    const D = 'd4.example'
    const taken = new Set([`mxprobe-relaytest%${OUT}@${D}`, `"mxprobe-relaytest@${OUT}"@${D}`])
    const two = await startScripted({ ip: ips[4], pipelining: false, rcpt: (a) => taken.has(a) ? '250 2.1.5 Ok' : '554 5.7.1 Relay access denied' })
    t.teardown(() => two.close())
    const r2 = (await post(4)).json()
    t.equal(r2.status, 'fail')
    t.same(r2.vectors.filter((v: any) => v.accepted).map((v: any) => v.id).sort(), ['percent-domain', 'quoted-at-domain'])
    t.equal(r2.relay.tested, r2.vectors.length, 'no plain recipient accepted: everything tried')
    for (const c of new Set(two.commands.map((x) => x.conn))) {
      const lines = two.commands.filter((x) => x.conn === c).map((x) => x.line)
      lines.forEach((l, i) => {
        const m = /^RCPT TO:<(.*)>$/.exec(l)
        if (m && taken.has(m[1]) && i + 1 < lines.length && lines[i + 1] !== 'QUIT') t.equal(lines[i + 1], 'RSET', `after the accepted ${m[1]}: RSET`)
        if (l === 'RSET') t.match(lines[i + 1], /^MAIL FROM:/, 'every RSET is followed by a new MAIL')
      })
    }
  })

  await t.test('a server that hangs up after a few errors: fresh connection, battery completes', async (t) => {
    const srv = await startScripted({ ip: ips[5], hardErrorLimit: 5 })
    t.teardown(() => srv.close())
    const r = (await post(5)).json()
    t.equal(r.status, 'pass', JSON.stringify(r.vectors.filter((v: any) => v.stage !== 'rcpt' || v.accepted)) + r.summary)
    t.ok(r.vectors.every((v: any) => v.stage === 'rcpt'))
    t.ok(srv.connections > 3)
    t.ok(srv.maxConcurrent <= 3)
  })

  await t.test('a server too slow for the whole battery: partial results within the deadline', async (t) => {
    const slowApp = await testApp({ DNS_SERVERS: dns.server, ...env, CHECK_DEADLINE_MS: '5000' })
    t.teardown(() => slowApp.close())
    // It takes the address tricks (the plain outside recipient would decide the verdict at once, see
    // relaysPlain) and slows down what it accepts, as Postfix's in_flow_delay does.
    const srv = await startScripted({ ip: ips[6], replyDelayMs: 250, rcpt: (a) => a === `mxprobe-relaytest@${OUT}` ? '554 5.7.1 Relay access denied' : '250 2.1.5 Ok' })
    const r = (await slowApp.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: 'd6.example' }, remoteAddress: ips[6] })).json()
    await srv.close()
    t.equal(r.status, 'fail', r.summary)
    // Every socket dies at the 5 s deadline; the report is written just after. The slack is for a
    // loaded CI machine's scheduling, not for the check: the battery's own budget is 3 s (60 %).
    t.ok(r.durationMs < 5000 + 1500, `finished in ${r.durationMs} ms, at the deadline at the latest`)
    t.match(r.relay.stoppedEarly, /time budget/, `stopped by the battery's own budget (${r.relay.stoppedEarly})`)
    t.ok(r.vectors.some((v: any) => v.accepted))
    t.ok(r.vectors.some((v: any) => v.stage === 'not_run'))

    const refusing = await startScripted({ ip: ips[6], replyDelayMs: 250 })
    t.teardown(() => refusing.close())
    const r2 = (await slowApp.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: 'd6.example' }, remoteAddress: ips[6] })).json()
    t.equal(r2.status, 'warn', 'nothing accepted but incomplete: not a pass')
    t.match(r2.summary, /incomplete/)
  })

  await t.test('target rule and input', async (t) => {
    const before = app.mx.connector.decisions.length
    const res = await post(6, randomLoopback())
    t.equal(res.statusCode, 403)
    t.equal(res.json().error, 'ip_mismatch')
    t.equal(app.mx.connector.decisions.length, before, 'no socket')
    const own = await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: OUT }, remoteAddress: ips[6] })
    t.equal(own.statusCode, 400, 'the outside domain itself cannot be the tested domain')
    const bad = await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=en', payload: { domain: 'x\r\n.example' }, remoteAddress: ips[6] })
    t.equal(bad.statusCode, 400)
  })
})

t.test('one caller\'s concurrency budget bounds the battery\'s connections; notes in the report\'s language', async (t) => {
  const ip = randomLoopback()
  const dns = await startDns({ 'one.example': { MX: [{ exchange: 'mx.one.example', priority: 10 }] }, 'mx.one.example': { A: [ip] } })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, ...env, CONCURRENCY_PER_CALLER: '1' })
  t.teardown(() => app.close())
  const srv = await startScripted({ ip, softErrorLimit: 10, penaltyMs: 1000, hardErrorLimit: 20 })
  t.teardown(() => srv.close())
  const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/relay?lang=ja', payload: { domain: 'one.example' }, remoteAddress: ip })).json()
  t.equal(r.status, 'pass', r.summary)
  t.equal(srv.maxConcurrent, 1, 'CONCURRENCY_PER_CALLER=1: one connection at a time')
  t.equal(r.relay.parallel, 1)
  t.equal(r.relay.tested, r.vectors.length, 'every vector still tried')
  const notes = r.transcript.filter((l: any) => l.dir === 'I').map((l: any) => l.text)
  t.ok(notes.some((x: string) => /^中継テストの接続 1: \d+ 件を担当/.test(x)), 'the engine\'s notes are in Japanese')
  t.notOk(notes.some((x: string) => /\b(relay connection|attempts? claimed|connecting to|stopped)\b/.test(x)), 'no English note on a Japanese report')
})
