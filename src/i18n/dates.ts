// Dates as people write them: Japanese in JST (2026年12月21日 12:04:05
// (日本時間)), English in UTC (21 Dec 2026 03:04:05 UTC). Advice and
// transcript texts take ISO strings from the checks and never show them raw.
import type { Lang } from './index.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const formats = {
  ja: new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }),
  en: new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
}

function parts (iso: unknown, lang: Lang): Record<string, string> | null {
  const d = new Date(String(iso))
  if (iso === null || iso === undefined || Number.isNaN(d.getTime())) return null
  return Object.fromEntries(formats[lang].formatToParts(d).map((x) => [x.type, x.value]))
}

/** The day: 2026年12月21日 / 21 Dec 2026; text that is not a date comes back as it is. */
export function dayText (iso: unknown, lang: Lang): string {
  const v = parts(iso, lang)
  if (!v) return String(iso ?? '')
  return lang === 'ja' ? `${v.year}年${Number(v.month)}月${Number(v.day)}日` : `${Number(v.day)} ${MONTHS[Number(v.month) - 1]} ${v.year}`
}

/** The day and the time with its zone: 2026年12月21日 12:04:05 (日本時間) / 21 Dec 2026 03:04:05 UTC. */
export function timeText (iso: unknown, lang: Lang): string {
  const v = parts(iso, lang)
  if (!v) return String(iso ?? '')
  const hms = `${v.hour}:${v.minute}:${v.second}`
  return lang === 'ja' ? `${dayText(iso, lang)} ${hms} (日本時間)` : `${dayText(iso, lang)} ${hms} UTC`
}
