// A small DNS wire-format client (RFC 1035, EDNS0 RFC 6891, extended DNS
// errors RFC 8914), for what node's resolver does not expose: the AD and CD
// bits, the answer's rcode as sent, and the EDNS options of the answer. It
// asks one question of one server over UDP, and again over TCP when the
// answer is truncated. Bounded: one socket per question, a deadline, at most
// 65535 bytes read, names at most 255 octets, compression pointers only
// backwards. The only DNS socket of mxprobe besides node's own resolver.
import dgram from 'node:dgram'
import net from 'node:net'
import { randomInt } from 'node:crypto'

export const TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, DS: 43, RRSIG: 46, DNSKEY: 48, TLSA: 52, OPT: 41 } as const
export type TypeName = keyof typeof TYPES
const TYPE_NAMES = new Map<number, string>(Object.entries(TYPES).map(([k, v]) => [v, k]))

export const RCODES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' }

export interface WireRecord {
  name: string
  type: number
  typeName: string
  class: number
  ttl: number
  /** the record's data, decoded for the types mxprobe reads (A, AAAA, MX, TXT, TLSA, CNAME, RRSIG's covered type), else null */
  value: unknown
  rdata: Buffer
}

export interface TlsaData { usage: number, selector: number, matchingType: number, data: Buffer }

/** RFC 8914 extended DNS error */
export interface ExtendedError { code: number, text: string }

export interface WireAnswer {
  id: number
  rcode: number
  rcodeName: string
  flags: { qr: boolean, aa: boolean, tc: boolean, rd: boolean, ra: boolean, ad: boolean, cd: boolean }
  answers: WireRecord[]
  authority: WireRecord[]
  ede: ExtendedError[]
  /** answered over TCP (the UDP answer was truncated) */
  tcp: boolean
}

export interface WireQuery {
  /** server address, an IP literal */
  host: string
  port: number
  name: string
  type: TypeName
  /** checking disabled: the resolver answers even what fails validation (RFC 4035 §3.2.2) */
  cd?: boolean
  timeoutMs?: number
}

export class WireError extends Error {
  constructor (public kind: 'timeout' | 'malformed' | 'network', message: string) { super(message) }
}

const MAX_MESSAGE = 65535

/** The query message: RD, AD (RFC 6840 §5.7: ask for the AD bit), CD if asked, one question, an OPT record with DO. */
export function encodeQuery (id: number, name: string, type: number, cd: boolean): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean)
  const parts: Buffer[] = []
  const header = Buffer.alloc(12)
  header.writeUInt16BE(id, 0)
  // RD (0x0100), AD (0x0020), CD (0x0010)
  header.writeUInt16BE(0x0100 | 0x0020 | (cd ? 0x0010 : 0), 2)
  header.writeUInt16BE(1, 4) // QDCOUNT
  header.writeUInt16BE(1, 10) // ARCOUNT (OPT)
  parts.push(header)
  let total = 0
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii')
    if (b.length < 1 || b.length > 63) throw new WireError('malformed', `bad label in ${name}`)
    total += b.length + 1
    parts.push(Buffer.from([b.length]), b)
  }
  if (total + 1 > 255) throw new WireError('malformed', `name too long: ${name}`)
  parts.push(Buffer.from([0]))
  const q = Buffer.alloc(4)
  q.writeUInt16BE(type, 0)
  q.writeUInt16BE(1, 2) // IN
  parts.push(q)
  // OPT: root name, type 41, payload 1232 (DNS flag day 2020), ext rcode 0, version 0, DO bit, no options
  const opt = Buffer.alloc(11)
  opt.writeUInt8(0, 0)
  opt.writeUInt16BE(TYPES.OPT, 1)
  opt.writeUInt16BE(1232, 3)
  opt.writeUInt32BE(0x00008000, 5)
  opt.writeUInt16BE(0, 9)
  parts.push(opt)
  return Buffer.concat(parts)
}

class Reader {
  constructor (readonly buf: Buffer, public pos = 0) {}
  need (n: number): void { if (this.pos + n > this.buf.length) throw new WireError('malformed', 'message ends early') }
  u8 (): number { this.need(1); return this.buf.readUInt8(this.pos++) }
  u16 (): number { this.need(2); const v = this.buf.readUInt16BE(this.pos); this.pos += 2; return v }
  u32 (): number { this.need(4); const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v }
  bytes (n: number): Buffer { this.need(n); const v = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return v }
  /** a possibly compressed name; pointers must point backwards, at most 255 octets in all */
  name (): string {
    const labels: string[] = []
    let pos = this.pos
    let jumped = false
    let octets = 0
    for (let hops = 0; hops < 128; hops++) {
      if (pos >= this.buf.length) throw new WireError('malformed', 'name runs past the message')
      const len = this.buf[pos]
      if (len === 0) {
        if (!jumped) this.pos = pos + 1
        return labels.join('.')
      }
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new WireError('malformed', 'pointer runs past the message')
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]
        if (target >= pos) throw new WireError('malformed', 'compression pointer does not point backwards')
        if (!jumped) this.pos = pos + 2
        jumped = true
        pos = target
        continue
      }
      if (len > 63) throw new WireError('malformed', 'bad label length')
      if (pos + 1 + len > this.buf.length) throw new WireError('malformed', 'label runs past the message')
      octets += len + 1
      if (octets > 255) throw new WireError('malformed', 'name longer than 255 octets')
      labels.push(this.buf.toString('latin1', pos + 1, pos + 1 + len).toLowerCase())
      pos += 1 + len
    }
    throw new WireError('malformed', 'too many compression pointers')
  }
}

function decodeValue (r: Reader, type: number, rdStart: number, rdLen: number): unknown {
  const rd = r.buf.subarray(rdStart, rdStart + rdLen)
  switch (type) {
    case TYPES.A:
      return rd.length === 4 ? [...rd].join('.') : null
    case TYPES.AAAA: {
      if (rd.length !== 16) return null
      const groups: string[] = []
      for (let i = 0; i < 16; i += 2) groups.push(rd.readUInt16BE(i).toString(16))
      return net.isIPv6(groups.join(':')) ? new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1) : null
    }
    case TYPES.CNAME: case TYPES.NS: {
      const sub = new Reader(r.buf, rdStart)
      return sub.name()
    }
    case TYPES.MX: {
      if (rd.length < 3) return null
      const sub = new Reader(r.buf, rdStart + 2)
      return { priority: rd.readUInt16BE(0), exchange: sub.name() }
    }
    case TYPES.TXT: {
      const strings: string[] = []
      let i = 0
      while (i < rd.length) {
        const n = rd[i]
        if (i + 1 + n > rd.length) return null
        strings.push(rd.toString('latin1', i + 1, i + 1 + n))
        i += 1 + n
      }
      return strings
    }
    case TYPES.TLSA:
      if (rd.length < 3) return null
      return { usage: rd[0], selector: rd[1], matchingType: rd[2], data: Buffer.from(rd.subarray(3)) } satisfies TlsaData
    case TYPES.RRSIG:
      return rd.length >= 2 ? { typeCovered: rd.readUInt16BE(0) } : null
    default:
      return null
  }
}

function readRecords (r: Reader, count: number): WireRecord[] {
  const out: WireRecord[] = []
  for (let i = 0; i < count; i++) {
    const name = r.name()
    const type = r.u16()
    const klass = r.u16()
    const ttl = r.u32()
    const len = r.u16()
    const start = r.pos
    r.need(len)
    const value = decodeValue(r, type, start, len)
    const rdata = Buffer.from(r.buf.subarray(start, start + len))
    r.pos = start + len
    out.push({ name, type, typeName: TYPE_NAMES.get(type) ?? `TYPE${type}`, class: klass, ttl, value, rdata })
  }
  return out
}

/** RFC 8914 §2: option code 15, INFO-CODE (2 octets), EXTRA-TEXT (UTF-8, may be empty). */
function readEde (opt: WireRecord): ExtendedError[] {
  const out: ExtendedError[] = []
  const d = opt.rdata
  let i = 0
  while (i + 4 <= d.length) {
    const code = d.readUInt16BE(i)
    const len = d.readUInt16BE(i + 2)
    if (i + 4 + len > d.length) break
    if (code === 15 && len >= 2) {
      out.push({ code: d.readUInt16BE(i + 4), text: d.toString('utf8', i + 6, i + 4 + len).replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, 300) })
    }
    i += 4 + len
  }
  return out.slice(0, 8)
}

export function decodeAnswer (buf: Buffer, tcp = false): WireAnswer {
  if (buf.length > MAX_MESSAGE) throw new WireError('malformed', 'message too long')
  const r = new Reader(buf)
  const id = r.u16()
  const f = r.u16()
  const qd = r.u16()
  const an = r.u16()
  const ns = r.u16()
  const ar = r.u16()
  for (let i = 0; i < qd; i++) { r.name(); r.u16(); r.u16() }
  const answers = readRecords(r, an)
  const authority = readRecords(r, ns)
  const additional = readRecords(r, ar)
  const opt = additional.find((x) => x.type === TYPES.OPT)
  // The OPT record's TTL field carries the upper 8 bits of the rcode.
  const rcode = (f & 0x000f) | (opt ? ((opt.ttl >>> 24) << 4) : 0)
  return {
    id,
    rcode,
    rcodeName: RCODES[rcode] ?? `RCODE${rcode}`,
    flags: { qr: !!(f & 0x8000), aa: !!(f & 0x0400), tc: !!(f & 0x0200), rd: !!(f & 0x0100), ra: !!(f & 0x0080), ad: !!(f & 0x0020), cd: !!(f & 0x0010) },
    answers,
    authority,
    ede: opt ? readEde(opt) : [],
    tcp
  }
}

function udpAsk (q: WireQuery, msg: Buffer, id: number, timeoutMs: number): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(q.host) ? 'udp6' : 'udp4')
    const done = (err: Error | null, a?: WireAnswer): void => {
      clearTimeout(timer)
      sock.close()
      if (err) reject(err)
      else resolve(a!)
    }
    const timer = setTimeout(() => done(new WireError('timeout', `no answer from ${q.host} port ${q.port} within ${timeoutMs} ms`)), timeoutMs)
    sock.on('error', (e) => done(new WireError('network', e.message)))
    sock.on('message', (m, rinfo) => {
      // Only the server asked, only our id: anything else is ignored, not trusted.
      if (rinfo.port !== q.port || m.length < 12 || m.readUInt16BE(0) !== id) return
      try { done(null, decodeAnswer(m)) } catch (e) { done(e as Error) }
    })
    sock.send(msg, q.port, q.host)
  })
}

function tcpAsk (q: WireQuery, msg: Buffer, id: number, timeoutMs: number): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: q.host, port: q.port })
    let buf = Buffer.alloc(0)
    const done = (err: Error | null, a?: WireAnswer): void => {
      clearTimeout(timer)
      sock.destroy()
      if (err) reject(err)
      else resolve(a!)
    }
    const timer = setTimeout(() => done(new WireError('timeout', `no answer from ${q.host} port ${q.port} over TCP within ${timeoutMs} ms`)), timeoutMs)
    sock.on('error', (e) => done(new WireError('network', e.message)))
    sock.on('connect', () => {
      const len = Buffer.alloc(2)
      len.writeUInt16BE(msg.length, 0)
      sock.write(Buffer.concat([len, msg]))
    })
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (buf.length > MAX_MESSAGE + 2) { done(new WireError('malformed', 'answer too long')); return }
      if (buf.length < 2) return
      const n = buf.readUInt16BE(0)
      if (buf.length < 2 + n) return
      try {
        const a = decodeAnswer(buf.subarray(2, 2 + n), true)
        if (a.id !== id) throw new WireError('malformed', 'answer to another question')
        done(null, a)
      } catch (e) { done(e as Error) }
    })
    sock.on('end', () => done(new WireError('network', 'connection closed before the answer')))
  })
}

/** One question to one server: UDP, then TCP if the answer came truncated. */
export async function ask (q: WireQuery): Promise<WireAnswer> {
  if (!net.isIP(q.host)) throw new WireError('network', `${q.host} is not an IP literal`)
  const type = TYPES[q.type]
  const id = randomInt(0, 65536)
  const msg = encodeQuery(id, q.name, type, q.cd ?? false)
  const timeoutMs = q.timeoutMs ?? 2000
  const a = await udpAsk(q, msg, id, timeoutMs)
  if (!a.flags.tc) return a
  return await tcpAsk(q, msg, id, timeoutMs)
}
