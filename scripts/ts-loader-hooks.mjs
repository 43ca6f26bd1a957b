// Module hooks of scripts/ts-loader.mjs (they run on node's loader thread).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cacheDir = join(root, '.cache', 'ts')
const VERSION = '1'
let ts = null

const isTs = (url) => url.startsWith('file:') && /\.[cm]?ts$/.test(url) && !url.includes('/node_modules/')

export async function resolve (specifier, context, next) {
  // NodeNext style: `./x.js` names ./x.ts (in a .ts file, or in `node -e` code run from the project)
  const parent = context.parentURL ?? ''
  if (specifier.endsWith('.js') && (specifier.startsWith('./') || specifier.startsWith('../')) && !parent.includes('/node_modules/')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', parent || `file://${root}/`)
    if (existsSync(url) && (isTs(parent) || !existsSync(new URL(specifier, parent || `file://${root}/`)))) return { url: url.href, format: 'module', shortCircuit: true }
  }
  return next(specifier, context)
}

export async function load (url, context, next) {
  if (!isTs(url)) return next(url, context)
  const file = fileURLToPath(url)
  const text = readFileSync(file, 'utf8')
  const key = createHash('sha256').update(VERSION).update('\0').update(file).update('\0').update(text).digest('hex').slice(0, 40)
  const cached = join(cacheDir, `${key}.js`)
  let source
  try {
    source = readFileSync(cached, 'utf8')
  } catch {
    ts ??= (await import('typescript')).default
    const out = ts.transpileModule(text, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        inlineSourceMap: true,
        inlineSources: true
      }
    })
    source = out.outputText
    try {
      mkdirSync(cacheDir, { recursive: true })
      const tmp = `${cached}.${process.pid}.tmp`
      writeFileSync(tmp, source)
      renameSync(tmp, cached)
    } catch { /* a read-only tree still runs, uncached */ }
  }
  return { format: url.endsWith('.cts') ? 'commonjs' : 'module', source, shortCircuit: true }
}
