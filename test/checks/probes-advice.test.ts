// Every advice code the probe checks can emit exists in both languages and
// renders with the parameters the checks pass (no "undefined" in a text).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { hasAdvice, adviceText } from '../../src/i18n/index.js'
import { PROBES_ADVICE } from '../../src/i18n/advice/probes.js'

const files = ['src/checks/ports.ts', 'src/checks/pop3.ts', 'src/checks/relay.ts', 'src/checks/roles.ts']

t.test('codes used by the probe checks are catalogued', async (t) => {
  for (const f of files) {
    const src = readFileSync(f, 'utf8')
    const codes = [...src.matchAll(/advise\(\s*(?:[^,()]*\?\s*)?'([a-z0-9_.]+)'(?:\s*:\s*'([a-z0-9_.]+)')?/g)].flatMap((m) => [m[1], m[2]].filter(Boolean))
    t.ok(codes.length > 0, `${f} gives advice`)
    for (const c of codes) t.ok(hasAdvice(c), `${f}: ${c}`)
  }
})

t.test('every probe advice renders in ja and en with typical parameters', async (t) => {
  const p = { port: 25, ip: '192.0.2.1', reason: 'x', state: 'refused', line: '220 x', subject: 'CN=x', validTo: '2030-01-01', host: 'mx.example', names: 'DNS:x', user: 'u', messages: 1, octets: 2, reply: '554 no', mailFrom: 'a@b', rcptTo: 'c@d', id: 'v', outside: 'out.example', count: 3, address: 'abuse@x', rfc: 'RFC 2142', local: 'abuse', addresses: 'noc@x', many: false, examples: 'a@b → c@d', forms: 'c%d@e', total: 27 }
  for (const code of Object.keys(PROBES_ADVICE)) {
    for (const lang of ['ja', 'en'] as const) {
      const text = adviceText(code, lang, p)
      t.ok(text.length > 20, `${code} ${lang}`)
      t.notMatch(text, /undefined|\[object/, `${code} ${lang} has all its parameters`)
    }
  }
})
