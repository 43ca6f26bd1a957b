// The forensics tools' answers, finished: the JSON body of the API and the
// result page, built in the tools' worker thread (src/tools/worker.ts), not
// on the main thread. A 256 KiB paste makes answers of 1 to 3 MB (every
// candidate repair in full, every hop and header decoded); serialising,
// rendering and UTF-8 encoding them took the event loop 10 to 300 ms per
// answer. The worker hands back the bytes; the main thread only writes them.
//
// One part of the headers answer is known only on the main thread: the
// origin's PTR names, asked through the app's resolver after the analysis.
// That part is left out of the bytes and its place (a byte offset, `slot`)
// handed back; the main thread writes the small fragment there
// (fillSlot(), headersOriginJson(), ptrLine()).
import { Readable } from 'node:stream'
import { headersResultPage, mojibakeResultPage } from './tools.js'
import { raw } from './html.js'
import { findingMessages, type HeaderAnalysis } from '../tools/headers.js'
import { mojibakeAdvice } from '../tools/records.js'
import type { MojibakeResult, Candidate } from '../tools/mojibake.js'
import type { Lang } from '../i18n/index.js'

/** A stored result's link, as the pages show it (the API nests self and page under links). */
export interface SavedLink { id: string, self: string, page: string }

/** Finished answer bytes; `slot`: where the main thread's fragment goes, null when there is none. */
export interface AnswerBytes { body: Uint8Array, slot: number | null }

const encoder = new TextEncoder()

function bytes (text: string, slotAt: number | null): AnswerBytes {
  if (slotAt === null) return { body: encoder.encode(text), slot: null }
  const before = encoder.encode(text.slice(0, slotAt))
  const after = encoder.encode(text.slice(slotAt))
  const body = new Uint8Array(before.length + after.length)
  body.set(before, 0)
  body.set(after, before.length)
  return { body, slot: before.length }
}

const apiSaved = (s: SavedLink | null): { id: string, links: { self: string, page: string } } | null =>
  s ? { id: s.id, links: { self: s.self, page: s.page } } : null

/** The fields of a candidate the API documents (routes/tools.ts), in its order. */
function apiCandidate (c: Candidate): Candidate {
  return { text: c.text, path: c.path, score: c.score, japaneseShare: c.japaneseShare, lost: c.lost, guessed: c.guessed, label: c.label, implausible: c.implausible, marks: c.marks, mapping: c.mapping }
}

/** The body of POST /api/v1/tools/mojibake. */
export function mojibakeJson (r: MojibakeResult, lang: Lang, saved: SavedLink | null): AnswerBytes {
  return bytes(JSON.stringify({ candidates: r.candidates.map(apiCandidate), unchanged: r.unchanged, advice: mojibakeAdvice(r, lang), saved: apiSaved(saved) }), null)
}

/**
 * The body of POST /api/v1/tools/headers without its `origin`, whose slot is
 * right after `hops` (headersOriginJson() fills it). The order of the keys is
 * the one fastify's serializer gave this answer: hops, origin, findings,
 * saved, then the rest of the analysis and advice.
 */
export function headersJson (a: HeaderAnalysis, lang: Lang, saved: SavedLink | null): AnswerBytes {
  const { hops, origin: _origin, findings, ...rest } = a
  const head = JSON.stringify({ hops })
  const tail = JSON.stringify({ findings, saved: apiSaved(saved), ...rest, advice: findingMessages(findings, lang) })
  // '{"hops":[…]' + ',' + slot + '"findings":…}'
  return bytes(`${head.slice(0, -1)},${tail.slice(1)}`, head.length)
}

/** What the main thread writes into headersJson()'s slot, once the PTR names are known. */
export function headersOriginJson (origin: HeaderAnalysis['origin']): string {
  return `"origin":${JSON.stringify(origin)},`
}

/** Marks the PTR line's place in a rendered headers page; page text is escaped, so no pasted text can spell it. */
const PTR_SLOT = '<!--mxprobe:ptr-->'

/**
 * The headers result page. ptr 'slot': the origin's PTR line is left for the
 * main thread (ptrLine()); 'inline': the analysis already has its PTR names
 * (a stored result).
 */
export function headersPage (a: HeaderAnalysis, lang: Lang, saved: SavedLink | null, input: string | null, ptr: 'slot' | 'inline'): AnswerBytes {
  if (ptr === 'inline') return bytes(headersResultPage(lang, a, saved, input), null)
  const text = headersResultPage(lang, a, saved, input, raw(PTR_SLOT))
  const at = text.indexOf(PTR_SLOT)
  if (at < 0) return bytes(text, null) // no origin, no PTR line
  if (text.indexOf(PTR_SLOT, at + 1) >= 0) throw new Error('the PTR slot appears twice in a headers page')
  return bytes(text.slice(0, at) + text.slice(at + PTR_SLOT.length), at)
}

/** The mojibake result page. */
export function mojibakePage (r: MojibakeResult, lang: Lang, saved: SavedLink | null, input: string | null): AnswerBytes {
  return bytes(mojibakeResultPage(lang, r, saved, input), null)
}

/** An answer as fastify sends it: a Buffer, or its pieces as a stream of known length (content-length set by the route). */
export interface AnswerPayload { body: Buffer | Readable, length: number }

/** Larger answers go out in pieces of this size: one write of 3 MB to a socket held the event loop 50 ms on a busy machine. */
const PIECE = 64 * 1024

/**
 * The answer with the main thread's fragment in its slot. The bytes are not
 * copied (a 3 MB Buffer.concat is itself a pause); a large answer goes out
 * as a stream of pieces, each written when the socket has taken the last.
 */
export function fillSlot (a: AnswerBytes, fragment: string): AnswerPayload {
  const body = Buffer.from(a.body.buffer, a.body.byteOffset, a.body.byteLength)
  const parts = a.slot === null || fragment === '' ? [body] : [body.subarray(0, a.slot), Buffer.from(fragment, 'utf8'), body.subarray(a.slot)]
  const length = parts.reduce((n, p) => n + p.length, 0)
  if (length <= PIECE) return { body: parts.length === 1 ? body : Buffer.concat(parts, length), length }
  const pieces: Buffer[] = []
  for (const p of parts) for (let at = 0; at < p.length; at += PIECE) pieces.push(p.subarray(at, at + PIECE))
  return { body: Readable.from(pieces), length }
}
