import { createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createHmacVerifier, equalBytes } from '../../src/core/keys/hmac.js'

// The node:crypto HMAC path hashes over precomputed key pads (crypto.hash) instead of createHmac:
// it must decide exactly as createHmac does, for every key length around the block sizes.
describe('HMAC verification on node:crypto', () => {
  const keyLengths = [0, 1, 32, 63, 64, 65, 127, 128, 129, 300]
  const dataLengths = [0, 1, 100, 600, 3000, 9000]

  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it(`accepts exactly createHmac's ${alg} MAC, for keys of ${keyLengths.join(', ')} bytes`, () => {
      for (const keyLength of keyLengths) {
        const secret = randomBytes(keyLength)
        const verify = createHmacVerifier(secret)
        for (const dataLength of dataLengths) {
          const data = randomBytes(dataLength)
          const mac = createHmac(`sha${alg.slice(2)}`, secret).update(data).digest()
          expect(verify(alg, data, mac)).toBe(true)
          for (const i of [0, mac.length >> 1, mac.length - 1]) {
            const bad = Buffer.from(mac)
            bad[i] = (bad[i] as number) ^ 0x01
            expect(verify(alg, data, bad)).toBe(false)
          }
          expect(verify(alg, data, mac.subarray(1))).toBe(false)
        }
      }
    })
  }

  it('keeps verifying correctly after a longer input grew its buffer', () => {
    const secret = randomBytes(32)
    const verify = createHmacVerifier(secret)
    for (const length of [10, 5000, 10, 20000, 3]) {
      const data = randomBytes(length)
      expect(verify('HS256', data, createHmac('sha256', secret).update(data).digest())).toBe(true)
    }
  })

  it('runs on crypto.hash (two passes per check, after its self-check), for bytes and for the signing input as a string', () => {
    // the fallback to createHmac would pass every test above: this one fails if the fast path is off
    const nc = process.getBuiltinModule('node:crypto') as { hash: (...args: unknown[]) => unknown }
    const original = nc.hash
    const encodings: unknown[] = []
    nc.hash = (...args: unknown[]) => {
      encodings.push(args[2])
      return original(...args)
    }
    try {
      const secret = randomBytes(32)
      const verify = createHmacVerifier(secret)
      const input = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0'
      const mac = createHmac('sha256', secret).update(input).digest()
      expect(verify('HS256', input, mac)).toBe(true)
      const selfCheck = encodings.length - 2
      expect(selfCheck).toBeGreaterThan(0)
      expect(verify('HS256', Buffer.from(input), mac)).toBe(true)
      const bad = Buffer.from(mac)
      bad[31] = (bad[31] as number) ^ 0x80
      expect(verify('HS256', input, bad)).toBe(false)
      expect(encodings.length).toBe(selfCheck + 6)
      expect(new Set(encodings)).toEqual(new Set(['binary']))
    } finally {
      nc.hash = original
    }
  })

  it('refuses a MAC under an algorithm that is not HS256, HS384 or HS512', () => {
    const secret = randomBytes(32)
    const verify = createHmacVerifier(secret)
    const data = randomBytes(100)
    const mac = createHmac('sha256', secret).update(data).digest()
    for (const alg of ['RS256', 'XS256', 'HS255', 'hs256', 'HS2560'] as never[]) expect(verify(alg, data, mac)).toBe(false)
  })
})

describe('equalBytes (the MAC comparison)', () => {
  it('is true only for equal bytes of equal length, wherever they differ', () => {
    const a = randomBytes(64)
    expect(equalBytes(a, Buffer.from(a))).toBe(true)
    expect(equalBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true)
    for (let i = 0; i < a.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const b = Buffer.from(a)
        b[i] = (b[i] as number) ^ bit
        expect(equalBytes(a, b)).toBe(false)
      }
    }
    expect(equalBytes(a, a.subarray(0, 63))).toBe(false)
    expect(equalBytes(a.subarray(0, 63), a)).toBe(false)
  })
})
