// A POP3 server that answers the login with the password in another form —
// upper-cased, reversed, cut in pieces over several replies — must not put
// any of it into the report, its events, the stored report, the /r/:id page
// or the forum text. Every server line after PASS/AUTH is suspect: mxprobe
// keeps +OK/-ERR and its own explanation, and the server's text only when it
// holds no run of 4 characters of the password in any case, either way round.
import t from 'tap'
import tls from 'node:tls'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDns } from '../fixtures/dns.js'
import { makeCert } from '../fixtures/dovecot.js'
import { testApp, randomLoopback } from '../helpers.js'
import { holdsPasswordRun } from '../../src/pop3/client.js'

const home = randomLoopback()
const PASSWORD = 'Qz7vKp2Wm9Xj4Lb'
const reverse = (s: string) => [...s].reverse().join('')

/** Independent of the code under test: every 4-character window, both ways, any case. */
function leaks (text: string, pw = PASSWORD): string | null {
  const hay = text.toLowerCase()
  for (const s of [pw.toLowerCase(), reverse(pw.toLowerCase())]) {
    for (let i = 0; i + 4 <= s.length; i++) if (hay.includes(s.slice(i, i + 4))) return s.slice(i, i + 4)
  }
  return null
}

t.test('holdsPasswordRun', async (t) => {
  t.ok(holdsPasswordRun('-ERR QZ7V is wrong', PASSWORD), 'upper case')
  t.ok(holdsPasswordRun(`-ERR ${reverse(PASSWORD).slice(3, 8)}`, PASSWORD), 'reversed piece')
  t.notOk(holdsPasswordRun('-ERR Qz7 no', PASSWORD), 'three characters are not a run')
  t.notOk(holdsPasswordRun('+OK Logged in.', PASSWORD))
  t.ok(holdsPasswordRun('+OK hi abc', 'abc'), 'a password shorter than 4 counts whole')
})

// What the server does with the password it received, per test run.
const FORMS: Record<string, { pass: (pw: string) => string, stat?: (pw: string) => string, quit?: (pw: string) => string }> = {
  'upper-cased': { pass: (pw) => `-ERR [AUTH] password ${pw.toUpperCase()} rejected` },
  reversed: { pass: (pw) => `-ERR ${reverse(pw)} is not it` },
  'lower-cased inside a word': { pass: (pw) => `-ERR user${pw.toLowerCase().slice(2, 9)}x unknown` },
  'cut over several replies': {
    pass: (pw) => `+OK welcome ${pw.slice(0, 5)}`,
    stat: (pw) => `+OK 2 320 ${pw.slice(5, 10)}`,
    quit: (pw) => `+OK bye ${pw.slice(10)}`
  }
}

t.test('the password in another form reaches no report, event, page or forum text', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mxprobe-pop3-forms-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const cert = makeCert(dir, 'mx.forms.example')
  const dns = await startDns({ 'forms.example': { MX: [{ exchange: 'mx.forms.example', priority: 10 }] }, 'mx.forms.example': { A: [home] } })
  t.teardown(() => dns.close())
  let form = FORMS['upper-cased']
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.on('error', () => {})
    s.write('+OK forms ready\r\n')
    let buf = ''
    let pw = ''
    s.on('data', (d) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const cmd = buf.slice(0, i)
        buf = buf.slice(i + 2)
        if (cmd === 'CAPA') s.write('+OK\r\nUSER\r\n.\r\n')
        else if (cmd.startsWith('USER ')) s.write('+OK send PASS\r\n')
        else if (cmd.startsWith('PASS ')) { pw = cmd.slice(5); s.write(form.pass(pw) + '\r\n') } else if (cmd === 'STAT') s.write((form.stat?.(pw) ?? '+OK 0 0') + '\r\n')
        else if (cmd === 'QUIT') s.end((form.quit?.(pw) ?? '+OK bye') + '\r\n')
        else s.write('-ERR no\r\n')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(995, home, resolve))
  t.teardown(() => server.close())
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())

  for (const [name, f] of Object.entries(FORMS)) {
    form = f
    for (const lang of ['en', 'ja'] as const) {
      const res = await app.inject({ method: 'POST', url: `/api/v1/checks/pop3?lang=${lang}`, payload: { domain: 'forms.example', username: 'alice', password: PASSWORD }, remoteAddress: home })
      t.equal(res.statusCode, 200, `${name}: ${res.body.slice(0, 200)}`)
      const r = res.json()
      t.equal(r.login.tried, true, `${name}: the login was tried`)
      const outputs: Record<string, string> = {
        report: res.body,
        'stored report': (await app.inject({ url: `/api/v1/checks/${r.id}` })).body,
        'stored events': JSON.stringify(await app.mx.store.getEvents(r.id, 0)),
        'event stream': (await app.inject({ url: `/api/v1/checks/${r.id}/events` })).body,
        '/r/:id page': (await app.inject({ url: `/r/${r.id}?lang=${lang}` })).body,
        'forum text': (await app.inject({ url: `/r/${r.id}.txt` })).body,
        'text answer': (await app.inject({ url: `/api/v1/checks/${r.id}`, headers: { accept: 'text/plain' } })).body
      }
      for (const [where, text] of Object.entries(outputs)) {
        t.equal(leaks(text), null, `${name} (${lang}): no piece of the password in the ${where}`)
      }
      // The status survives, with mxprobe's explanation in the report's language.
      const after = r.transcript.filter((l: { dir: string, text: string }) => l.dir === 'S').map((l: { text: string }) => l.text)
      const withheld = lang === 'ja' ? /パスワードの一部/ : /withheld/
      t.ok(after.some((l: string) => /^\[995\] (\+OK|-ERR) \[mxprobe: /.test(l) && withheld.test(l)), `${name} (${lang}): the status is kept with mxprobe's explanation: ${after.join(' | ')}`)
      if (name === 'cut over several replies') {
        t.equal(r.login.ok, true, 'the login itself worked')
        t.equal(r.login.messages, 2, 'STAT still read')
      }
    }
  }
})
