/**
 * DPoP proofs for tests, built with jose (an independent implementation): a client key pair, its
 * RFC 7638 thumbprint, and proofs with any claim or header changed or left out on purpose.
 */
import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'

export interface ProofOptions {
  method?: string
  url: string
  /** The access token the proof is sent with (`ath`). */
  token?: string
  nonce?: string
  /** Seconds since the epoch. Default: now. */
  iat?: number
  jti?: string
  /** Extra or replaced header members (`undefined` removes one). */
  header?: Record<string, unknown>
  /** Extra or replaced claims (`undefined` removes one). */
  claims?: Record<string, unknown>
  /** Sign with this key instead of the client's (the header still names the client's jwk). */
  signWith?: CryptoKey
}

export interface DpopClient {
  jwk: JWK
  /** RFC 7638 thumbprint: the `cnf.jkt` of tokens bound to this key. */
  jkt: string
  privateKey: CryptoKey
  alg: string
  proof(options: ProofOptions): Promise<string>
}

/** `ath` of a token: base64url(SHA-256(token)). */
export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** A client with a fresh key pair. */
export async function dpopClient(alg: 'ES256' | 'EdDSA' | 'PS256' | 'RS256' | 'ES384' = 'ES256'): Promise<DpopClient> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(publicKey)
  const jkt = await calculateJwkThumbprint(jwk)
  return {
    jwk,
    jkt,
    privateKey,
    alg,
    async proof(o) {
      const header: Record<string, unknown> = { typ: 'dpop+jwt', alg, jwk, ...o.header }
      const claims: Record<string, unknown> = {
        htm: o.method ?? 'GET',
        htu: o.url,
        iat: o.iat ?? Math.floor(Date.now() / 1000),
        jti: o.jti ?? randomUUID(),
        ...(o.token === undefined ? {} : { ath: ath(o.token) }),
        ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
        ...o.claims,
      }
      for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k]
      for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k]
      return new SignJWT(claims).setProtectedHeader(header as never).sign(o.signWith ?? privateKey)
    },
  }
}

/** A compact JWS of these parts signed with nothing: for proofs jose refuses to build (alg none, HS256). */
export function unsignedProof(header: Record<string, unknown>, claims: Record<string, unknown>, signature = 'c2ln'): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${part(header)}.${part(claims)}.${signature}`
}
