// Parsers for the authentication headers a receiving server adds or a sender
// signs: Authentication-Results (RFC 8601), Received-SPF (RFC 7208 §9.1),
// DKIM-Signature tags (RFC 6376 §3.5) and the ARC set (RFC 8617).
// Written here rather than taken from a library: the grammar is small, and
// what matters for display is tolerance (real headers are often sloppy).

export interface AuthResult {
  method: string
  result: string
  reason: string | null
  /** ptype.property → value, e.g. "smtp.mailfrom": "example.com", "header.d": "example.com" */
  props: Record<string, string>
  comment: string | null
}

export interface AuthenticationResults {
  authservId: string
  results: AuthResult[]
}

export interface ReceivedSpf {
  result: string
  comment: string | null
  /** client-ip, envelope-from, helo, receiver, identity, mechanism, problem … */
  props: Record<string, string>
}

export interface DkimSignature {
  domain: string | null
  selector: string | null
  algorithm: string | null
  canonicalization: string | null
  identity: string | null
  /** signed header field names, lower case */
  headers: string[]
  signedAt: string | null
  expiresAt: string | null
}

export interface ArcSet {
  instance: number
  /** ARC-Seal cv= (none, pass, fail) */
  chainValidation: string | null
  sealDomain: string | null
  sealSelector: string | null
  signatureDomain: string | null
  /** the ARC-Authentication-Results of this instance */
  results: AuthenticationResults | null
}

/** Splits on `sep` outside comments and quoted strings; collects the comments separately. */
function splitTop (s: string, sep: string): { parts: string[], comments: string[][] } {
  const parts: string[] = []
  const comments: string[][] = []
  let cur = ''
  let curComments: string[] = []
  let depth = 0
  let comment = ''
  let quote = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (depth > 0) {
      if (c === '\\') { comment += s[i + 1] ?? ''; i++; continue }
      if (c === '(') depth++
      else if (c === ')') { depth--; if (depth === 0) { curComments.push(comment.trim()); comment = ''; cur += ' '; continue } }
      comment += c
      continue
    }
    if (quote) {
      if (c === '\\') { cur += s[i + 1] ?? ''; i++; continue }
      if (c === '"') quote = false
      cur += c
      continue
    }
    if (c === '"') { quote = true; cur += c; continue }
    if (c === '(') { depth = 1; continue }
    if (c === sep) { parts.push(cur); comments.push(curComments); cur = ''; curComments = []; continue }
    cur += c
  }
  if (comment) curComments.push(comment.trim())
  parts.push(cur)
  comments.push(curComments)
  return { parts, comments }
}

const KEY_CHAR = /[A-Za-z0-9_./-]/
const SEP = /[\s;]/

/**
 * key=value pairs of one resinfo, values possibly quoted. A hand-written scan:
 * a regex retried at every position of a long value without "=" is quadratic.
 */
function pairs (s: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const n = s.length
  let i = 0
  while (i < n) {
    while (i < n && SEP.test(s[i])) i++
    let k = i
    while (k < n && KEY_CHAR.test(s[k])) k++
    if (k === i) { i++; continue }
    let j = k
    while (j < n && (s[j] === ' ' || s[j] === '\t')) j++
    if (s[j] !== '=') { i = k; continue }
    j++
    while (j < n && (s[j] === ' ' || s[j] === '\t')) j++
    let v: string
    if (s[j] === '"') {
      let e = j + 1
      let buf = ''
      while (e < n && s[e] !== '"') {
        if (s[e] === '\\' && e + 1 < n) e++
        buf += s[e]
        e++
      }
      v = buf
      j = e + 1
    } else {
      let e = j
      while (e < n && !SEP.test(s[e])) e++
      v = s.slice(j, e)
      j = e
    }
    out.push([s.slice(i, k), v])
    i = j
  }
  return out
}

export function parseAuthenticationResults (value: string): AuthenticationResults {
  const { parts, comments } = splitTop(value, ';')
  const head = parts[0].trim().split(/\s+/)
  // Exchange Online omits the authserv-id and starts with "spf=pass …".
  const noId = /^[A-Za-z0-9_-]+(?:\/\d+)?\s*=/.test(parts[0].trim())
  const out: AuthenticationResults = { authservId: noId ? '' : head[0] ?? '', results: [] }
  for (let i = noId ? 0 : 1; i < parts.length; i++) {
    const p = parts[i].trim()
    if (!p || /^none$/i.test(p)) continue
    const kv = pairs(p)
    if (!kv.length) continue
    const [method, result] = kv[0]
    const r: AuthResult = { method: method.toLowerCase().replace(/\/\d+$/, ''), result: result.toLowerCase(), reason: null, props: {}, comment: comments[i].join(' ; ') || null }
    for (const [k, v] of kv.slice(1)) {
      if (k.toLowerCase() === 'reason') r.reason = v
      else r.props[k.toLowerCase()] = v
    }
    out.results.push(r)
  }
  return out
}

export function parseReceivedSpf (value: string): ReceivedSpf {
  const v = value.trim()
  const m = v.match(/^([A-Za-z]+)\s*/)
  const result = m ? m[1].toLowerCase() : ''
  let rest = m ? v.slice(m[0].length) : v
  let comment: string | null = null
  if (rest.startsWith('(')) {
    let depth = 0
    let j = 0
    for (; j < rest.length; j++) {
      if (rest[j] === '(') depth++
      else if (rest[j] === ')') { depth--; if (depth === 0) break }
    }
    comment = rest.slice(1, j).trim()
    rest = rest.slice(j + 1)
  }
  const props: Record<string, string> = {}
  for (const [k, val] of pairs(rest)) props[k.toLowerCase()] = val
  return { result, comment, props }
}

/** tag=value list (DKIM, ARC): whitespace inside values is folding and is removed. */
export function parseTagList (value: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of value.split(';')) {
    const i = part.indexOf('=')
    if (i < 0) continue
    const k = part.slice(0, i).trim().toLowerCase()
    if (!/^[a-z][a-z0-9_]*$/.test(k) || k in out) continue
    out[k] = part.slice(i + 1).replace(/\s+/g, ' ').trim()
  }
  return out
}

function epoch (v: string | undefined): string | null {
  if (!v || !/^\d{1,12}$/.test(v)) return null
  const d = new Date(Number(v) * 1000)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}

export function parseDkimSignature (value: string): DkimSignature {
  const t = parseTagList(value)
  return {
    domain: t.d?.toLowerCase() ?? null,
    selector: t.s ?? null,
    algorithm: t.a ?? null,
    canonicalization: t.c ?? null,
    identity: t.i ?? null,
    headers: t.h ? t.h.split(':').map((h) => h.trim().toLowerCase()).filter(Boolean) : [],
    signedAt: epoch(t.t),
    expiresAt: epoch(t.x)
  }
}

/** Groups ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results by instance i=. */
export function summarizeArc (headers: Array<{ name: string, value: string }>): ArcSet[] {
  const sets = new Map<number, ArcSet>()
  const setFor = (i: number): ArcSet => {
    let s = sets.get(i)
    if (!s) {
      s = { instance: i, chainValidation: null, sealDomain: null, sealSelector: null, signatureDomain: null, results: null }
      sets.set(i, s)
    }
    return s
  }
  for (const h of headers) {
    const name = h.name.toLowerCase()
    if (name === 'arc-seal') {
      const t = parseTagList(h.value)
      const i = Number(t.i)
      if (!Number.isInteger(i) || i < 1 || i > 50) continue
      const s = setFor(i)
      s.chainValidation = t.cv?.toLowerCase() ?? null
      s.sealDomain = t.d?.toLowerCase() ?? null
      s.sealSelector = t.s ?? null
    } else if (name === 'arc-message-signature') {
      const t = parseTagList(h.value)
      const i = Number(t.i)
      if (!Number.isInteger(i) || i < 1 || i > 50) continue
      setFor(i).signatureDomain = t.d?.toLowerCase() ?? null
    } else if (name === 'arc-authentication-results') {
      const m = h.value.match(/^\s*i\s*=\s*(\d+)\s*;/)
      if (!m) continue
      const i = Number(m[1])
      if (i < 1 || i > 50) continue
      setFor(i).results = parseAuthenticationResults(h.value.slice(m[0].length))
    }
  }
  return [...sets.values()].sort((a, b) => a.instance - b.instance)
}
