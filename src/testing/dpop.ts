/**
 * Sender-constrained test tokens (private): a DPoP-bound token (`cnf.jkt`, RFC 9449 §6) with the
 * proof signer of its fresh key pair, and a certificate-bound one (`cnf["x5t#S256"]`, RFC 8705 §3.1).
 *
 * @module bearer-guard/testing
 */
import { base64url, calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, type JWK as JoseJWK } from 'jose'
import type { ClientCertificate } from '../core/request.js'
import type { JWK } from '../core/types.js'
import type { Sign } from './tokens.js'
import type { DpopBoundToken, DpopKeyOptions, DpopProofRequest, SignOptions, TestDpopAlgorithm } from './types.js'

/** Algorithms a test DPoP key signs proofs with: RFC 9449's usual asymmetric ones. */
export const DPOP_ALGORITHMS: readonly TestDpopAlgorithm[] = ['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256', 'RS256']

const encoder = new TextEncoder()

/** `sign` of the facade: a plain token, or with `dpop`, a bound token and its proof signer. */
export async function signToken(
  sign: Sign,
  claims: Record<string, unknown> | undefined,
  options: (SignOptions & { dpop?: boolean | DpopKeyOptions }) | undefined,
): Promise<string | DpopBoundToken> {
  const { dpop, certificate, ...rest } = options ?? {}
  const cnf: Record<string, string> = {}
  if (certificate !== undefined) cnf['x5t#S256'] = await certificateThumbprint(certificate)
  if (dpop === undefined || dpop === false) {
    return sign(Object.keys(cnf).length > 0 ? { cnf, ...claims } : claims, rest)
  }
  const key = await createDpopKey(dpop === true ? undefined : dpop.algorithm)
  const token = await sign({ cnf: { ...cnf, jkt: key.jkt }, ...claims }, rest)
  const proof = (request: DpopProofRequest) =>
    key.proof({ ...request, accessToken: request.accessToken === undefined ? token : request.accessToken })
  return Object.freeze({
    token,
    jkt: key.jkt,
    publicJwk: key.publicJwk,
    algorithm: key.algorithm,
    proof,
    async headers(request: DpopProofRequest) {
      return { authorization: `DPoP ${token}`, dpop: await proof(request) }
    },
  })
}

interface DpopKey {
  readonly algorithm: TestDpopAlgorithm
  readonly jkt: string
  readonly publicJwk: JWK
  proof(request: DpopProofRequest): Promise<string>
}

/** A fresh key pair, its RFC 7638 thumbprint, and the proofs it signs. */
async function createDpopKey(algorithm: TestDpopAlgorithm = 'ES256'): Promise<DpopKey> {
  if (!DPOP_ALGORITHMS.includes(algorithm)) {
    throw new TypeError(`"dpop.algorithm" must be one of ${DPOP_ALGORITHMS.join(', ')}, got '${String(algorithm)}'`)
  }
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true })
  const jwk = await exportJWK(publicKey)
  const jkt = await calculateJwkThumbprint(jwk, 'sha256')
  return {
    algorithm,
    jkt,
    publicJwk: jwk as JWK,
    async proof(request) {
      const { method, url, nonce, accessToken, claims, header } = request
      if (typeof method !== 'string' || method === '') throw new TypeError('proof() needs "method", such as \'GET\'')
      const payload: Record<string, unknown> = {
        jti: crypto.randomUUID(),
        htm: method,
        htu: htu(url),
        iat: Math.floor(Date.now() / 1000),
      }
      if (typeof accessToken === 'string') payload.ath = await sha256(accessToken)
      if (nonce !== undefined) payload.nonce = nonce
      Object.assign(payload, claims)
      return new CompactSign(encoder.encode(JSON.stringify(payload)))
        .setProtectedHeader({ typ: 'dpop+jwt', alg: algorithm, jwk: jwk as JoseJWK, ...header })
        .sign(privateKey)
    },
  }
}

/** `htu` of a request URL: without query and fragment (RFC 9449 §4.2). */
function htu(url: string | URL): string {
  let parsed: URL
  try {
    parsed = new URL(String(url))
  } catch {
    throw new TypeError(`proof() needs "url" as an absolute URL, got '${String(url)}'`)
  }
  parsed.search = ''
  parsed.hash = ''
  return parsed.href
}

/** `x5t#S256`: the base64url SHA-256 of the certificate's DER bytes (RFC 8705 §3.1). */
export async function certificateThumbprint(certificate: ClientCertificate): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', toBuffer(der(certificate)))))
}

function der(certificate: ClientCertificate): Uint8Array {
  if (typeof certificate === 'string') {
    const match = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(certificate)
    if (!match) throw new TypeError('"certificate" must be a PEM certificate, its DER bytes, or an X509Certificate')
    return Uint8Array.from(atob((match[1] as string).replace(/\s+/g, '')), (c) => c.charCodeAt(0))
  }
  if (certificate instanceof Uint8Array) return certificate
  if (certificate && (certificate as { raw?: unknown }).raw instanceof Uint8Array) return (certificate as { raw: Uint8Array }).raw
  throw new TypeError('"certificate" must be a PEM certificate, its DER bytes, or an X509Certificate')
}

async function sha256(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))))
}

function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}
