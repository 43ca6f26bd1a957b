// neostandard (fastify's own style) over everything we write: sources,
// routes, tests, benchmarks, scripts and the pages' browser scripts.
import neostandard from 'neostandard'

/**
 * The rooms of docs/HOUSE.md: which folders of src/ a module in each folder
 * may import. An arrow that runs up (a protocol client reaching into checks/,
 * core into fastify) fails lint. `errors` is src/errors.ts, the typed errors
 * every layer throws. Folders not named here (routes/, src/app.ts,
 * src/server.ts, src/config.ts) are the top and import what they need.
 * test/lint/rooms.test.ts plants a file that breaks each kind of rule.
 */
export const ROOMS = {
  i18n: [],
  net: ['errors'],
  dns: ['net', 'errors'],
  core: ['i18n', 'net'],
  smtp: ['core', 'net', 'dns', 'i18n', 'errors'],
  pop3: ['core', 'net', 'dns', 'i18n', 'errors'],
  store: ['core', 'errors'],
  checks: ['core', 'dns', 'net', 'smtp', 'pop3', 'tls', 'store', 'i18n', 'errors'],
  tls: ['core', 'dns', 'net', 'i18n', 'errors'],
  tools: ['core', 'dns', 'net', 'i18n', 'errors'],
  web: ['core', 'tools', 'i18n'],
  plugins: ['core', 'net', 'store', 'i18n', 'errors'],
  inbound: ['checks', 'core', 'dns', 'net', 'smtp', 'store', 'tools', 'i18n', 'errors']
}

/**
 * Arrows that still run up, one file and the room it reaches, until their
 * code moves (issue 21 item 4). Each one here is a known debt, not a rule.
 */
export const STILL_UP = {
  // the relay battery takes the whole CheckContext instead of a ProbeSession
  'src/smtp/relay.ts': ['checks'],
  // the send test's check calls into its service; the service reads the check context
  'src/checks/send.ts': ['inbound'],
  // the inbound settings type is declared in config.ts
  'src/inbound/listener.ts': ['config'],
  'src/inbound/service.ts': ['config']
}

/** One file with a door of its own, by design: the tools worker builds pages and JSON off the event loop. */
const FILE_ROOMS = { ...STILL_UP, 'src/tools/worker.ts': ['web'] }

// fastify and its plugins: HTTP lives in routes/, plugins/ and the app.
const HTTP_PACKAGES = ['fastify', 'fastify-*', '@fastify/*']
const HTTP_ROOMS = new Set(['plugins'])

function restrict (room, allowed, up) {
  const names = allowed.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
  // `../<room>/…` or `../<file>.js` one folder up; anything further up (routes/, ../../) is never allowed.
  const regex = `^${up}(?!(?:${names || '(?!)'})(?:/|\\.js$))`
  const patterns = [{ regex, message: `src/${room}/ may import only ${allowed.join(', ') || 'its own folder'} (docs/HOUSE.md, Rooms).` }]
  if (!HTTP_ROOMS.has(room)) patterns.push({ group: HTTP_PACKAGES, message: `src/${room}/ knows no HTTP: fastify belongs to routes/, src/plugins/ and src/app.ts.` })
  return { 'no-restricted-imports': ['error', { patterns }] }
}

function roomConfigs () {
  const out = []
  for (const [room, allowed] of Object.entries(ROOMS)) {
    const own = Object.keys(FILE_ROOMS).filter((f) => f.startsWith(`src/${room}/`))
    out.push({ files: [`src/${room}/*.ts`], ignores: own, rules: restrict(room, allowed, '\\.\\./') })
    // a subfolder (src/i18n/advice/) is the same room: one more level up to leave it
    out.push({ files: [`src/${room}/*/**/*.ts`], rules: restrict(room, allowed, '\\.\\./\\.\\./') })
    for (const f of own) out.push({ files: [f], rules: restrict(room, [...allowed, ...FILE_ROOMS[f]], '\\.\\./') })
  }
  // src/errors.ts sits below everything but the texts.
  out.push({ files: ['src/errors.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./|\\./(?!i18n/))', message: 'src/errors.ts may import only src/i18n/.' }, { group: HTTP_PACKAGES, message: 'src/errors.ts knows no HTTP.' }] }] } })
  // routes sit below the app that registers them
  out.push({ files: ['routes/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./src/(app|server)\\.js$', message: 'routes/ are registered by src/app.ts and never import it.' }] }] } })
  return out
}

export default [
  ...neostandard({ ts: true, env: ['browser'], ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**'] }),
  {
    rules: {
      // SMTP and terminal escapes are what these patterns look for.
      'no-control-regex': 'off'
    }
  },
  ...roomConfigs()
]
