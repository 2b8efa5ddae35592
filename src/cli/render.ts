/**
 * The report of `bearer-guard inspect`, as text for people (colours only on a terminal) or as one
 * JSON object for scripts. Every value that comes from the token is escaped: a claim cannot move
 * the cursor, recolour the terminal or reorder text (control, bidi and line-separator characters).
 *
 * Part of the `bearer-guard` bin (`npx bearer-guard inspect`), not of an export.
 */
import type { Binding, InputKind } from './decode.js'
import { span } from './time.js'

export interface TimeFact {
  value: number
  iso: string
  /** Seconds from now: negative in the past. */
  relative: number
  text: string
}

export interface ValidOutcome {
  valid: true
  subject: string | null
  issuer: string | null
  audience: string[]
  roles: string[]
  scopes: string[]
  expiresAt: string
  /** Seconds from now. */
  expiresIn: number
}

export interface RefusedOutcome {
  valid: false
  status: number
  code: string
  description: string
  reason: string
  claim: string | null
  hint: string
  /** Which hint rule answered (stable, for scripts and tests). */
  hintId: string
  /** A key-source failure: what failed, HTTP status, root cause. */
  cause: { kind: string | null; status: number | null; code: string | null; message: string | null } | null
}

export interface Report {
  input: { kind: InputKind; scheme: string | null; length: number; token: string }
  header: Record<string, unknown> | null
  claims: Record<string, unknown> | null
  times: Record<string, TimeFact>
  binding: Binding | null
  /** What verified the token (`null`: decoded only). */
  keySource: string | null
  outcome: ValidOutcome | RefusedOutcome | null
  notes: string[]
  warnings: string[]
}

export interface Style {
  bold(s: string): string
  dim(s: string): string
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`
const plain = (s: string) => s

/** ANSI styles, or none. */
export function styles(color: boolean): Style {
  return color
    ? { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39) }
    : { bold: plain, dim: plain, red: plain, green: plain, yellow: plain }
}

/**
 * Colours only when stdout is a terminal, `NO_COLOR` is unset or empty (no-color.org), and
 * `--no-color` was not given.
 */
export function useColor(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>, noColorFlag: boolean): boolean {
  return isTTY === true && !noColorFlag && (env.NO_COLOR === undefined || env.NO_COLOR === '')
}

/** Escapes what could drive or fool a terminal: C0/C1 controls, line separators, bidi controls. */
export function safe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A JSON value on one line, escaped, cut at `max` characters. */
function show(value: unknown, max = 400): string {
  const text = JSON.stringify(value) ?? String(value)
  return safe(text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text)
}

const KIND: Record<InputKind, string> = {
  jwt: 'JWT',
  jwe: 'JWE (encrypted) — not a JWT access token this API can read',
  jws: 'JWS whose payload is not a claims set — not a JWT',
  opaque: 'opaque token — not a JWT',
  malformed: 'not a token',
}

const LABEL = 10

/** The report as text. */
export function renderText(report: Report, st: Style): string {
  const lines: string[] = []
  const row = (label: string, text: string) => lines.push(`${st.bold(label.padEnd(LABEL))}${text}`)
  const more = (text: string) => lines.push(`${' '.repeat(LABEL)}${text}`)
  const { input } = report
  const removed = input.scheme ? `; "${input.scheme} " removed` : ''
  row('token', `${safe(input.token)}  ${st.dim(`(${input.length} character${input.length === 1 ? '' : 's'}${removed})`)}`)
  const alg = typeof report.header?.alg === 'string' ? `, signed with ${safe(report.header.alg)}` : ''
  row('kind', input.kind === 'jwt' ? `JWT${alg}${report.outcome === null ? ' — decoded, not verified' : ''}` : KIND[input.kind])

  for (const [title, obj] of [['header', report.header], ['claims', report.claims]] as const) {
    if (!obj) continue
    lines.push('', st.bold(title))
    const keys = Object.keys(obj)
    const width = Math.min(24, Math.max(0, ...keys.map((k) => safe(k).length)) + 2)
    for (const key of keys) {
      const time = title === 'claims' ? report.times[key] : undefined
      const value = time ? `${show(obj[key])}  ${st.dim(time.iso)}  ${time.text}` : show(obj[key])
      lines.push(`  ${safe(key).padEnd(width)}${value}`)
    }
  }
  if (report.binding) {
    lines.push('')
    const b = report.binding
    if (b.type === 'dpop') {
      row('bound', `DPoP-bound (cnf.jkt): key thumbprint (RFC 7638) ${safe(b.thumbprint)}`)
      more('requests must also carry a DPoP proof (RFC 9449) signed by that key; as a plain bearer token it is refused by DPoP-aware servers')
    } else if (b.type === 'mtls') {
      row('bound', `certificate-bound (cnf.x5t#S256): certificate thumbprint ${safe(b.thumbprint)}`)
      more('requests must come over mutual TLS with that client certificate (RFC 8705)')
    } else {
      row('bound', `key-bound (cnf.jwk): key thumbprint (RFC 7638) ${safe(b.thumbprint)}`)
    }
  }
  if (report.notes.length > 0) {
    lines.push('')
    for (const note of report.notes) row('note', st.yellow(safe(note)))
  }
  lines.push('')
  const o = report.outcome
  if (o === null) {
    if (input.kind === 'jwt') {
      row('result', 'not verified: no key source given')
      // the issuer to verify against is the one you trust, not the one the token names
      more(st.dim('to check the signature and claims: --issuer <the issuer you trust> --audience <this API>, or --jwks-uri, or --preset'))
    }
  } else if (o.valid) {
    row('result', `${st.green(st.bold('VALID'))}  ${st.dim(`verified with ${safe(report.keySource ?? '')}`)}`)
    row('subject', show(o.subject))
    row('issuer', show(o.issuer))
    row('audience', o.audience.map((a) => show(a)).join(', ') || st.dim('(none)'))
    row('roles', o.roles.map((r) => safe(r)).join(', ') || st.dim('(none)'))
    row('scopes', o.scopes.map((s) => safe(s)).join(' ') || st.dim('(none)'))
    row('expires', `in ${span(o.expiresIn)}  ${st.dim(o.expiresAt)}`)
  } else {
    const verdict = st.bold(input.kind !== 'jwt' ? st.red('NOT A JWT') : o.status === 503 ? st.yellow('KEY SOURCE DOWN') : st.red('REFUSED'))
    row('result', `${verdict}  ${o.status} ${safe(o.code)}: ${safe(o.description)}${o.claim ? st.dim(`  (claim ${safe(o.claim)})`) : ''}`)
    row('reason', safe(o.reason))
    // the root cause, unless the reason already says it
    if (o.cause?.message && !o.reason.includes(o.cause.message)) row('cause', safe(o.cause.message))
    row('hint', st.yellow(safe(o.hint)))
  }
  return `${lines.join('\n')}\n`
}
