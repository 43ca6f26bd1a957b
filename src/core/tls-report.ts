// The tls check's data in the one report model (TypeBox): each TLS service
// of the MX host, the versions and ciphers it accepts, DNSSEC, DANE,
// MTA-STS and TLS-RPT. Imported into CheckDataProps (src/core/report.ts).
import { Type, type Static, type TSchema, type TProperties } from '@sinclair/typebox'

const Obj = <T extends TProperties>(props: T, description?: string) => Type.Object(props, { additionalProperties: true, ...(description ? { description } : {}) })
const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()])
const Lit = <T extends string>(...v: T[]) => Type.Union(v.map((x) => Type.Literal(x)))

export const TlsCertSchema = Obj({
  subject: Type.String(),
  subjectCN: Nullable(Type.String()),
  issuer: Type.String(),
  san: Type.Array(Type.String()),
  validFrom: Type.String(),
  validTo: Type.String(),
  daysLeft: Type.Integer(),
  lifetimeDays: Type.Integer(),
  fingerprint256: Type.String(),
  spki256: Type.String({ description: 'SHA-256 of the public key (what a DANE 3 1 1 record holds)' }),
  keyType: Type.String(),
  keyBits: Nullable(Type.Integer()),
  curve: Nullable(Type.String()),
  selfIssued: Type.Boolean()
})

export const TlsServiceSchema = Obj({
  port: Type.Integer(),
  proto: Lit('smtp', 'imap', 'pop3'),
  starttls: Type.Boolean(),
  /** tls: a TLS session was made; closed: nothing listens; no_starttls: the plain service offers no STARTTLS; failed: TLS broke */
  state: Lit('tls', 'closed', 'no_starttls', 'failed'),
  protocol: Nullable(Type.String()),
  cipher: Nullable(Type.String()),
  group: Nullable(Type.String()),
  cert: Nullable(TlsCertSchema),
  /** certificates the server sent, leaf included */
  chainLength: Type.Integer(),
  trusted: Type.Boolean(),
  nameMatches: Nullable(Type.Boolean()),
  problems: Type.Array(Type.String()),
  expiry: Nullable(Lit('ok', 'expiring', 'expired')),
  /** the port whose probe of versions and ciphers stands for this one (same server software, same certificate) */
  versionsFrom: Nullable(Type.Integer()),
  detail: Type.Optional(Type.String()),
  /** inside a diagnosis: the handshake is the smtp or pop3 check's, not a connection of this check's own */
  reused: Type.Optional(Type.Boolean()),
  ms: Type.Number()
})

export const TlsVersionsSchema = Obj({
  ports: Type.Array(Type.Integer()),
  probedOn: Type.Integer(),
  /** the oldest protocol of TLS 1.1, 1.0 and SSLv3 the server accepted, null: none */
  legacy: Nullable(Type.String()),
  sslv3: Nullable(Type.Boolean()),
  /** a weak cipher the server chose when offered only weak ones */
  weakCipher: Nullable(Obj({ name: Type.String(), kind: Type.String() })),
  connections: Type.Integer()
})

export const DnssecFactSchema = Obj({ name: Type.String(), status: Lit('secure', 'insecure', 'bogus', 'unknown'), reason: Nullable(Type.String()) })

export const DnssecFactsSchema = Obj({
  resolver: Type.String(),
  domain: DnssecFactSchema,
  host: DnssecFactSchema
})

export const TlsaResultSchema = Obj({
  usage: Type.Integer(),
  selector: Type.Integer(),
  matchingType: Type.Integer(),
  data: Type.String(),
  verdict: Lit('match', 'no_match', 'unusable'),
  reason: Nullable(Type.String()),
  matchedDepth: Nullable(Type.Integer())
})

export const DaneFactsSchema = Obj({
  name: Type.String(),
  /** the TLSA lookup's DNSSEC status: records only count when secure */
  status: Lit('secure', 'insecure', 'bogus', 'unknown'),
  records: Type.Array(TlsaResultSchema),
  matched: Type.Boolean(),
  /** the 3 1 1 record the presented certificate would need */
  wanted: Nullable(Type.String())
})

export const MtaStsFactsSchema = Obj({
  record: Nullable(Obj({ valid: Type.Boolean(), id: Nullable(Type.String()), problem: Nullable(Type.String()), raw: Type.String() })),
  fetched: Type.Boolean(),
  url: Type.String(),
  ip: Nullable(Type.String()),
  status: Nullable(Type.Integer()),
  location: Nullable(Type.String()),
  certificateValid: Nullable(Type.Boolean()),
  problem: Nullable(Type.String()),
  mode: Nullable(Type.String()),
  mx: Type.Array(Type.String()),
  maxAge: Nullable(Type.Integer()),
  policyProblems: Type.Array(Type.String()),
  hosts: Type.Array(Obj({ host: Type.String(), matches: Type.Boolean() }))
})

export const TlsRptFactsSchema = Obj({ valid: Type.Boolean(), rua: Type.Array(Type.String()), problems: Type.Array(Type.String()), raw: Type.String() })

export type TlsServiceFacts = Static<typeof TlsServiceSchema>
export type TlsVersionsFacts = Static<typeof TlsVersionsSchema>
export type DnssecFacts = Static<typeof DnssecFactsSchema>
export type DaneFacts = Static<typeof DaneFactsSchema>
export type MtaStsFacts = Static<typeof MtaStsFactsSchema>
export type TlsRptFacts = Static<typeof TlsRptFactsSchema>

export const TlsCheckDataProps = {
  /** tls: every TLS service of the MX host that answers */
  services: Type.Optional(Type.Array(TlsServiceSchema)),
  /** tls: protocol versions and weak ciphers, probed once per server software and certificate */
  versions: Type.Optional(Type.Array(TlsVersionsSchema)),
  /** tls: DNSSEC of the domain and of the MX host's zone, as the validating resolver says */
  dnssec: Type.Optional(DnssecFactsSchema),
  /** tls: DANE TLSA records at _25._tcp.<mx host> and how each matches */
  dane: Type.Optional(Nullable(DaneFactsSchema)),
  /** tls: the MTA-STS record and policy */
  mtaSts: Type.Optional(MtaStsFactsSchema),
  /** tls: the TLS-RPT record */
  tlsRpt: Type.Optional(Nullable(TlsRptFactsSchema))
}
