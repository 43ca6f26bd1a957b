// Validation of what a visitor types, before it reaches a DNS query or an
// SMTP command. Everything here throws BadInputError with a message that
// says what is wrong.
import { domainToASCII, domainToUnicode } from 'node:url'
import { BadInputError } from '../errors.js'
import { parseIp } from '../net/ip.js'

// C0 controls, DEL, C1 controls: never allowed anywhere in input that may end up on the wire.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

export function assertNoControl (value: string, field: string): void {
  if (CONTROL.test(value)) {
    const m = value.match(CONTROL)![0]
    const name = m === '\r' ? 'CR' : m === '\n' ? 'LF' : m === '\u0000' ? 'NUL' : `U+${m.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`
    throw new BadInputError(`${field} contains a control character (${name})`, field)
  }
}

export interface DomainName {
  /** A-label form, lower case, no trailing dot: what goes into DNS and SMTP */
  ascii: string
  /** U-label form for display */
  unicode: string
}

const LDH_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/
// A top-level label is never all digits and never hex: that is how "127.1",
// "2130706433" and "0x7f.1" (IP addresses in disguise) are told apart.
const TLD = /^(?:[a-z](?:[a-z0-9-]*[a-z0-9])?|xn--[a-z0-9-]+)$/

export function validateDomain (input: unknown, field = 'domain'): DomainName {
  if (typeof input !== 'string') throw new BadInputError(`${field} must be a string`, field)
  assertNoControl(input, field)
  let s = input.trim()
  if (s.length === 0) throw new BadInputError(`${field} is empty`, field)
  if (s.length > 1024) throw new BadInputError(`${field} is too long`, field)
  if (s.startsWith('[') || parseIp(s) || (/^[0-9a-fx.:]+$/i.test(s) && /^(0x[0-9a-f]+|\d+)(\.(0x[0-9a-f]+|\d+))*$/i.test(s))) {
    throw new BadInputError(`${field} must be a domain name, not an IP address`, field)
  }
  if (s.endsWith('.')) s = s.slice(0, -1)
  if (/\s/.test(s)) throw new BadInputError(`${field} contains white space`, field)
  if (/^(\d+|0x[0-9a-f]+)$/i.test(s.split('.').pop() ?? '')) throw new BadInputError(`${field} must end in a top-level domain name, not a number`, field)
  const ascii = domainToASCII(s).toLowerCase()
  if (!ascii) throw new BadInputError(`${field} "${s}" is not a valid domain name`, field)
  if (Buffer.byteLength(ascii) > 253) throw new BadInputError(`${field} is longer than 253 octets`, field)
  const labels = ascii.split('.')
  if (labels.length < 2) throw new BadInputError(`${field} must have at least two labels (like example.com)`, field)
  for (const label of labels) {
    if (label.length === 0) throw new BadInputError(`${field} has an empty label`, field)
    if (label.length > 63) throw new BadInputError(`${field} has a label longer than 63 octets`, field)
    if (!LDH_LABEL.test(label)) throw new BadInputError(`${field} label "${label}" may contain only letters, digits and inner hyphens`, field)
  }
  if (!TLD.test(labels[labels.length - 1])) throw new BadInputError(`${field} must end in a top-level domain name, not a number`, field)
  return { ascii, unicode: domainToUnicode(ascii) || ascii }
}
