// Form bodies: HTML forms and `curl -d` post application/x-www-form-urlencoded.
// The plugin registers @fastify/formbody's parser for the whole app; such a
// body carries every value as a string, and the preValidation hook below
// converts it by the route's own body schema before validation, so a check
// route takes a form post and a JSON body alike. JSON bodies are never coerced.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import formbody from '@fastify/formbody'
import type { TSchema } from '@sinclair/typebox'

async function formBodyPlugin (app: FastifyInstance, opts: { bodyLimit: number }): Promise<void> {
  await app.register(formbody, { bodyLimit: opts.bodyLimit })
}
// Not encapsulated (fp): the parser serves every route of the app.
export default fp(formBodyPlugin, { name: 'mxprobe-form-body' })

/**
 * HTML forms and `curl -d` send every value as a string, and the schemas do not
 * coerce types (a JSON client sending "25" for a port is a bug we report). So a
 * form body is converted here, by the route's own schema: numbers and booleans
 * from their text, arrays from repeated fields (`ports=25&ports=110`) or a comma
 * list (`ports=25,110`); an empty optional field counts as absent.
 */
export function convertFormBody (body: Record<string, unknown>, schema: TSchema): Record<string, unknown> {
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {}
  const required = new Set<string>((schema as { required?: string[] }).required ?? [])
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(body)) {
    const ps = props[k]
    if (!ps) { out[k] = v; continue } // unknown field: left for validation to reject
    if (v === '' && !required.has(k)) continue
    out[k] = convertValue(v, ps)
  }
  return out
}

function convertValue (v: unknown, s: TSchema): unknown {
  const type = (s as { type?: string }).type
  if (type === 'array') {
    const items = (s as { items?: TSchema }).items
    const list = Array.isArray(v) ? v.flatMap((x) => typeof x === 'string' ? x.split(',') : [x]) : typeof v === 'string' ? v.split(',') : [v]
    return list.map((x) => typeof x === 'string' ? x.trim() : x).filter((x) => x !== '').map((x) => items ? convertValue(x, items) : x)
  }
  if (typeof v !== 'string') return v
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim())
  if (type === 'boolean') {
    if (/^(true|1|on|yes)$/i.test(v)) return true
    if (/^(false|0|off|no)$/i.test(v)) return false
  }
  return v
}

export function isForm (req: FastifyRequest): boolean {
  return String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')
}

/**
 * preValidation hook of a route with a TypeBox body: a POST without any body
 * is an empty object (`{ ports? }` may be left out altogether; required
 * fields still answer 400, naming the missing field), a form body is converted.
 */
export async function coerceFormBody (req: FastifyRequest): Promise<void> {
  if (req.body === undefined || req.body === null) req.body = {}
  const schema = req.routeOptions.schema?.body as TSchema | undefined
  if (schema && isForm(req) && typeof req.body === 'object') req.body = convertFormBody(req.body as Record<string, unknown>, schema)
}
