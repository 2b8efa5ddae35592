/**
 * A hint per refusal: what to check or change, keyed on the error's structured fields (`code`,
 * `claim`, `expiredAt`, the key-source failure's `kind`/`status`/`code`) and on the decoded token.
 * Where only the reason text tells causes apart (a bad signature from an unknown kid), its patterns
 * are in one table, `REASON_PATTERNS`, each with a test that produces the reason with the real
 * verifier: a reworded reason breaks a test instead of silently losing its hint.
 *
 * Part of the `bearer-guard` bin (`npx bearer-guard inspect`), not of an export.
 */
import { HINT_IDS, type Hint, type HintId, type HintInput, type VerifyConfig } from './hint-input.js'
import { factsOf, failedUrls, readReason, REASON_PATTERNS, type ErrorFacts, type ReasonPattern } from './reasons.js'
import { span } from './time.js'

export { factsOf, failedUrls, HINT_IDS, readReason, REASON_PATTERNS, type ErrorFacts, type Hint, type HintId, type HintInput, type ReasonPattern, type VerifyConfig }

const q = (v: unknown): string => String(JSON.stringify(v)).slice(0, 200)
/** A string as a single-quoted JS literal, for a line of configuration to copy. */
const js = (s: string): string => `'${s.slice(0, 200).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
const noSlash = (s: string): string => s.replace(/\/+$/, '')
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL'])
const REFUSED = new Set(['ECONNREFUSED', 'ConnectionRefused'])
const TLS = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/

function hostOf(url: string | undefined): string {
  if (url === undefined) return 'the key source'
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

function listOf(values: readonly string[]): string {
  return values.map((v) => q(v)).join(' or ')
}

/** The hint for a refusal. Never throws; the last rule answers when no other does. */
export function hintFor(input: HintInput): Hint {
  const { error } = input
  if (error.code === 'temporarily_unavailable') return keySourceHint(input)
  if (error.code === 'invalid_token') return (error.claim !== undefined ? claimHint(input) : undefined) ?? reasonHint(input)
  return { id: 'other', text: 'see docs/errors.md for this code' }
}

function keySourceHint({ error, config, claims }: HintInput): Hint {
  const urls = failedUrls(error.reason)
  const url = urls.at(-1) ?? (config.source.type === 'jwks' ? config.source.uri : config.source.issuer)
  const host = hostOf(url)
  const f = error.fetch
  const tokenIss = typeof claims.iss === 'string' ? claims.iss : undefined
  if (f?.kind === 'network') {
    const code = f.code ?? 'unknown'
    if (DNS.has(code)) {
      return { id: 'key-source-dns', text: `DNS: ${host} does not resolve from this machine — check the URL's host name, and the DNS and egress of where this runs` }
    }
    if (REFUSED.has(code)) {
      return { id: 'key-source-refused', text: `connection refused: nothing listens at ${host} — check the URL's port and scheme (http/https), and that the authorization server is up` }
    }
    if (TLS.test(code)) {
      return {
        id: 'key-source-tls',
        text: `TLS (${code}): ${host}'s certificate is not trusted here — a private CA or a TLS-inspecting proxy? Give Node its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem; never turn verification off`,
      }
    }
    return { id: 'key-source-network', text: `network failure (${code}) reaching ${host}: check connectivity from here (Node's fetch does not use HTTP_PROXY by itself)` }
  }
  if (f?.kind === 'timeout') {
    return { id: 'key-source-timeout', text: `no answer from ${host} within ${config.timeout}: a firewall dropping packets, or a slow server; a longer --timeout tells them apart` }
  }
  const discoveryIssuer = readReason('discoveryIssuer', error.reason)
  if (discoveryIssuer) {
    const [, at, published, configured] = discoveryIssuer as unknown as [string, string, string, string]
    if (noSlash(published) === noSlash(configured)) {
      return {
        id: 'discovery-issuer-slash',
        text: `the metadata at ${at} says issuer ${q(published)}, you gave ${q(configured)}: they differ only by a trailing slash, and issuers are compared exactly — use --issuer ${published}${tokenIss !== undefined ? ` (the token's iss is ${q(tokenIss)})` : ''}`,
      }
    }
    return {
      id: 'discovery-issuer-mismatch',
      text: `the metadata at ${at} belongs to issuer ${q(published)}, not ${q(configured)}: a proxy or a misconfigured frontend URL? Give --issuer ${published} if that is the server you trust`,
    }
  }
  if (f?.kind === 'status' && f.status !== undefined) {
    const status = f.status
    if (status === 404 && readReason('discoveryFailed', error.reason)) {
      return {
        id: 'discovery-not-found',
        text: `no metadata at ${urls.join(' nor ')}: --issuer must be the issuer exactly as in the tokens' iss${tokenIss !== undefined ? ` (this token says ${q(tokenIss)})` : ''}, to which /.well-known/openid-configuration is appended — or give the keys' URL with --jwks-uri`,
      }
    }
    if (status === 404) {
      const preset = config.preset ? ` The ${config.preset} preset derives this URL from its options; --jwks-uri overrides it.` : ''
      return { id: 'key-source-not-found', text: `the JWKS URL answers 404: check ${url}.${preset}` }
    }
    if (status >= 300 && status < 400) {
      return { id: 'key-source-redirect', text: `${url} answers ${status}: redirects are never followed (a key source must not move) — use the final URL (https? a trailing slash?)` }
    }
    if (status === 401 || status === 403) {
      return { id: 'key-source-denied', text: `${url} answers ${status}: key endpoints are public — an API gateway, WAF or IP allowlist in front of it refuses this machine` }
    }
    if (status >= 500) {
      return { id: 'key-source-server', text: `the authorization server answers ${status}: check its health (a verifier that already has keys serves them stale for jwks.staleMaxAge meanwhile)` }
    }
    return { id: 'key-source-status', text: `${url} answers ${status} instead of 200: check the URL` }
  }
  if (f?.kind === 'body' || f?.kind === 'metadata') {
    return {
      id: 'key-source-body',
      text: `${url} does not answer ${f.kind === 'metadata' ? 'usable discovery metadata' : 'a JWKS (a JSON object with "keys")'}: a login page, or a proxy's error page? Open it in a browser`,
    }
  }
  return { id: 'key-source-down', text: `the key source cannot be read: retry later, and check that ${host} is reachable from here` }
}

/** Rules keyed on `error.claim`. */
function claimHint({ error, claims, header, config, now }: HintInput): Hint | undefined {
  const claim = error.claim as string
  const value = claims[claim]
  const tol = config.clockTolerance
  if (claim === 'exp' && error.expiredAt !== undefined) {
    const exp = error.expiredAt.getTime() / 1000
    const iat = typeof claims.iat === 'number' ? claims.iat : undefined
    const lived = iat !== undefined && iat <= exp ? `; it was issued ${span(now - iat)} ago and lived ${span(exp - iat)}` : ''
    return {
      id: 'expired',
      text:
        `expired ${span(now - exp)} ago (exp ${error.expiredAt.toISOString()}, now ${new Date(now * 1000).toISOString()} by this machine's clock, tolerance ${tol} s${lived}): ` +
        `get a new token — clients refresh before exp. If it is fresh from the issuer, this machine's clock is ahead of the issuer's: check NTP`,
    }
  }
  if ((claim === 'nbf' || claim === 'iat') && typeof value === 'number' && value > now) {
    return {
      id: 'clock-skew',
      text:
        `${claim} is ${span(value - now)} in the future (tolerance ${tol} s): the issuer's clock is ahead of this machine's — ` +
        'sync the clocks (NTP), or allow a little skew with clockTolerance (--clock-tolerance, at most 300 s)',
    }
  }
  if (claim === 'iss') {
    const iss = claims.iss
    if (typeof iss !== 'string') {
      return { id: 'iss-missing', text: 'the token has no iss: --issuer false (issuer: false) skips the check — only when this key source signs for one issuer alone' }
    }
    if (Array.isArray(config.issuer)) {
      const near = config.issuer.find((expected) => noSlash(expected) === noSlash(iss))
      if (near !== undefined) {
        return {
          id: 'iss-trailing-slash',
          text: `the token's iss ${q(iss)} and the expected ${q(near)} differ only by a trailing slash, and issuers are compared exactly: set issuer: ${js(iss)} (--issuer ${iss}) — Auth0 issuers end with "/", Keycloak's do not`,
        }
      }
      return {
        id: 'iss-mismatch',
        text: `the token was issued by ${q(iss)}, this configuration expects ${listOf(config.issuer)}: a token of another server, realm or environment — or, if that server is the one you trust, set issuer: ${js(iss)} (--issuer ${iss})`,
      }
    }
    return { id: 'iss-mismatch', text: `the token was issued by ${q(iss)}, which the${config.preset ? ` ${config.preset} preset's` : ''} issuer check refuses: ${error.reason}` }
  }
  if (claim === 'aud') {
    const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : []
    if (aud.length === 0) {
      return {
        id: 'aud-missing',
        text:
          'the token has no aud: have the authorization server put this API in it (Keycloak: an Audience mapper; Auth0: request the token with audience=…), ' +
          'or skip the check with audience: false (--audience false) — only if every token of this issuer is meant for you',
      }
    }
    const first = aud[0] as string
    const expected = Array.isArray(config.audience) ? ` (expected ${listOf(config.audience)})` : ''
    return {
      id: 'aud-mismatch',
      text: `aud mismatch: the token is for ${aud.map((a) => q(a)).join(', ')}${expected} — set audience: ${js(first)} (--audience ${first}) or request the token for this API (the audience or resource parameter of the token request)`,
    }
  }
  if (claim === 'typ' || claim === 'token_use') {
    const typ = header.typ
    const kind = claims.typ ?? claims.token_use
    const what = [typ !== undefined ? `header typ ${q(typ)}` : undefined, kind !== undefined ? `${claims.typ !== undefined ? 'claim typ' : 'token_use'} ${q(kind)}` : undefined]
      .filter(Boolean)
      .join(', ')
    return {
      id: 'token-type',
      text: `not the expected kind of token (${what || 'no type at all'}): send the access token — refresh tokens and ID tokens are not for APIs`,
    }
  }
  const subject = readReason('subject', error.reason)
  if (subject) {
    return { id: 'subject', text: `no usable subject at ${q(subject[1])}: client-credentials tokens may carry none — set subjectClaim to the claim that names the caller (or false)` }
  }
  return { id: 'claim-check', text: `the ${claim} claim fails the check${value !== undefined ? `; the token has ${claim}: ${q(value)}` : ', and the token has none'}` }
}

/** Rules that must read the reason text (their patterns are in `REASON_PATTERNS`). */
function reasonHint({ error, header, claims, config }: HintInput): Hint {
  const r = error.reason
  const iss = typeof claims.iss === 'string' ? ` (its iss is ${q(claims.iss)})` : ''
  let m = readReason('algNotAllowed', r)
  if (m) {
    const alg = m[1] as string
    if (/^HS/i.test(alg) && config.algorithms?.every((a) => !/^HS/i.test(a)) !== false) {
      return {
        id: 'alg-hmac-confusion',
        text: `${alg} is an HMAC: checked against a public key, it is the key-confusion attack — never allow it here. The token is forged, or from an issuer that signs with a shared secret`,
      }
    }
    return {
      id: 'alg-not-allowed',
      text: `the token is signed with ${alg}; allowed here: ${m[2]}. If the issuer really signs with ${alg}, allow it (algorithms: [${js(alg)}], --algorithms ${alg}); otherwise the token comes from elsewhere${iss}`,
    }
  }
  if (readReason('algNone', r)) return { id: 'alg-none', text: 'an unsigned token (alg "none"): anyone can write one; it is never accepted' }
  if (readReason('emptyPart', r)) return { id: 'empty-part', text: 'a part of the token is empty: an unsigned token (never accepted), or a copy cut short — copy the token again, whole' }
  m = readReason('unknownKid', r)
  if (m) {
    const kid = m[2]
    const which = kid !== undefined ? `no key with kid ${q(kid)}` : 'no key of the right type'
    const tokenIss = claims.iss
    const foreign = Array.isArray(config.issuer) && typeof tokenIss === 'string' && !config.issuer.includes(tokenIss)
    return {
      id: 'unknown-kid',
      text: foreign
        ? `the key source has ${which} for ${m[3]}, and the token's iss ${q(tokenIss)} is not the expected ${listOf(config.issuer as readonly string[])}: the token comes from another server, realm or environment`
        : `the key source has ${which} for ${m[3]}: the token comes from another server, realm or environment${iss}, or its key has been rotated away`,
    }
  }
  m = readReason('ambiguousKid', r)
  if (m) return { id: 'ambiguous-kid', text: `the key source publishes kid ${q(m[1])} ${m[2]} times: a token cannot say which key it means — the issuer's key set must be fixed` }
  if (readReason('badSignature', r)) {
    const kid = typeof header.kid === 'string' ? ` of kid ${q(header.kid)}` : ''
    return {
      id: 'bad-signature',
      text: `the signature does not verify with the key${kid}: the token was altered after signing (tampered, truncated, re-encoded), or another issuer signs with the same kid`,
    }
  }
  if (readReason('notJws', r)) return { id: 'not-jws', text: 'the compact serialization is broken (padding, "+" or "/", non-canonical base64url): copy the token again, whole' }
  if (readReason('unsafeHeader', r)) return { id: 'unsafe-header', text: 'the header uses a JWS feature refused for safety (crit, b64, nested JWT, a repeated member): not an ordinary access token' }
  m = readReason('tooLong', r)
  if (m) {
    return {
      id: 'too-long',
      text: `the token is ${m[1]} bytes, over maxTokenLength ${m[2]}: large group or role lists (Entra ID, Keycloak) make tokens grow — trim the claims, or raise maxTokenLength`,
    }
  }
  if (readReason('unexpected', r)) return { id: 'unexpected', text: 'a configured function (rolesClaim, issuer, audience) threw: fix it to return a value or throw an AuthError' }
  return { id: 'no-hint', text: 'see docs/errors.md for this reason' }
}
