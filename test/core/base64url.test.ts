import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBase64url, decodeCanonical, decodeCanonicalJs, decodeJsonPart, isBase64url, NOT_BASE64URL, parseJsonObject } from '../../src/core/base64url.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')
// mostly base64url, with the characters a lenient decoder would take or skip
const nearBase64url = fc
  .array(fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...ALPHABET) }, fc.constantFrom('+', '/', '=', ' ', '\n', '.', '\u00e9', '\u0100', '\ud83d')), { maxLength: 40 })
  .map((c) => c.join(''))

describe('decodeCanonical', () => {
  it('accepts exactly what isBase64url accepts, and decodes it', () => {
    fc.assert(
      fc.property(fc.oneof(nearBase64url, nearBase64url.map((t) => 'QUFB'.repeat(33) + t), fc.string(), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64url'))), (s) => {
        const bytes = decodeCanonical(s)
        expect(bytes !== undefined).toBe(isBase64url(s))
        if (bytes) expect(Array.from(bytes)).toEqual(Array.from(decodeBase64url(s)))
      }),
      { numRuns: 5000 },
    )
  })

  it('refuses every ASCII character outside the alphabet, at every position, alone or doubled', () => {
    // short parts are decoded in JavaScript, parts over 128 characters natively: both are covered
    const bases = ['', 'Q', 'QU', 'QUE', 'QUFB', 'QUFBQ', 'QUFBQUE', 'QUFBQUFB', 'eyJhIjoxfQ', 'QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB', 'QUFB'.repeat(33), `${'QUFB'.repeat(33)}QU`]
    let checked = 0
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c)
      if (ALPHABET.includes(ch)) continue
      for (const base of bases) {
        for (let pos = 0; pos <= base.length; pos++) {
          for (const bad of [ch, ch + ch]) {
            const s = base.slice(0, pos) + bad + base.slice(pos)
            checked++
            expect(decodeCanonical(s)).toBeUndefined()
            expect(decodeJsonPart(s)).toBe(NOT_BASE64URL)
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(40_000)
  })

  it('refuses characters beyond ASCII whose low byte is in the alphabet', () => {
    // U+0141 is 0x41 ('A') in its low byte: a decoder that truncates would read it as 'A'
    for (const s of ['QUF\u0141', '\u0141UFB', 'QU\u0146B', 'QUFBQUFB\u0151g', 'QUFB\u00c1A', `${'QUFB'.repeat(33)}QU\u0141B`]) {
      expect(decodeCanonical(s)).toBeUndefined()
      expect(decodeJsonPart(s)).toBe(NOT_BASE64URL)
    }
  })

  it('refuses non-canonical spellings', () => {
    for (const s of ['YR', 'YWJ', 'YQ==', 'Y', 'YWJj=', 'a+b/', 'YW Jj', 'YWJj\n']) {
      expect(decodeCanonical(s)).toBeUndefined()
      expect(isBase64url(s)).toBe(false)
    }
    expect(Array.from(decodeCanonical('YQ') ?? [])).toEqual([0x61])
    expect(Array.from(decodeCanonical('') ?? [1])).toEqual([])
  })
})

describe('decodeCanonicalJs (short signatures)', () => {
  it('answers exactly as decodeCanonical', () => {
    fc.assert(
      fc.property(fc.oneof(nearBase64url, fc.string(), fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b).toString('base64url'))), (s) => {
        const js = decodeCanonicalJs(s)
        const native = decodeCanonical(s)
        expect(js === undefined).toBe(native === undefined)
        if (js && native) expect(Array.from(js)).toEqual(Array.from(native))
      }),
      { numRuns: 5000 },
    )
  })

  it('refuses non-canonical spellings and characters beyond ASCII', () => {
    for (const s of ['YR', 'YWJ', 'YQ==', 'Y', 'YWJj=', 'a+b/', 'YW Jj', 'YWJj\n', 'YW\u0141j', 'YW\u00c1j', 'YWJ\u0000']) {
      expect(decodeCanonicalJs(s)).toBeUndefined()
    }
    expect(Array.from(decodeCanonicalJs('YQ') ?? [])).toEqual([0x61])
    expect(Array.from(decodeCanonicalJs('YWI') ?? [])).toEqual([0x61, 0x62])
    expect(Array.from(decodeCanonicalJs('') ?? [1])).toEqual([])
  })
})

describe('decodeJsonPart (payloads)', () => {
  const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url')
  const reference = (s: string) => {
    const bytes = decodeCanonical(s)
    return bytes ? parseJsonObject(bytes) : NOT_BASE64URL
  }

  it('answers as decodeCanonical then parseJsonObject', () => {
    const json = fc.oneof(
      fc.json().map((j) => b64(j)),
      fc.dictionary(fc.string(), fc.jsonValue()).map((o) => b64(JSON.stringify(o))),
      fc.tuple(fc.constantFrom('\uFEFF', '\uFEFF\uFEFF', ' ', '\uFFFD'), fc.dictionary(fc.string(), fc.jsonValue())).map(([p, o]) => b64(p + JSON.stringify(o))),
      fc.uint8Array({ maxLength: 64 }).map(b64),
      nearBase64url,
    )
    fc.assert(
      fc.property(json, (s) => {
        expect(decodeJsonPart(s)).toEqual(reference(s))
      }),
      { numRuns: 3000 },
    )
  })

  it('skips a leading byte order mark as the strict decoder does, and only one', () => {
    for (const text of ['\uFEFF{"a":1}', '\uFEFF\uFEFF{"a":1}', ' \uFEFF{"a":1}', '{"a":"\uFEFF"}']) {
      expect(decodeJsonPart(b64(text))).toEqual(reference(b64(text)))
    }
    expect(decodeJsonPart(b64('\uFEFF{"a":1}'))).toEqual({ a: 1 })
  })

  it('refuses invalid UTF-8 but keeps a real U+FFFD', () => {
    expect(decodeJsonPart(b64(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])))).toBeUndefined()
    expect(decodeJsonPart(b64(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])))).toBeUndefined()
    expect(decodeJsonPart(b64('{"a":"\uFFFD é 😀"}'))).toEqual({ a: '\uFFFD é 😀' })
  })

  it('refuses non-canonical base64url and JSON that is not an object', () => {
    const canonical = b64('{"a":1}')
    expect(decodeJsonPart(canonical)).toEqual({ a: 1 })
    expect(decodeJsonPart(`${canonical}=`)).toBe(NOT_BASE64URL)
    expect(canonical.endsWith('Q')).toBe(true)
    expect(decodeJsonPart(canonical.replace(/.$/, 'R'))).toBe(NOT_BASE64URL)
    expect(decodeJsonPart(b64('[1]'))).toBeUndefined()
    expect(decodeJsonPart(b64('null'))).toBeUndefined()
    expect(decodeJsonPart(b64('{"a":'))).toBeUndefined()
  })

  it('decodes parts larger than its scratch bytes the same way', () => {
    const big = { pad: 'x'.repeat(10_000), n: 1 }
    expect(decodeJsonPart(b64(JSON.stringify(big)))).toEqual(big)
    expect(decodeJsonPart(`${b64(JSON.stringify(big))}=`)).toBe(NOT_BASE64URL)
  })

  it('does not keep bytes of an earlier part', () => {
    expect(decodeJsonPart(b64(JSON.stringify({ long: 'y'.repeat(500) })))).toEqual({ long: 'y'.repeat(500) })
    expect(decodeJsonPart(b64('{"a":2}'))).toEqual({ a: 2 })
  })
})
