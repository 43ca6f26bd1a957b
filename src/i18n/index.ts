// Message catalogues. Advice texts are looked up by stable code; each area
// (core, smtp, relay …) keeps its own catalogue file under advice/.
import { CORE_ADVICE } from './advice/core.js'
import { PROBES_ADVICE } from './advice/probes.js'
import { SMTP_ADVICE } from './advice/smtp.js'
import { DIAG_ADVICE } from './advice/diag.js'

export type Lang = 'ja' | 'en'
export type AdviceEntry = { ja: (p: Record<string, any>) => string, en: (p: Record<string, any>) => string }
export type AdviceCatalogue = Record<string, AdviceEntry>

const catalogue: AdviceCatalogue = { ...CORE_ADVICE, ...SMTP_ADVICE, ...PROBES_ADVICE, ...DIAG_ADVICE }

/** Areas add their advice codes at import time; a duplicate code is a programming error. */
export function registerAdvice (entries: AdviceCatalogue): void {
  for (const [code, entry] of Object.entries(entries)) {
    if (catalogue[code] && catalogue[code] !== entry) throw new Error(`advice code ${code} registered twice`)
    catalogue[code] = entry
  }
}

export function hasAdvice (code: string): boolean { return code in catalogue }

export function adviceText (code: string, lang: Lang, params: Record<string, unknown> = {}): string {
  const e = catalogue[code]
  if (!e) throw new Error(`unknown advice code ${code}`)
  return e[lang](params as Record<string, any>)
}

export function adviceCodes (): string[] { return Object.keys(catalogue) }

/**
 * One text mxprobe writes (a summary, a step detail, a transcript note) in
 * the report's language. Both languages are written side by side where the
 * text is made, so neither can be forgotten.
 */
export function bi (lang: Lang, ja: string, en: string): string {
  return lang === 'ja' ? ja : en
}

/** ?lang= wins, then the first of Accept-Language we speak, then Japanese (the service's home audience). */
export function pickLang (query: unknown, acceptLanguage: string | undefined, fallback: Lang = 'ja'): Lang {
  if (query === 'ja' || query === 'en') return query
  if (acceptLanguage) {
    const ranked = acceptLanguage.split(',').map((part, i) => {
      const [tag, ...params] = part.trim().split(';')
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
      return { tag: tag.toLowerCase(), q: q ? Number(q.slice(2)) || 0 : 1, i }
    }).sort((a, b) => b.q - a.q || a.i - b.i)
    for (const r of ranked) {
      if (r.tag.startsWith('ja')) return 'ja'
      if (r.tag.startsWith('en')) return 'en'
    }
  }
  return fallback
}
