// The rooms rule of eslint.config.js is live: files planted in the tree
// (linted as text under their path, never written) that reach up or into
// fastify fail lint, legal imports pass, every src/ folder has a room, and
// every listed arrow that still runs up still does (a fixed one leaves the list).
import { test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
// @ts-expect-error eslint.config.js is plain JavaScript without declarations
import { ROOMS, STILL_UP } from '../../eslint.config.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const eslint = new ESLint({ cwd: root })

/** The no-restricted-imports messages for `code` linted as the file `path` (relative to the root). */
async function roomErrors (path: string, code: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: join(root, path) })
  return res.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

test('an arrow that runs up fails lint', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['src/core/planted.ts', "import { CheckRunner } from '../checks/runner.js'\nexport const x = CheckRunner\n", /src\/core\/ may import only i18n, net/],
    ['src/smtp/planted.ts', "import type { FastifyInstance } from 'fastify'\nexport type X = FastifyInstance\n", /knows no HTTP/],
    ['src/checks/planted.ts', "export { rateLimitPlugin } from '@fastify/rate-limit'\n", /knows no HTTP/],
    ['src/net/planted.ts', "import api from '../../routes/api.js'\nexport const x = api\n", /src\/net\/ may import only errors/],
    ['src/store/planted.ts', "export * from '../checks/runner.js'\n", /src\/store\/ may import only core, errors/],
    ['src/dns/planted.ts', "import type { Report } from '../core/report.js'\nexport type X = Report\n", /src\/dns\/ may import only net, errors/],
    ['src/i18n/advice/planted.ts', "import { ReportBuilder } from '../../core/report.js'\nexport const x = ReportBuilder\n", /src\/i18n\/ may import only its own folder/],
    ['src/errors.ts', "import { Report } from './core/report.js'\nexport type X = Report\n", /src\/errors\.ts may import only src\/i18n/],
    ['routes/planted.ts', "import { buildApp } from '../src/app.js'\nexport const x = buildApp\n", /never import it/]
  ]
  for (const [path, code, message] of cases) {
    const errors = await roomErrors(path, code)
    t.equal(errors.length, 1, `${path}: one room error`)
    t.match(errors[0] ?? '', message, path)
  }
})

test('imports down the house pass', async (t) => {
  t.same(await roomErrors('src/checks/planted.ts', "import { SmtpClient } from '../smtp/client.js'\nimport { ReportBuilder } from '../core/report.js'\nimport { ProbeError } from '../errors.js'\nexport const x = [SmtpClient, ReportBuilder, ProbeError]\n"), [])
  t.same(await roomErrors('src/i18n/advice/planted.ts', "import { bi } from '../index.js'\nexport const x = bi\n"), [])
  t.same(await roomErrors('src/plugins/planted.ts', "import fp from 'fastify-plugin'\nimport type { Store } from '../store/types.js'\nexport type S = Store\nexport const x = fp\n"), [])
  t.same(await roomErrors('src/app.ts', "import api from '../routes/api.js'\nexport const x = api\n"), [])
})

test('every folder of src/ has a room', async (t) => {
  const folders = readdirSync(join(root, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
  t.same(folders, Object.keys(ROOMS).sort())
})

test('each arrow listed as still running up still does', async (t) => {
  for (const [file, rooms] of Object.entries(STILL_UP as Record<string, string[]>)) {
    // the file's imports, in the same folder under a name the list does not cover
    const imports = [...readFileSync(join(root, file), 'utf8').matchAll(/^(?:import|export)\b[^'"]*?from '([^']+)'/gms)].map((m) => `import '${m[1]}'\n`)
    const errors = await roomErrors(join(dirname(file), `planted-${basename(file)}`), imports.join(''))
    t.ok(errors.length > 0, `${file} still imports from ${rooms.join(', ')}: else drop it from STILL_UP`)
  }
})
