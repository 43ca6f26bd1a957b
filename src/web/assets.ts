// The static files under public/ (CSS and the small scripts), read once at
// start-up and served with their content type, an ETag and caching. Pages
// link them with ?v=<hash>, so a versioned URL can be cached for a year.
import { readFileSync, existsSync } from 'node:fs'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Asset { name: string, body: Buffer, type: string, hash: string }

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon'
}

/** The files we serve; nothing else under public/ is reachable. */
export const ASSET_NAMES = ['style.css', 'app.js', 'frame.js', 'embed.js', 'favicon.svg', 'send.js', 'send.css'] as const
export type AssetName = typeof ASSET_NAMES[number]

/** public/ next to package.json, found from this file (src/web or dist/src/web). */
function publicDir (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'public', 'style.css')) && existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'public')
    dir = path.dirname(dir)
  }
  throw new Error('public/ directory with the page assets not found')
}

let cache: Map<string, Asset> | null = null

export function assets (): Map<string, Asset> {
  if (cache) return cache
  const dir = publicDir()
  const m = new Map<string, Asset>()
  for (const name of ASSET_NAMES) {
    const body = readFileSync(path.join(dir, name))
    m.set(name, { name, body, type: TYPES[path.extname(name)] ?? 'application/octet-stream', hash: createHash('sha256').update(body).digest('hex').slice(0, 12) })
  }
  cache = m
  return m
}

/** /static/<name>?v=<hash> */
export function assetUrl (name: AssetName): string {
  const a = assets().get(name)
  return `/static/${name}?v=${a?.hash ?? '0'}`
}
