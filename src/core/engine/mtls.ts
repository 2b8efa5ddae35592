/**
 * Certificate-bound tokens (RFC 8705 §3): a token with `cnf["x5t#S256"]` is accepted only from the
 * client whose TLS certificate has that SHA-256 thumbprint (of its DER bytes).
 *
 * @module bearer-guard
 */
import { decodeBase64url } from '../base64url.js'
import { encodeBase64url, sha256, timingSafeEqualText } from '../keys/digest.js'
import type { ClientCertificate } from '../request.js'
import { chain, type MaybePromise } from './maybe-promise.js'
import { invalid } from './reasons.js'

/** The DER bytes of a certificate given as `{ raw }` (an `X509Certificate`), PEM text or DER bytes. */
export function certificateDer(cert: ClientCertificate): Uint8Array | undefined {
  if (cert instanceof Uint8Array) return cert
  if (typeof cert === 'string') {
    const match = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(cert)
    if (!match) return undefined
    const b64 = (match[1] as string).replace(/\s+/g, '').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
    try {
      return decodeBase64url(b64)
    } catch {
      return undefined
    }
  }
  const raw = (cert as { raw?: unknown } | null)?.raw
  return raw instanceof Uint8Array ? raw : undefined
}

/** Checks the certificate against `x5t`: `undefined` when it matches (or a promise of that), else throws. */
export function checkCertificate(x5t: string, cert: ClientCertificate | undefined): MaybePromise<void> {
  if (cert === undefined || cert === null) throw invalid('certificate-bound token (cnf.x5t#S256) without a client certificate')
  const der = certificateDer(cert)
  if (der === undefined || der.length === 0) throw invalid('client certificate unreadable (expected X509Certificate, PEM or DER)')
  return chain(chain(sha256(der), encodeBase64url), matches, x5t)
}

function matches(thumbprint: string, x5t: string): void {
  if (!timingSafeEqualText(thumbprint, x5t)) {
    throw invalid(`client certificate thumbprint ${thumbprint} is not the token's cnf.x5t#S256 ${x5t.slice(0, 64)}`)
  }
}
