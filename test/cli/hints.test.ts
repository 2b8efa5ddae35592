/**
 * The hints of `bearer-guard inspect`, against reasons produced by the real verifier: each entry of
 * REASON_PATTERNS matches the reason it was written for (a reworded reason fails here), and each
 * hint rule answers its own scenario.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, InvalidRequestError, InvalidTokenError, type AuthError, type IssuerOptions } from 'bearer-guard'
import { createTestIssuer, type TestIssuer } from 'bearer-guard/testing'
import { keycloak } from 'bearer-guard/presets'
import { factsOf, failedUrls, HINT_IDS, hintFor, readReason, REASON_PATTERNS, type HintId, type ReasonPattern } from '../../src/cli/hints.js'
import { configOf } from '../../src/cli/plan.js'
import { rejection } from '../helpers/rejection.js'

let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer({ kid: 'k1' })
})
afterAll(async () => {
  await issuer.close()
})

const quiet = { logger: false as const, cache: false as const }

/** The refusal of `token` by a verifier with these options. */
function refusal(options: IssuerOptions<undefined>, token: string): Promise<AuthError> {
  return rejection(createVerifier({ ...quiet, ...options }).verifyAccessToken(token))
}

const keys = (overrides: Partial<IssuerOptions<undefined>> = {}) => issuer.verifierOptions('keys', { ...quiet, ...overrides })
const jwks = (overrides: Partial<IssuerOptions<undefined>> = {}) =>
  issuer.verifierOptions('jwks', { ...quiet, ...overrides, jwks: { fetch: issuer.fetch, ...overrides.jwks } })
const discovery = (overrides: Partial<IssuerOptions<undefined>> = {}) =>
  issuer.verifierOptions('discovery', { ...quiet, ...overrides, jwks: { fetch: issuer.fetch, ...overrides.jwks } })

function tamper(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
  claims.sub = 'admin'
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`
}

/** `alg: "none"` with something in the signature's place, so that the header check answers. */
async function unsignedWithSignature(): Promise<string> {
  return `${await issuer.sign({}, { algorithm: 'none' })}AAAA`
}

/** A `fetch` that fails as undici does, with the root cause's code under `fetch failed`. */
function failingFetch(code: string, message: string): typeof fetch {
  return async () => {
    throw new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) })
  }
}

/** Each pattern, the reason the real verifier gives for it, and what the pattern must capture. */
const PATTERN_CASES: Record<ReasonPattern, () => Promise<{ reason: string; captures: (string | undefined)[] }>> = {
  async algNotAllowed() {
    const e = await refusal(keys(), await issuer.sign({}, { algorithm: 'ES256' }))
    return { reason: e.reason, captures: ['ES256', 'RS256'] }
  },
  async algNone() {
    const e = await refusal(keys(), await unsignedWithSignature())
    return { reason: e.reason, captures: [] }
  },
  async emptyPart() {
    const e = await refusal(keys(), await issuer.sign({}, { algorithm: 'none' }))
    return { reason: e.reason, captures: [] }
  },
  async unknownKid() {
    const e = await refusal(jwks(), await issuer.sign({}, { kid: 'gone' }))
    return { reason: e.reason, captures: ['JWKS', 'gone', 'RS256'] }
  },
  async ambiguousKid() {
    const jwk = issuer.jwks().keys[0]
    const e = await refusal(keys({ keys: [jwk, { ...jwk }] as never }), await issuer.sign())
    return { reason: e.reason, captures: ['k1', '2'] }
  },
  async badSignature() {
    const e = await refusal(keys(), tamper(await issuer.sign()))
    return { reason: e.reason, captures: [] }
  },
  async notJws() {
    const e = await refusal(keys(), `${await issuer.sign()}=`)
    return { reason: e.reason, captures: [] }
  },
  async unsafeHeader() {
    const e = await refusal(keys(), await issuer.sign({}, { header: { cty: 'JWT' } }))
    return { reason: e.reason, captures: [] }
  },
  async tooLong() {
    const token = await issuer.sign({ groups: 'g'.repeat(9000) })
    const e = await refusal(keys(), token)
    return { reason: e.reason, captures: [String(token.length), '8192'] }
  },
  async unexpected() {
    const e = await refusal(keys({ rolesClaim: () => { throw new Error('boom') } }), await issuer.sign())
    return { reason: e.reason, captures: [] }
  },
  async subject() {
    const e = await refusal(keys(), await issuer.sign({ sub: undefined }))
    return { reason: e.reason, captures: ['sub'] }
  },
  async discoveryFailed() {
    issuer.simulate('discovery', 404)
    try {
      const e = await refusal(discovery(), await issuer.sign())
      return { reason: e.reason, captures: ['https://issuer.test'] }
    } finally {
      issuer.simulate('discovery', null)
    }
  },
  async discoveryIssuer() {
    const e = await refusal(discovery({ issuer: 'https://issuer.test/' }), await issuer.sign())
    return {
      reason: e.reason,
      captures: ['https://issuer.test/.well-known/openid-configuration', 'https://issuer.test', 'https://issuer.test/'],
    }
  },
  async failedUrl() {
    issuer.simulate('discovery', 404)
    try {
      const e = await refusal(discovery(), await issuer.sign())
      return { reason: e.reason, captures: [] }
    } finally {
      issuer.simulate('discovery', null)
    }
  },
}

describe('REASON_PATTERNS', () => {
  it('has a case for every pattern', () => {
    expect(Object.keys(PATTERN_CASES).sort()).toEqual(Object.keys(REASON_PATTERNS).sort())
  })

  it.each(Object.keys(PATTERN_CASES) as ReasonPattern[])('%s matches the reason the verifier gives', async (name) => {
    const { reason, captures } = await PATTERN_CASES[name]()
    if (name === 'failedUrl') {
      expect(failedUrls(reason)).toEqual([
        'https://issuer.test/.well-known/openid-configuration',
        'https://issuer.test/.well-known/oauth-authorization-server',
      ])
      return
    }
    const m = readReason(name, reason)
    expect(m, reason).not.toBeNull()
    captures.forEach((c, i) => expect(m?.[i + 1], `capture ${i + 1} of ${reason}`).toBe(c))
  })

  it('names the JWKS URL of a failed fetch', async () => {
    issuer.simulate('jwks', 404)
    try {
      const e = await refusal(jwks(), await issuer.sign())
      expect(failedUrls(e.reason)).toEqual([issuer.jwksUri])
    } finally {
      issuer.simulate('jwks', null)
    }
  })

  it('reads a static key set\'s "no configured key" like the JWKS one', async () => {
    const e = await refusal(keys(), await issuer.sign({}, { kid: 'gone' }))
    expect(readReason('unknownKid', e.reason)?.slice(1)).toEqual(['configured', 'gone', 'RS256'])
  })
})

interface Scenario {
  /** The refusal, and the options it was refused with (for the hint's comparison). */
  run(): Promise<{ error: AuthError; options: IssuerOptions<undefined>; token?: string; preset?: string }>
  /** Text the hint must contain. */
  says: (string | RegExp)[]
}

async function refused(options: IssuerOptions<undefined>, token: string, preset?: string) {
  return { error: await refusal(options, token), options, token, preset }
}

async function withFault(target: 'jwks' | 'discovery', fault: Parameters<TestIssuer['simulate']>[1], options: IssuerOptions<undefined>) {
  issuer.simulate(target, fault)
  try {
    return await refused(options, await issuer.sign())
  } finally {
    issuer.simulate(target, null)
  }
}

const SCENARIOS: Record<HintId, Scenario> = {
  'key-source-dns': {
    run: async () => refused(jwks({ jwks: { fetch: failingFetch('ENOTFOUND', 'getaddrinfo ENOTFOUND issuer.test') } }), await issuer.sign()),
    says: ['DNS: issuer.test does not resolve'],
  },
  'key-source-refused': {
    run: async () => refused(jwks({ jwks: { fetch: failingFetch('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1') } }), await issuer.sign()),
    says: ['connection refused: nothing listens at issuer.test'],
  },
  'key-source-tls': {
    run: async () => refused(jwks({ jwks: { fetch: failingFetch('CERT_HAS_EXPIRED', 'certificate has expired') } }), await issuer.sign()),
    says: ['TLS (CERT_HAS_EXPIRED)', 'NODE_EXTRA_CA_CERTS'],
  },
  'key-source-network': {
    run: async () => refused(jwks({ jwks: { fetch: failingFetch('EHOSTUNREACH', 'connect EHOSTUNREACH') } }), await issuer.sign()),
    says: ['network failure (EHOSTUNREACH) reaching issuer.test'],
  },
  'key-source-timeout': {
    run: () => withFault('jwks', 'timeout', jwks({ jwks: { timeout: '200ms' } })),
    says: ['no answer from issuer.test within 200ms'],
  },
  'discovery-issuer-slash': {
    run: async () => refused(discovery({ issuer: 'https://issuer.test/' }), await issuer.sign()),
    says: ['differ only by a trailing slash', '--issuer https://issuer.test'],
  },
  'discovery-issuer-mismatch': {
    run: async () =>
      refused(discovery({ jwks: { fetch: async () => Response.json({ issuer: 'https://elsewhere.test', jwks_uri: 'https://elsewhere.test/keys' }) } }), await issuer.sign()),
    says: ['belongs to issuer "https://elsewhere.test", not "https://issuer.test"'],
  },
  'discovery-not-found': {
    run: () => withFault('discovery', 404, discovery()),
    says: ['no metadata at https://issuer.test/.well-known/openid-configuration nor', "this token says \"https://issuer.test\"", '--jwks-uri'],
  },
  'key-source-not-found': {
    run: async () => {
      issuer.simulate('jwks', 404)
      try {
        const options = keycloak({ realmUrl: 'https://issuer.test/realms/main', clientId: 'api' }, { ...quiet, jwks: { fetch: issuer.fetch } })
        return await refused(options, await issuer.sign(), 'keycloak')
      } finally {
        issuer.simulate('jwks', null)
      }
    },
    says: ['answers 404: check https://issuer.test/realms/main/protocol/openid-connect/certs', 'The keycloak preset derives this URL', '--jwks-uri overrides'],
  },
  'key-source-redirect': { run: () => withFault('jwks', 302, jwks()), says: ['answers 302: redirects are never followed'] },
  'key-source-denied': { run: () => withFault('jwks', 403, jwks()), says: ['answers 403', 'gateway'] },
  'key-source-server': { run: () => withFault('jwks', 500, jwks()), says: ['the authorization server answers 500'] },
  'key-source-status': { run: () => withFault('jwks', 418, jwks()), says: ['answers 418 instead of 200'] },
  'key-source-body': { run: () => withFault('jwks', 'bad-json', jwks()), says: ['does not answer a JWKS'] },
  'key-source-down': {
    run: async () => {
      issuer.simulate('jwks', 500)
      try {
        const options = jwks()
        const verifier = createVerifier(options)
        const token = await issuer.sign()
        await verifier.verifyAccessToken(token).catch(() => {})
        // within the back-off: answered at once, without a new fetch (and without its cause)
        const error = await verifier.verifyAccessToken(token).then(
          () => { throw new Error('accepted') },
          (e: AuthError) => e,
        )
        return { error, options, token }
      } finally {
        issuer.simulate('jwks', null)
      }
    },
    says: ['the key source cannot be read'],
  },
  expired: {
    run: async () => refused(keys(), await issuer.expired()),
    says: [/^expired 10 min ago \(exp \S+Z, now \S+Z by this machine's clock, tolerance 5 s; it was issued 1 h ago and lived 50 min\)/, 'NTP'],
  },
  'clock-skew': {
    // 150 s: "2 min" until the run takes half a minute
    run: async () => refused(keys(), await issuer.sign({}, { notBefore: '150s' })),
    says: ['nbf is 2 min in the future (tolerance 5 s)', 'clockTolerance'],
  },
  'iss-missing': { run: async () => refused(keys(), await issuer.sign({ iss: undefined })), says: ['the token has no iss'] },
  'iss-trailing-slash': {
    run: async () => refused(keys({ issuer: 'https://issuer.test/' }), await issuer.sign()),
    says: ['the token\'s iss "https://issuer.test" and the expected "https://issuer.test/" differ only by a trailing slash', "issuer: 'https://issuer.test'"],
  },
  'iss-mismatch': {
    run: async () => refused(keys(), await issuer.sign({}, { issuer: 'https://staging.issuer.test' })),
    says: ['the token was issued by "https://staging.issuer.test", this configuration expects "https://issuer.test"'],
  },
  'aud-missing': { run: async () => refused(keys(), await issuer.sign({ aud: undefined })), says: ['the token has no aud', 'audience: false'] },
  'aud-mismatch': {
    run: async () => refused(keys(), await issuer.sign({}, { audience: 'https://billing.test' })),
    says: [`aud mismatch: the token is for "https://billing.test" (expected "https://api.test") — set audience: 'https://billing.test' (--audience https://billing.test) or request the token for this API`],
  },
  'token-type': {
    run: async () => refused(keys({ tokenType: { claim: 'typ', value: 'Bearer' } }), await issuer.sign({ typ: 'Refresh' })),
    says: ['claim typ "Refresh"', 'refresh tokens and ID tokens are not for APIs'],
  },
  subject: { run: async () => refused(keys(), await issuer.sign({ sub: undefined })), says: ['no usable subject at "sub"', 'subjectClaim'] },
  'claim-check': {
    run: async () => refused(keys({ requiredClaims: ['tenant'] }), await issuer.sign()),
    says: ['the tenant claim fails the check, and the token has none'],
  },
  'alg-hmac-confusion': {
    run: async () => refused(keys(), await issuer.sign({}, { algorithm: 'HS256' })),
    says: ['HS256 is an HMAC', 'key-confusion attack'],
  },
  'alg-not-allowed': {
    run: async () => refused(keys(), await issuer.sign({}, { algorithm: 'ES256' })),
    says: ["the token is signed with ES256; allowed here: RS256", "algorithms: ['ES256']"],
  },
  'alg-none': { run: async () => refused(keys(), await unsignedWithSignature()), says: ['unsigned token (alg "none")'] },
  'empty-part': { run: async () => refused(keys(), await issuer.sign({}, { algorithm: 'none' })), says: ['a part of the token is empty'] },
  'unknown-kid': {
    run: async () => refused(jwks(), await issuer.sign({}, { kid: 'gone' })),
    says: ['no key with kid "gone" for RS256', 'its iss is "https://issuer.test"', 'rotated away'],
  },
  'ambiguous-kid': {
    run: async () => {
      const jwk = issuer.jwks().keys[0]
      return refused(keys({ keys: [jwk, { ...jwk }] as never }), await issuer.sign())
    },
    says: ['publishes kid "k1" 2 times'],
  },
  'bad-signature': { run: async () => refused(keys(), tamper(await issuer.sign())), says: ['does not verify with the key of kid "k1"', 'tampered'] },
  'not-jws': { run: async () => refused(keys(), `${await issuer.sign()}=`), says: ['compact serialization is broken'] },
  'unsafe-header': { run: async () => refused(keys(), await issuer.sign({}, { header: { cty: 'JWT' } })), says: ['refused for safety'] },
  'too-long': { run: async () => refused(keys(), await issuer.sign({ groups: 'g'.repeat(9000) })), says: [/^the token is \d+ bytes, over maxTokenLength 8192/] },
  unexpected: {
    run: async () => refused(keys({ rolesClaim: () => { throw new Error('boom') } }), await issuer.sign()),
    says: ['a configured function'],
  },
  'no-hint': {
    run: async () => ({ error: new InvalidTokenError({ reason: 'a reason no rule knows' }), options: keys() }),
    says: ['see docs/errors.md'],
  },
  other: {
    run: async () => ({ error: new InvalidRequestError({ reason: 'two credentials' }), options: keys() }),
    says: ['see docs/errors.md'],
  },
}

describe('hintFor', () => {
  it('has a scenario for every rule', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...HINT_IDS].sort())
  })

  it.each(HINT_IDS)('%s', async (id) => {
    const scenario = SCENARIOS[id]
    const { error, options, token, preset } = await scenario.run()
    const [, p] = (token ?? '..').split('.')
    const claims = p ? (JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>) : {}
    const header = token ? (JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<string, unknown>) : {}
    const hint = hintFor({ error: factsOf(error), claims, header, config: configOf(options, preset), now: Math.floor(Date.now() / 1000) })
    expect(hint.id, `${error.reason} → ${hint.text}`).toBe(id)
    for (const s of scenario.says) {
      if (typeof s === 'string') expect(hint.text).toContain(s)
      else expect(hint.text).toMatch(s)
    }
  })
})

describe('hintFor, details', () => {
  it("names the expected issuer when an unknown kid comes with another iss", async () => {
    const token = await issuer.sign({}, { kid: 'gone', issuer: 'https://staging.issuer.test' })
    const options = jwks()
    const error = await refusal(options, token)
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
    const hint = hintFor({ error: factsOf(error), claims, header: {}, config: configOf(options, undefined), now: Math.floor(Date.now() / 1000) })
    expect(hint.id).toBe('unknown-kid')
    expect(hint.text).toContain('no key with kid "gone" for RS256, and the token\'s iss "https://staging.issuer.test" is not the expected "https://issuer.test"')
  })
})

describe('factsOf', () => {
  it("reads a key-source failure's kind, status and root cause without instanceof", async () => {
    const e = await refusal(jwks({ jwks: { fetch: failingFetch('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1') } }), await issuer.sign())
    const facts = factsOf(e)
    expect(facts.fetch).toEqual({ kind: 'network', status: undefined, code: 'ECONNREFUSED' })
    expect(facts.rootCause).toBe('connect ECONNREFUSED 127.0.0.1:1')
    // a plain object with the same fields (another copy of the package) reads the same
    expect(factsOf({ ...e, status: e.status, code: e.code, description: e.description, reason: e.reason, cause: e.cause }).fetch?.code).toBe('ECONNREFUSED')
  })
})
