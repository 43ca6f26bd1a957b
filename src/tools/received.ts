// One `Received:` header value parsed into a hop. RFC 5321 §4.4 gives the
// skeleton (from / by / via / with / id / for ; date); every MTA fills the
// comments its own way, so the vendor shapes are recognised here:
//
//   Postfix   from helo (rdns [ip]) (using TLSv1.3 with cipher …) by host (Postfix) with ESMTPS id Q for <r>; date
//   Exim      from rdns ([ip]:port helo=name) by host with esmtps (TLS1.3) tls CIPHER (Exim 4.96) (envelope-from <s>) id X for r; date
//   Sendmail  from helo (rdns [ip]) by host (8.17.1/8.17.1) with ESMTPS id Q (version=TLSv1.3 cipher=… bits=256 verify=NOT) for <r>; date
//   qmail     (qmail 1234 invoked from network); date   /   from rdns (HELO name) (ip) by host with SMTP; date
//   Microsoft from host (ip) by host (ip) with Microsoft SMTP Server (version=TLS1_2, cipher=…) id 15.20.…; date
//   Gmail     from helo (rdns. [ip]) by mx.google.com with ESMTPS id … for <r> (version=TLS1_3 cipher=… bits=256/256); date
//
// Nothing here is trusted: every hop below the recipient's own servers may be
// forged by the sender, which is why the origin logic lives in headers.ts.
import { parseIp } from '../net/ip.js'
import { specialRangeOf, isLanLike, type RangeKind } from '../net/special.js'

export type HopFormat = 'postfix' | 'exim' | 'sendmail' | 'qmail' | 'microsoft' | 'gmail' | 'dovecot' | 'fetchmail' | 'nnfmp' | 'generic' | 'unknown'

export interface Hop {
  /** 1 = the oldest hop (the bottom-most Received header) */
  index: number
  /** the unfolded header value, as pasted */
  raw: string
  /** false: kept and shown, but nothing could be read from it */
  parsed: boolean
  format: HopFormat
  /** the name in the from clause as written (HELO name for most MTAs, reverse DNS for Exim/qmail) */
  fromHost: string | null
  /** the HELO/EHLO name the sender announced, when the header tells */
  fromHelo: string | null
  /** the reverse DNS name the receiving server found for the sender's IP */
  fromRdns: string | null
  fromIp: string | null
  /** special-purpose range of fromIp (private, loopback, documentation …), null for a global address */
  fromIpRange: { kind: RangeKind, name: string, rfc: string } | null
  byHost: string | null
  byIp: string | null
  via: string | null
  /** SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP, SMTPS, HTTP, MAPI, "Microsoft SMTP Server" … */
  protocol: string | null
  /** true: the hop used TLS; false: plain text; null: the header does not say */
  tls: boolean | null
  tlsVersion: string | null
  tlsCipher: string | null
  /** the sender authenticated (ESMTPA/ESMTPSA, "Authenticated sender", "authenticated bits") */
  authenticated: boolean
  id: string | null
  for: string | null
  envelopeFrom: string | null
  /** the receiving software, when named (Postfix, Exim 4.96, sendmail 8.17.1, qmail …) */
  software: string | null
  /** the date text after the last ';' */
  dateRaw: string | null
  /** ISO 8601 UTC, or null when there is no (readable) date */
  date: string | null
  /** seconds since the previous (older) hop; the first hop counts from the Date: header when there is one */
  delaySeconds: number | null
  /** clock-skew, out-of-order, future-date, no-date, private-ip, long-delay, too-long */
  flags: string[]
  /** e.g. "qmail: invoked from network", "local submission by userid 1000" */
  note: string | null
  /**
   * Every address the from clause names, in order: the verified TCP peer the
   * receiver recorded, and any the sender put into its own HELO.
   */
  fromIpCandidates: string[]
  /** the from clause names several addresses and the format does not say which one the receiver saw: fromIp is null */
  peerAmbiguous: boolean
  /** an address the sender wrote into its HELO that is not the peer (a forged or NATed HELO) */
  heloIp: string | null
  /** true: the receiver confirmed fromRdns (forward-confirmed); false: marked unverified ("may be forged", qmail); null: unknown */
  rdnsVerified: boolean | null
  /** a retrieval of the recipient's own mailbox (fetchmail, getmail, a webmail's POP3/IMAP fetcher), not a delivery */
  retrieval: boolean
}

/** A Received value longer than this is kept but not parsed (RFC 5322 lines are at most 998 characters). */
export const MAX_RECEIVED_PARSE = 8192

interface Token { kind: 'word' | 'comment' | 'angle', text: string }
interface Clause { key: string, words: string[], comments: string[], angles: string[] }

const KEYWORDS = new Set(['from', 'by', 'via', 'with', 'id', 'for'])
const TLS_PROTOCOLS = /^(?:E?SMTPS|ESMTPSA|SMTPS|LMTPSA?|UTF8SMTPSA?|UTF8LMTPSA?|HTTPS)$/
const PLAIN_PROTOCOLS = /^(?:SMTP|ESMTP|ESMTPA|LMTP|LMTPA|UTF8SMTPA?|UTF8LMTPA?|HTTP)$/
const AUTH_PROTOCOLS = /^(?:ESMTPSA|ESMTPA|LMTPSA|LMTPA|UTF8SMTPSA|UTF8SMTPA|UTF8LMTPSA|UTF8LMTPA)$/

/** Index of the ';' that starts the date: the last one outside comments, quotes and <…>. */
function dateSplit (s: string): number {
  let depth = 0
  let angle = false
  let quote = false
  let at = -1
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '\\') { i++; continue }
    if (quote) { if (c === '"') quote = false; continue }
    if (depth > 0) {
      if (c === '(') depth++
      else if (c === ')') depth--
      continue
    }
    if (angle) { if (c === '>') angle = false; continue }
    if (c === '"') quote = true
    else if (c === '(') depth = 1
    else if (c === '<') angle = true
    else if (c === ';') at = i
  }
  return at
}

function tokenize (s: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < s.length) {
    const c = s[i]
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') { i++; continue }
    if (c === '(') {
      let depth = 1
      let j = i + 1
      for (; j < s.length && depth > 0; j++) {
        if (s[j] === '\\') j++
        else if (s[j] === '(') depth++
        else if (s[j] === ')') depth--
      }
      out.push({ kind: 'comment', text: s.slice(i + 1, depth === 0 ? j - 1 : j).trim() })
      i = j
      continue
    }
    if (c === '<') {
      const j = s.indexOf('>', i)
      const end = j < 0 ? s.length : j
      out.push({ kind: 'angle', text: s.slice(i + 1, end).trim() })
      i = end + 1
      continue
    }
    let j = i
    while (j < s.length && !/[\s(<]/.test(s[j])) j++
    out.push({ kind: 'word', text: s.slice(i, j) })
    i = j
  }
  return out
}

function clauses (tokens: Token[]): Clause[] {
  const out: Clause[] = [{ key: '', words: [], comments: [], angles: [] }]
  for (const t of tokens) {
    if (t.kind === 'word' && KEYWORDS.has(t.text.toLowerCase())) {
      // "Microsoft SMTP Server … id 15.20…" and "for <x>" start clauses; a keyword right after
      // "with" inside a multi-word protocol name does not occur in practice.
      out.push({ key: t.text.toLowerCase(), words: [], comments: [], angles: [] })
      continue
    }
    const cur = out[out.length - 1]
    if (t.kind === 'word') cur.words.push(t.text)
    else if (t.kind === 'comment') cur.comments.push(t.text)
    else cur.angles.push(t.text)
  }
  return out
}

/** "[203.0.113.5]", "[IPv6:2001:db8::1]", "203.0.113.5:25", "user@203.0.113.5" → the address */
export function ipFromText (s: string): string | null {
  const bracket = s.match(/\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]/)
  if (bracket && parseIp(bracket[1])) return parseIp(bracket[1])!.text
  const bare = s.trim().replace(/^[^@\s]*@/, '').replace(/^\[|\]$/g, '')
  const p = parseIp(bare)
  if (p) return p.text
  const v4port = bare.match(/^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/)
  if (v4port && parseIp(v4port[1])) return parseIp(v4port[1])!.text
  return null
}

const ZONES: Record<string, number> = {
  UT: 0, UTC: 0, GMT: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420, JST: 540, KST: 540, CET: 60, CEST: 120, BST: 60
}
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/** RFC 5322 date-time (and the common sloppy variants); null when unreadable. */
export function parseMailDate (text: string): Date | null {
  const m = text.match(/(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([+-]\d{4}|[A-Za-z]{1,5}\b)?/)
  if (m) {
    const month = MONTHS.indexOf(m[2].toLowerCase())
    if (month < 0) return null
    let year = Number(m[3])
    if (m[3].length === 2) year += year < 50 ? 2000 : 1900
    else if (m[3].length === 3) year += 1900
    let offsetMin = 0
    const z = m[7]
    if (z && /^[+-]\d{4}$/.test(z)) {
      offsetMin = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * (z[0] === '-' ? -1 : 1)
    } else if (z && ZONES[z.toUpperCase()] !== undefined) {
      offsetMin = ZONES[z.toUpperCase()]
    }
    const t = Date.UTC(year, month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) - offsetMin * 60_000
    const d = new Date(t)
    return Number.isNaN(d.getTime()) || Number(m[1]) > 31 || Number(m[4]) > 24 || Number(m[5]) > 59 ? null : d
  }
  const iso = text.match(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/)
  if (iso) {
    const d = new Date(iso[0].replace(' ', 'T'))
    return Number.isNaN(d.getTime()) ? null : d
  }
  return null
}

function stripDot (h: string | null): string | null {
  if (!h) return h
  return h.replace(/\.$/, '')
}

function hostOrNull (w: string | undefined): string | null {
  if (!w) return null
  const h = w.replace(/[;,]$/, '')
  return h === '' ? null : h
}

function detectTls (all: string, protocol: string | null): { tls: boolean | null, version: string | null, cipher: string | null } {
  let version: string | null = null
  let cipher: string | null = null
  // Postfix: "using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
  let m = all.match(/using\s+(TLSv?[\d.]+|SSLv\d)\s+with\s+cipher\s+([A-Za-z0-9_-]+)/i)
  if (m) { version = m[1]; cipher = m[2] }
  // Sendmail, Gmail, Microsoft: "version=TLSv1.3 cipher=…", "version=TLS1_2, cipher=…"
  if (!version) {
    m = all.match(/version=(TLSv?[\d._]+|SSLv\d)/i)
    if (m) version = m[1]
    const c = all.match(/cipher=([A-Za-z0-9_-]+)/i)
    if (c) cipher = c[1]
  }
  // Exim: "with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384" or "(TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256)"
  if (!version) {
    m = all.match(/\b(TLS1\.[0-3]|TLSv1(?:\.[0-3])?)(?::([A-Za-z0-9_-]+))?/)
    if (m) { version = m[1]; cipher = cipher ?? m[2] ?? null }
    const t = all.match(/\btls\s+(TLS_[A-Z0-9_]+)/)
    if (t) cipher = cipher ?? t[1]
  }
  const gts = /Google Transport Security/i.test(all)
  const proto = protocol?.toUpperCase() ?? ''
  let tls: boolean | null = null
  if (version || cipher || gts || TLS_PROTOCOLS.test(proto)) tls = true
  else if (PLAIN_PROTOCOLS.test(proto)) tls = false
  else if (/^Microsoft SMTP Server$/i.test(protocol ?? '')) tls = false
  return { tls, version, cipher }
}

interface PeerCandidate {
  ip: string
  /** the name written before the address ("rdns [ip]"), null for "unknown" or none */
  name: string | null
  /** where it was found: a comment (its position), the first from word (the HELO itself), or a later from word ("from host [ip] by") */
  where: 'comment' | 'helo-word' | 'word'
  /** the comment carries Exim's "helo=" (the receiver writes the peer first) */
  exim: boolean
  /** a bare address in a comment, without brackets: qmail and Microsoft */
  bare: boolean
  /** Sendmail's "(may be forged)" after the name */
  forged: boolean
}

interface FromPeer { candidates: PeerCandidate[], helo: string | null }

const NAME_BRACKET = /^(?:([^\s[\]()]+)\s+)?\[(?:IPv6:)?([0-9A-Fa-f:.]+)(?:%\w+)?\](?::\d+)?(.*)$/s

/** Every address the from clause names, in the order written, with the HELO name when a comment tells it. */
function readFromClause (from: Clause): FromPeer {
  const out: PeerCandidate[] = []
  let helo: string | null = null
  const first = from.words[0]
  if (first) {
    const ip = ipFromText(first)
    if (ip && /^\[/.test(first)) out.push({ ip, name: null, where: 'helo-word', exim: false, bare: false, forged: false })
  }
  // "from host [ip] by …" (fetchmail), "from [ip] by … with NNFMP": the address outside parentheses
  for (const w of from.words.slice(1)) {
    const ip = /^\[.*\]$/.test(w) ? ipFromText(w) : null
    if (ip) out.push({ ip, name: null, where: 'word', exim: false, bare: false, forged: false })
  }
  for (const c of from.comments) {
    const heloQ = c.match(/^E?HELO\s+(\S+)$/i) // qmail, Yahoo
    if (heloQ) { helo = heloQ[1]; continue }
    const heloE = c.match(/\bhelo=([^\s)]+)/i) // Exim
    if (heloE) helo = heloE[1]
    const forged = /\(may be forged\)/i.test(c)
    const clean = c.replace(/\s*\(may be forged\)/ig, '').trim()
    const m = clean.match(NAME_BRACKET)
    if (m && parseIp(m[2])) {
      let name: string | null = m[1] ?? null
      if (name && /@/.test(name)) name = name.replace(/^[^@]*@/, '') || null // sendmail ident "user@host"
      if (name && (/^unknown$/i.test(name) || ipFromText(name))) name = null
      out.push({ ip: parseIp(m[2])!.text, name: stripDot(name), where: 'comment', exim: Boolean(heloE) || /\b(?:port|ident)=/.test(m[3] ?? ''), bare: false, forged })
      continue
    }
    // qmail "(203.0.113.5)" or "(user@203.0.113.5)", Microsoft "(2603:1096::5)"
    if (/^[^\s()]+$/.test(clean)) {
      const ip = ipFromText(clean)
      if (ip) out.push({ ip, name: null, where: 'comment', exim: false, bare: true, forged })
    }
  }
  return { candidates: out, helo }
}

/**
 * Which of the addresses is the TCP peer the receiver saw, by the receiver's
 * format: Postfix, Sendmail, Gmail and their kin append "(rdns [ip])" after
 * the client's HELO, so the last bracket is theirs and anything before it is
 * the client's own text; Exim writes "([ip] helo=…)" with the address first;
 * qmail and Microsoft write the bare address in the last comment; fetchmail
 * and Yahoo! JAPAN put it outside the parentheses. A format that does not
 * say, with several different addresses: the hop is marked ambiguous.
 */
function choosePeer (hop: Hop, p: FromPeer): void {
  const cands = p.candidates
  hop.fromIpCandidates = [...new Set(cands.map((c) => c.ip))]
  const comments = cands.filter((c) => c.where === 'comment')
  const words = cands.filter((c) => c.where === 'word')
  const heloWord = cands.find((c) => c.where === 'helo-word') ?? null
  let chosen: PeerCandidate | null = null
  const exim = comments.find((c) => c.exim)
  const brackets = comments.filter((c) => !c.bare)
  const bares = comments.filter((c) => c.bare)
  const distinct = (list: PeerCandidate[]): number => new Set(list.map((c) => c.ip)).size
  const known = ['postfix', 'sendmail', 'gmail', 'exim', 'qmail', 'microsoft', 'fetchmail', 'nnfmp', 'dovecot'].includes(hop.format)
  if (hop.format === 'exim' || exim) {
    chosen = exim ?? brackets[0] ?? (heloWord && !brackets.length ? heloWord : null)
  } else if (words.length) {
    chosen = words[words.length - 1]
  } else if (hop.format === 'qmail' || hop.format === 'microsoft') {
    chosen = bares[bares.length - 1] ?? brackets[brackets.length - 1] ?? heloWord
  } else if (brackets.length) {
    chosen = brackets[brackets.length - 1]
    // several different addresses in the from comments of a receiver whose format is not known: say so
    if (!known && distinct(brackets) > 1) chosen = null
  } else if (bares.length) {
    chosen = bares[bares.length - 1]
    if (!known && distinct(bares) > 1) chosen = null
  } else if (heloWord) {
    // "from [ip]" alone: an address literal the receiver wrote itself (Exim without rDNS, Yahoo! JAPAN)
    chosen = heloWord
  }
  if (!chosen && cands.length) {
    hop.peerAmbiguous = true
    hop.flags.push('ambiguous-peer')
  }
  hop.fromIp = chosen?.ip ?? null
  if (chosen) {
    const other = cands.find((c) => c.ip !== chosen!.ip && (c.where === 'helo-word' || c.where === 'comment'))
    if (other) { hop.heloIp = other.ip; hop.flags.push('helo-ip') }
  }
  // the names: Exim and qmail write the reverse DNS in the from word, the others the HELO
  const first = hop.fromHost && !ipFromText(hop.fromHost) && !/^unknown$/i.test(hop.fromHost) ? stripDot(hop.fromHost) : null
  if (hop.format === 'exim' || (exim && chosen === exim)) {
    hop.fromRdns = first
    hop.fromHelo = hop.fromHelo ?? first
    hop.rdnsVerified = first ? true : null
  } else if (hop.format === 'qmail') {
    hop.fromRdns = first
    hop.rdnsVerified = first ? false : null
  } else if (chosen?.where === 'word') {
    // fetchmail: "from host [ip]": the name is the server's (from DNS or the configuration)
    hop.fromRdns = first
    hop.fromHelo = hop.fromHelo ?? null
    hop.rdnsVerified = first ? true : null
  } else {
    hop.fromHelo = hop.fromHelo ?? (hop.fromHost ? stripDot(hop.fromHost) : null)
    hop.fromRdns = chosen?.name ?? null
    hop.rdnsVerified = chosen?.name ? !chosen.forged : null
  }
}

/**
 * Parses one Received value. `index` is filled in by the caller once the
 * chain is ordered.
 */
export function parseReceived (raw: string): Hop {
  const hop: Hop = {
    index: 0,
    raw,
    parsed: false,
    format: 'unknown',
    fromHost: null,
    fromHelo: null,
    fromRdns: null,
    fromIp: null,
    fromIpRange: null,
    byHost: null,
    byIp: null,
    via: null,
    protocol: null,
    tls: null,
    tlsVersion: null,
    tlsCipher: null,
    authenticated: false,
    id: null,
    for: null,
    envelopeFrom: null,
    software: null,
    dateRaw: null,
    date: null,
    delaySeconds: null,
    flags: [],
    note: null,
    fromIpCandidates: [],
    peerAmbiguous: false,
    heloIp: null,
    rdnsVerified: null,
    retrieval: false
  }
  if (raw.length > MAX_RECEIVED_PARSE) {
    hop.flags.push('too-long')
    return hop
  }
  const semi = dateSplit(raw)
  const body = semi >= 0 ? raw.slice(0, semi) : raw
  if (semi >= 0) {
    hop.dateRaw = raw.slice(semi + 1).trim()
    const d = parseMailDate(hop.dateRaw)
    hop.date = d ? d.toISOString() : null
  }
  if (!hop.date) hop.flags.push('no-date')

  const cl = clauses(tokenize(body))
  const get = (k: string): Clause | undefined => cl.find((c) => c.key === k)
  const allComments = cl.flatMap((c) => c.comments)
  const commentText = allComments.join(' ; ')

  // qmail's local or network injection line: "(qmail 1234 invoked from network)"
  const qm = allComments.map((c) => c.match(/^qmail\s+\d+\s+invoked\s+(.+)$/i)).find(Boolean)
  if (qm) {
    hop.format = 'qmail'
    hop.software = 'qmail'
    hop.note = `qmail: invoked ${qm[1]}`
  }

  const from = get('from')
  const by = get('by')
  const withC = get('with')
  const idC = get('id')
  const forC = get('for')
  const via = get('via')

  let peer: FromPeer | null = null
  if (from) {
    peer = readFromClause(from)
    hop.fromHost = hostOrNull(from.words[0])
    hop.fromHelo = peer.helo
  }
  if (by) {
    hop.byHost = stripDot(hostOrNull(by.words[0]))
    for (const c of by.comments) {
      const bip = ipFromText(c)
      if (bip && !hop.byIp) hop.byIp = bip
      if (/^Postfix\b/i.test(c)) {
        hop.format = 'postfix'
        hop.software = 'Postfix'
        const uid = c.match(/from userid\s+(\d+)/i)
        if (uid) hop.note = `local submission by userid ${uid[1]}`
      } else if (/^\d+\.\d+\.\d+(?:\.\d+)?\/[\d.]+/.test(c)) {
        hop.format = 'sendmail'
        hop.software = `sendmail ${c.split('/')[0]}`
      } else if (/^Dovecot\b/i.test(c)) {
        hop.format = 'dovecot'
        hop.software = 'Dovecot'
      }
    }
    if (!hop.byIp && hop.byHost) hop.byIp = ipFromText(hop.byHost)
  }
  if (withC) {
    const w = withC.words
    if (/^Microsoft$/i.test(w[0] ?? '') && /^SMTP$/i.test(w[1] ?? '')) {
      hop.protocol = 'Microsoft SMTP Server'
    } else if (w[0]) {
      hop.protocol = w[0].toUpperCase()
    }
  }
  if (idC) hop.id = hostOrNull(idC.words[0]) ?? null
  if (forC) hop.for = forC.angles[0] ?? hostOrNull(forC.words[0]?.replace(/^<|>$/g, '')) ?? null
  if (via) hop.via = via.words.join(' ') || null

  const env = commentText.match(/envelope-from\s+<([^>]*)>/i)
  if (env) hop.envelopeFrom = env[1]

  // Vendors recognised from what they write, strongest evidence first.
  const exim = commentText.match(/\bExim\s+([\d.]+)/i)
  if (exim) { hop.format = 'exim'; hop.software = `Exim ${exim[1]}` }
  if (hop.protocol === 'Microsoft SMTP Server' || (hop.protocol === 'MAPI' && /\d+\.\d+\.\d+\.\d+/.test(hop.id ?? '')) ||
      /\.(?:outlook\.com|exchangelabs\.com|outlook\.office365\.com)$/i.test(hop.byHost ?? '')) {
    hop.format = 'microsoft'
    hop.software = 'Microsoft Exchange'
  }
  if (hop.format === 'unknown' || hop.format === 'postfix') {
    if (/(?:^|\.)google\.com$/i.test(hop.byHost ?? '') || /Google Transport Security/i.test(commentText) ||
        (hop.byIp && /^2002:a[0-9a-f]{2}:/i.test(hop.byHost ?? '') && hop.protocol === 'SMTP')) {
      if (hop.format === 'unknown') { hop.format = 'gmail'; hop.software = 'Gmail' }
    }
  }
  if (!qm && from && from.comments.some((c) => /^HELO\s+\S+$/i.test(c))) {
    hop.format = 'qmail'
    hop.software = hop.software ?? 'qmail'
  }
  if (withC && /^(?:POP3?|IMAP4?|ETRN|fetchmail)$/i.test(withC.words[0] ?? '')) hop.retrieval = true
  if (/\b(?:fetchmail|getmail)[-\s]?[\d.]*/i.test(commentText) || /\bwith\s+(?:POP3|IMAP)\b/i.test(body)) hop.retrieval = true
  if (hop.retrieval && hop.format === 'unknown') { hop.format = 'fetchmail'; hop.software = (commentText.match(/\b(fetchmail-[\d.]+|getmail\S*)/i)?.[1]) ?? null }
  if (hop.protocol === 'NNFMP' && hop.format === 'unknown') { hop.format = 'nnfmp'; hop.software = 'Yahoo! JAPAN' }
  if (from && peer) choosePeer(hop, peer)

  const tls = detectTls(`${commentText} ; ${withC ? withC.words.join(' ') : ''}`, hop.protocol)
  hop.tls = tls.tls
  hop.tlsVersion = tls.version
  hop.tlsCipher = tls.cipher
  hop.authenticated = AUTH_PROTOCOLS.test(hop.protocol ?? '') || /\bauthenticated\b|\bAUTH[:=]/i.test(commentText)

  if (hop.fromIp) {
    const r = specialRangeOf(hop.fromIp)
    if (r) {
      hop.fromIpRange = { kind: r.kind, name: r.name, rfc: r.rfc }
      // LAN-like: an internal relay; anything else special (documentation, multicast …) never sends mail on the internet.
      hop.flags.push(isLanLike(r.kind) || r.kind === 'this-network' ? 'private-ip' : 'reserved-ip')
    }
  }

  hop.parsed = Boolean(from || by || qm)
  if (hop.parsed && hop.format === 'unknown') hop.format = 'generic'
  return hop
}
