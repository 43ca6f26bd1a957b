// `npm start` builds first when dist/ is missing or older than any source file,
// so a fresh clone needs only `npm install && npm start`.
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'

// public/ (CSS and browser scripts) is read at run time, not compiled: it needs no build.
const roots = ['src', 'routes', 'tsconfig.json']
function newest (p) {
  const s = statSync(p)
  if (!s.isDirectory()) return s.mtimeMs
  let m = 0
  for (const e of readdirSync(p)) m = Math.max(m, newest(join(p, e)))
  return m
}
const out = 'dist/src/server.js'
const stale = !existsSync(out) || roots.some((r) => existsSync(r) && newest(r) > statSync(out).mtimeMs)
if (stale) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
}
