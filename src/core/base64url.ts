/**
 * Strict base64url (RFC 4648 §5, no padding) for the three parts of a compact JWS.
 *
 * @module bearer-guard
 */
type NodeBytes = Uint8Array & {
  toString(encoding: string, start?: number, end?: number): string
  write(s: string, offset: number, encoding: string): number
}
interface NodeBuffer {
  from(s: string, enc: string): NodeBytes
  allocUnsafeSlow(size: number): NodeBytes
  byteLength(s: string, enc: string): number
}
const BufferCtor: NodeBuffer | undefined = (globalThis as { Buffer?: NodeBuffer }).Buffer

const ALPHABET = /^[A-Za-z0-9_-]*$/

const CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Sextet values of the base64url alphabet by char code (ASCII only); -1 elsewhere. */
const SEXTET = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++) SEXTET[CHARS.charCodeAt(i)] = i

function sextet(s: string, i: number): number {
  const c = s.charCodeAt(i)
  return c < 128 ? (SEXTET[c] as number) : -1
}

/**
 * True when `s` is canonical unpadded base64url that decodes to whole bytes: the unused low bits of
 * the last character must be zero (RFC 4648 §3.5), so one token has only one spelling.
 */
export function isBase64url(s: string): boolean {
  const rem = s.length % 4
  return rem !== 1 && ALPHABET.test(s) && noUnusedBits(s)
}

/** For base64url of a length other than 4n+1: whether its last character leaves no unused bit set. */
function noUnusedBits(s: string): boolean {
  const rem = s.length & 3
  if (rem === 0) return true
  const last = sextet(s, s.length - 1)
  return last >= 0 && (last & (rem === 2 ? 0x0f : 0x03)) === 0
}

/**
 * Decodes `s` when `isBase64url(s)` holds, else `undefined`: the same answer, cheaper. Short parts,
 * and every part where Buffer is missing, go to `decodeCanonicalJs`. Longer ones on Node: `s` is checked ASCII (its UTF-8 length is its length), free of `+` and `/` (which Node's decoder
 * also takes) and of unused bits in its last character, then decoded natively: every other character
 * outside the alphabet, padding included, is skipped or ends the decoding, so the bytes come out
 * shorter than `s`'s length implies (tested for every ASCII character at every position). No string
 * is built: a token's payload and RSA signature are ~800 characters.
 */
export function decodeCanonical(s: string): Uint8Array | undefined {
  if (BufferCtor && s.length > SHORT_PART) {
    const length = canonicalLength(s)
    if (length < 0) return undefined
    const bytes = BufferCtor.from(s, 'base64url')
    return bytes.length === length ? bytes : undefined
  }
  return decodeCanonicalJs(s)
}

/**
 * Parts up to this length (an HMAC up to SHA-512, ECDSA up to P-384, EdDSA: 86 characters) are
 * decoded in JavaScript, also on Node: a native call costs more than the work. RSA's 342+ go native.
 */
const SHORT_PART = 128

/**
 * The byte length `s` decodes to if it is canonical base64url, or -1 when a check that needs no
 * decoding already refuses it (not ASCII, `+` or `/`, a length of 4n+1, unused bits set). The
 * caller decodes natively and compares the length (see `decodeCanonical`).
 */
function canonicalLength(s: string): number {
  const n = s.length
  const rem = n & 3
  if (rem === 1 || (BufferCtor as NodeBuffer).byteLength(s, 'utf8') !== n || s.indexOf('+') !== -1 || s.indexOf('/') !== -1) return -1
  if (!noUnusedBits(s)) return -1
  return decodedLength(n)
}

/** Bytes decoded from `n` base64url characters (n not 4k+1). */
function decodedLength(n: number): number {
  const rem = n & 3
  return (n >>> 2) * 3 + (rem === 0 ? 0 : rem - 1)
}

/** Decodes base64url already checked with `isBase64url`. */
export function decodeBase64url(s: string): Uint8Array {
  if (BufferCtor) return BufferCtor.from(s, 'base64url')
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/')
  const bin = atob(b64 + '==='.slice((b64.length + 3) % 4))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** Parses UTF-8 JSON bytes (invalid UTF-8 refused) that must be an object; `undefined` for anything else. */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    return undefined
  }
  return parseJsonText(text)
}

/** The UTF-8 text of base64url already checked with `isBase64url`; `undefined` when it is not UTF-8. */
export function decodeJsonText(s: string): string | undefined {
  try {
    return decoder.decode(decodeBase64url(s))
  } catch {
    return undefined
  }
}

/** JSON text that must be an object; `undefined` for anything else. */
export function parseJsonText(text: string): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

/**
 * The first member name that appears twice in one object of `text`, at any depth (`"\u0061lg"` is
 * `"alg"`), or `undefined`. `text` must be valid JSON (parse it first): strings are then
 * well-formed, so a scan that skips them and tracks braces is exact.
 */
export function findDuplicateMember(text: string): string | undefined {
  // per open object its names so far; `null` for an open array
  const open: (Set<string> | null)[] = []
  let expectName = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // a string: find its end, skipping escaped characters
      let j = i + 1
      let escaped = false
      for (;;) {
        const d = text.charCodeAt(j)
        if (d === 0x22) break
        if (d === 0x5c) {
          escaped = true
          j += 2
        } else j++
      }
      const names = open[open.length - 1]
      if (expectName && names) {
        const raw = text.slice(i + 1, j)
        const name = escaped ? (JSON.parse(`"${raw}"`) as string) : raw
        if (names.has(name)) return name
        names.add(name)
        expectName = false
      }
      i = j
    } else if (c === 0x7b) {
      open.push(new Set())
      expectName = true
    } else if (c === 0x5b) {
      open.push(null)
      expectName = false
    } else if (c === 0x7d || c === 0x5d) {
      open.pop()
      expectName = false
    } else if (c === 0x2c) {
      expectName = open[open.length - 1] != null
    } else if (c === 0x3a) {
      expectName = false
    }
  }
  return undefined
}

/** What `decodeJsonPart` answers for a part that is not canonical base64url. */
export const NOT_BASE64URL = Symbol('not base64url')

/** Scratch bytes for `decodeJsonPart`: a part is decoded, parsed and done with before the next one. */
const SCRATCH_SIZE = 6144
let scratch: NodeBytes | undefined

/**
 * A JWS part that must be canonical base64url (as `decodeCanonical`) of a UTF-8 JSON object (as
 * `parseJsonObject`): the object, `undefined` when it is base64url but not such JSON, or
 * `NOT_BASE64URL`. On Node, a part that fits decodes into scratch bytes (no buffer per token, no
 * `TextDecoder` call: its replacement character only sends a part to the strict decoder).
 */
export function decodeJsonPart(s: string): Record<string, unknown> | undefined | typeof NOT_BASE64URL {
  if (BufferCtor && s.length <= (SCRATCH_SIZE / 3) * 4) {
    const buf = (scratch ??= BufferCtor.allocUnsafeSlow(SCRATCH_SIZE))
    const length = canonicalLength(s)
    if (length < 0) return NOT_BASE64URL
    const n = buf.write(s, 0, 'base64url')
    if (n !== length) return NOT_BASE64URL
    let text = buf.toString('utf8', 0, n)
    // U+FFFD: invalid UTF-8 replaced, or a real one; the strict decoder tells which
    if (text.includes('\uFFFD')) return parseJsonObject(buf.subarray(0, n))
    // a leading byte order mark is skipped, as TextDecoder does
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    return parseJsonText(text)
  }
  const bytes = decodeCanonical(s)
  return bytes ? parseJsonObject(bytes) : NOT_BASE64URL
}

/** Bytes of a latin1/ASCII string (the JWS signing input is ASCII). */
export function asciiBytes(s: string): Uint8Array {
  if (BufferCtor) return BufferCtor.from(s, 'latin1')
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

/**
 * `decodeCanonical` in plain JavaScript: the same answer (bytes when `isBase64url(s)` holds, else
 * `undefined`) without a native call; what `decodeCanonical` uses for short parts and without Buffer.
 */
export function decodeCanonicalJs(s: string): Uint8Array | undefined {
  const n = s.length
  const rem = n & 3
  if (rem === 1) return undefined
  const out = new Uint8Array(decodedLength(n))
  let o = 0
  let i = 0
  for (; i + 4 <= n; i += 4) {
    const a = sextet(s, i)
    const b = sextet(s, i + 1)
    const c = sextet(s, i + 2)
    const d = sextet(s, i + 3)
    if ((a | b | c | d) < 0) return undefined
    const v = (a << 18) | (b << 12) | (c << 6) | d
    out[o++] = v >>> 16
    out[o++] = (v >>> 8) & 0xff
    out[o++] = v & 0xff
  }
  if (rem === 0) return out
  const a = sextet(s, i)
  const b = sextet(s, i + 1)
  if ((a | b) < 0) return undefined
  out[o++] = (a << 2) | (b >>> 4)
  if (rem === 2) return (b & 0x0f) === 0 ? out : undefined
  const c = sextet(s, i + 2)
  if (c < 0 || (c & 0x03) !== 0) return undefined
  out[o] = ((b & 0x0f) << 4) | (c >>> 2)
  return out
}
