// Plain-text answers for people with curl: a client that asks for text/plain
// (before JSON) gets reports and errors as text lines, not JSON.
import type { FastifyRequest, FastifyReply } from 'fastify'

/** Does the client prefer the plain-text transcript (curl -H 'Accept: text/plain')? */
export function wantsText (req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '').toLowerCase()
  if (!accept.includes('text/plain')) return false
  // "text/plain" listed before (or without) JSON wins; browsers' */* alone does not.
  const t = accept.indexOf('text/plain')
  const j = accept.indexOf('application/json')
  return j < 0 || t < j
}

/** onSend of the check routes: curl users asked for text, so errors (400/403/429/503) come as "error: message" lines too. */
export async function errorsAsText (req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (!wantsText(req) || reply.statusCode < 400 || typeof payload !== 'string') return payload
  try {
    const e = JSON.parse(payload) as { error?: string, message?: string }
    reply.header('content-type', 'text/plain; charset=utf-8')
    return `${e.error ?? 'error'}: ${e.message ?? ''}\n`
  } catch { return payload }
}
