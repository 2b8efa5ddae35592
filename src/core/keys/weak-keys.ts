/**
 * Checks that refuse a public key before it verifies anything: RSA modulus size and exponent, the
 * ROCA fingerprint (CVE-2017-15361), and EC points on their curve. Run once, when a key is read.
 *
 * @module bearer-guard
 */
import { RSA_BITS } from '../limits.js'

/** Why an RSA public key (modulus and exponent, big-endian bytes) is refused, or `undefined`. */
export function rsaWeakness(modulus: Uint8Array, exponent: Uint8Array): string | undefined {
  const bits = modulusBits(modulus)
  if (bits < RSA_BITS.min || bits > RSA_BITS.max) return `RSA modulus of ${bits} bits`
  const e = stripZeros(exponent)
  if (e.length === 0 || e.length > 4 || ((e[e.length - 1] as number) & 1) === 0 || (e.length === 1 && (e[0] as number) < 3)) {
    return 'RSA exponent unusable'
  }
  return undefined
}

/** Bits of an RSA modulus (big-endian bytes, leading zeros ignored). */
export function modulusBits(modulus: Uint8Array): number {
  const n = stripZeros(modulus)
  return n.length === 0 ? 0 : (n.length - 1) * 8 + bitLength(n[0] as number)
}

function stripZeros(bytes: Uint8Array): Uint8Array {
  let i = 0
  while (i < bytes.length && bytes[i] === 0) i++
  return bytes.subarray(i)
}

function bitLength(byte: number): number {
  let n = 0
  while (byte > 0) { n++; byte >>= 1 }
  return n
}

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n
  for (const byte of bytes) n = (n << 8n) | BigInt(byte)
  return n
}

/** Short Weierstrass parameters (a = p - 3) of the NIST curves JWS uses. */
const CURVE_PARAMS: Record<string, { p: bigint; b: bigint }> = {
  'P-256': {
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  'P-384': {
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  'P-521': {
    p: 2n ** 521n - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
}

/**
 * True when (x, y) is a point of the curve: y² = x³ - 3x + b (mod p), with x, y < p. Checked on
 * every backend, so an invalid-curve key is skipped when the JWKS is read, not at first use.
 */
export function isOnCurve(crv: string, xBytes: Uint8Array, yBytes: Uint8Array): boolean {
  const params = CURVE_PARAMS[crv]
  if (!params) return false
  const { p, b } = params
  const x = toBigInt(xBytes)
  const y = toBigInt(yBytes)
  if (x >= p || y >= p) return false
  return (y * y - (x * x * x - 3n * x + b)) % p === 0n
}

/**
 * The ROCA fingerprint (Nemec et al., CCS 2017; CVE-2017-15361): moduli made by Infineon's vulnerable
 * key generator are, modulo each of these small primes, a power of 65537. An ordinary modulus passes
 * all of them by chance with probability below 2^-150.
 */
const ROCA_PRIMES = [
  3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101,
  103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
]
let rocaSubgroups: { p: bigint; powers: Set<number> }[] | undefined

export function hasRocaFingerprint(modulus: Uint8Array): boolean {
  rocaSubgroups ??= ROCA_PRIMES.map((p) => {
    const powers = new Set<number>()
    for (let x = 1; !powers.has(x); x = (x * (65537 % p)) % p) powers.add(x)
    return { p: BigInt(p), powers }
  })
  const n = toBigInt(stripZeros(modulus))
  return rocaSubgroups.every(({ p, powers }) => powers.has(Number(n % p)))
}
