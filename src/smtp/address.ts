// Mail addresses as they may appear in MAIL FROM / RCPT TO. A visitor's
// input becomes a `Mailbox` only through `parseMailbox`, and the command
// builder in client.ts accepts nothing else, so no unvalidated byte can
// reach an SMTP command line.
import { BadInputError } from '../errors.js'
import { assertNoControl, validateDomain, type DomainName } from '../dns/names.js'

const BRAND: unique symbol = Symbol('validated mailbox')

export interface Mailbox {
  readonly [BRAND]: true
  /** local part as given (may be UTF-8, RFC 6531) */
  readonly local: string
  readonly domain: DomainName
  /** local@a-label: what goes into the envelope */
  readonly address: string
  /** local@u-label, for display */
  readonly display: string
  /** the local part has non-ASCII characters: needs SMTPUTF8 */
  readonly utf8: boolean
}

// RFC 5322 atext, plus any non-ASCII character (RFC 6531 §3.3 extends atext with UTF-8).
const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10ffff}-]+$/u
const ASCII = /^[\u0020-\u007e]*$/

export const LIMITS = { localPart: 64, domain: 255, path: 256 } as const

/**
 * Validates a mailbox for the envelope: RFC 5321 §4.5.3.1 sizes (local part
 * ≤ 64 octets, domain ≤ 255, path with brackets ≤ 256), a dot-atom local
 * part (quoted local parts are refused: no home server needs one to be
 * tested, and they are where command injection hides), no CR/LF/NUL/<>,
 * the domain in A-label form.
 */
export function parseMailbox (input: unknown, field = 'address'): Mailbox {
  if (typeof input !== 'string') throw new BadInputError(`${field} must be a string`, field)
  assertNoControl(input, field)
  const s = input.trim()
  if (!s) throw new BadInputError(`${field} is empty`, field)
  if (s.length > 1024) throw new BadInputError(`${field} is too long`, field)
  if (/[<>]/.test(s)) throw new BadInputError(`${field} must not contain < or > (give the bare address, like user@example.com)`, field)
  if (/\s/u.test(s)) throw new BadInputError(`${field} contains white space`, field)
  const at = s.lastIndexOf('@')
  if (at <= 0 || at === s.length - 1) throw new BadInputError(`${field} must look like user@example.com`, field)
  const local = s.slice(0, at)
  if (local.startsWith('"')) throw new BadInputError(`${field}: quoted local parts are not supported`, field)
  if (Buffer.byteLength(local) > LIMITS.localPart) throw new BadInputError(`${field}: the part before @ is longer than ${LIMITS.localPart} octets (RFC 5321 §4.5.3.1.1)`, field)
  if (local.split('.').some((atom) => !atom || !ATEXT.test(atom))) {
    throw new BadInputError(`${field}: the part before @ may contain letters, digits and ! # $ % & ' * + / = ? ^ _ \` { | } ~ - with single dots between them`, field)
  }
  const rawDomain = s.slice(at + 1)
  if (Buffer.byteLength(rawDomain) > LIMITS.domain) throw new BadInputError(`${field}: the domain is longer than ${LIMITS.domain} octets (RFC 5321 §4.5.3.1.2)`, field)
  const domain = validateDomain(rawDomain, field)
  const address = `${local}@${domain.ascii}`
  if (Buffer.byteLength(address) + 2 > LIMITS.path) throw new BadInputError(`${field}: the address is longer than ${LIMITS.path - 2} octets (RFC 5321 §4.5.3.1.3)`, field)
  return { [BRAND]: true, local, domain, address, display: `${local}@${domain.unicode}`, utf8: !ASCII.test(local) }
}

/** The sender from configuration (MAIL_FROM), validated like any input. */
export function configuredMailbox (address: string): Mailbox {
  return parseMailbox(address, 'MAIL_FROM')
}

export function isMailbox (v: unknown): v is Mailbox {
  return typeof v === 'object' && v !== null && (v as Mailbox)[BRAND] === true
}
