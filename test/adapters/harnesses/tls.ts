/**
 * Certificates for mutual-TLS tests, made when the test runs: a P-256 key from Web Crypto and a
 * self-signed X.509 certificate from @peculiar/x509 (which needs a Reflect polyfill).
 */
import 'reflect-metadata'
import { webcrypto, X509Certificate } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as Crypto)

export interface TestCertificate {
  /** PKCS #8 private key, PEM. */
  key: string
  /** The certificate, PEM. */
  cert: string
  /** SHA-256 of the DER, as `X509Certificate#fingerprint256` writes it (`AB:CD:…`). */
  fingerprint256: string
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

/** A self-signed certificate for `CN=<name>`, valid for an hour; for a server, with 127.0.0.1 as its IP. */
export async function createCertificate(name: string, server = false): Promise<TestCertificate> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '01'),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: server ? [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])] : [],
  })
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64')
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
  const cert = certificate.toString('pem')
  return { key, cert, fingerprint256: new X509Certificate(cert).fingerprint256 }
}
