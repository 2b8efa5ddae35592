import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBase64url, decodeCanonical, isBase64url } from '../../src/core/base64url.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')
// mostly base64url, with the characters a lenient decoder would take or skip
const nearBase64url = fc
  .array(fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...ALPHABET) }, fc.constantFrom('+', '/', '=', ' ', '\n', '.', '\u00e9', '\u0100', '\ud83d')), { maxLength: 40 })
  .map((c) => c.join(''))

describe('decodeCanonical', () => {
  it('accepts exactly what isBase64url accepts, and decodes it', () => {
    fc.assert(
      fc.property(fc.oneof(nearBase64url, fc.string(), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url'))), (s) => {
        const bytes = decodeCanonical(s)
        expect(bytes !== undefined).toBe(isBase64url(s))
        if (bytes) expect(Array.from(bytes)).toEqual(Array.from(decodeBase64url(s)))
      }),
      { numRuns: 5000 },
    )
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
