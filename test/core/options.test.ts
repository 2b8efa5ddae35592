import { describe, expect, it } from 'vitest'
import { createVerifier, type VerifierOptions } from 'bearer-guard'
import { DEFAULTS, normalizeOptions } from '../../src/core/options.js'
import { thrown } from '../helpers/rejection.js'

const base = { issuer: 'https://issuer.test', audience: 'https://api.test' } as const
const secret32 = 'k'.repeat(32)

/** The TypeError `createVerifier` throws for these options. */
function errorOf(options: unknown): TypeError {
  return thrown(() => createVerifier(options as VerifierOptions), TypeError)
}

describe('options: validated at construction', () => {
  it('rejects a non-object', () => {
    expect(errorOf(null).message).toMatch(/options must be an object/)
    expect(errorOf('https://issuer.test').message).toMatch(/options must be an object/)
  })

  it('names an unknown option', () => {
    expect(errorOf({ ...base, jku: 'https://evil.test' }).message).toBe('bearer-guard: unknown option "jku"')
  })

  it('names an unknown nested option', () => {
    expect(errorOf({ ...base, jwks: { retries: 3 } }).message).toBe('bearer-guard: unknown option "jwks.retries"')
  })

  it('names an invalid nested option and says what was expected', () => {
    const { message } = errorOf({ ...base, jwks: { timeout: 'soon' } })
    expect(message).toMatch(/^bearer-guard: invalid option "jwks\.timeout": expected seconds/)
  })

  it('names the array index of a bad algorithm and lists the allowed ones', () => {
    const { message } = errorOf({ ...base, algorithms: ['RS256', 'none'] })
    expect(message).toMatch(/invalid option "algorithms\[1\]": expected one of "RS256"\|/)
    expect(message).not.toMatch(/"none"\|/)
  })

  it('requires issuer', () => {
    expect(errorOf({ audience: 'a', secret: secret32 }).message).toMatch(/invalid option "issuer": is required/)
  })

  it('requires audience', () => {
    expect(errorOf({ issuer: 'i', secret: secret32 }).message).toMatch(/invalid option "audience": is required/)
  })

  it('accepts issuer: false and audience: false as an explicit opt-out', () => {
    const n = normalizeOptions({ issuer: false, audience: false, secret: secret32 })
    expect(n.entries[0]).toMatchObject({ issuers: false, audience: false })
  })

  it.each([
    ['issuer', { ...base, issuer: '' }],
    ['issuer', { ...base, issuer: [] }],
    ['issuer', { ...base, issuer: true }],
    ['audience', { ...base, audience: null }],
    ['audience', { ...base, audience: [''] }],
  ])('rejects a bad %s value', (name, options) => {
    expect(errorOf(options).message).toContain(`invalid option "${name}`)
  })

  it('normalizes issuer and audience to frozen lists', () => {
    const n = normalizeOptions({ issuer: ['https://a.test', 'https://b.test'], audience: 'api', secret: secret32 })
    const e = n.entries[0]!
    expect(e.issuers).toEqual(['https://a.test', 'https://b.test'])
    expect(e.audience).toEqual(['api'])
    expect(Object.isFrozen(e)).toBe(true)
    expect(Object.isFrozen(e.audience)).toBe(true)
  })

  describe('key source', () => {
    it('rejects two key sources, naming the second', () => {
      const { message } = errorOf({ ...base, secret: secret32, jwksUri: 'https://issuer.test/jwks' })
      expect(message).toBe('bearer-guard: invalid option "secret": cannot be combined with "jwksUri": give exactly one key source')
    })

    it('rejects keys together with jwksUri', () => {
      expect(errorOf({ ...base, jwksUri: 'https://x.test/jwks', keys: { keys: [] } }).message).toMatch(/invalid option "keys": cannot be combined/)
    })

    it('uses discovery when no key source is given', () => {
      expect(normalizeOptions(base).entries[0]!.source).toEqual({ type: 'discovery', issuer: 'https://issuer.test' })
    })

    it('needs one issuer URL for discovery', () => {
      expect(errorOf({ ...base, issuer: ['https://a.test', 'https://b.test'] }).message).toMatch(/invalid option "issuer": must be one issuer URL/)
      expect(errorOf({ ...base, issuer: false }).message).toMatch(/invalid option "issuer": must be one issuer URL/)
      expect(errorOf({ ...base, issuer: 'auth-service' }).message).toMatch(/invalid option "issuer": must be an http\(s\) URL/)
    })

    it('accepts http and https jwksUri (string or URL) and nothing else', () => {
      expect(normalizeOptions({ ...base, jwksUri: 'http://127.0.0.1:8080/jwks' }).entries[0]!.source).toMatchObject({ type: 'jwks' })
      expect(normalizeOptions({ ...base, jwksUri: new URL('https://x.test/jwks') }).entries[0]!.source).toMatchObject({ type: 'jwks' })
      expect(errorOf({ ...base, jwksUri: 'ftp://x.test/jwks' }).message).toMatch(/invalid option "jwksUri": expected an http\(s\) URL/)
      expect(errorOf({ ...base, jwksUri: 'not a url' }).message).toMatch(/invalid option "jwksUri"/)
    })

    it('rejects keys that are not an object or string', () => {
      expect(errorOf({ ...base, keys: 42 }).message).toMatch(/invalid option "keys": expected a JWK/)
      expect(errorOf({ ...base, keys: null }).message).toMatch(/invalid option "keys"/)
    })

    it('rejects static keys with nothing usable', () => {
      expect(errorOf({ ...base, keys: { keys: [] } }).message).toMatch(/invalid option "keys": no usable verification key/)
      expect(errorOf({ ...base, keys: { kty: 'oct', k: 'AAAA' } }).message).toMatch(/kty "oct"/)
      expect(errorOf({ ...base, keys: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }).message).toMatch(/cannot read the PEM key/)
    })
  })

  describe('secret length counts bytes of the UTF-8 encoding', () => {
    it.each([
      ['HS256', 32],
      ['HS384', 48],
      ['HS512', 64],
    ] as const)('%s needs at least %d bytes', (alg, bytes) => {
      expect(() => createVerifier({ ...base, algorithms: [alg], secret: 'k'.repeat(bytes) })).not.toThrow()
      expect(errorOf({ ...base, algorithms: [alg], secret: 'k'.repeat(bytes - 1) }).message).toBe(
        `bearer-guard: invalid option "secret": must be at least ${bytes} bytes for ${alg} (RFC 7518 §3.2), got ${bytes - 1}`,
      )
    })

    it('counts a multi-byte character by its bytes', () => {
      // 11 × 'é' (2 bytes each) = 22 bytes, + 10 ASCII = 32 bytes from 21 characters
      expect(() => createVerifier({ ...base, secret: 'é'.repeat(11) + 'k'.repeat(10) })).not.toThrow()
      expect(errorOf({ ...base, secret: 'é'.repeat(10) + 'k'.repeat(11) }).message).toMatch(/got 31$/)
    })

    it('takes a Uint8Array secret by its length', () => {
      expect(() => createVerifier({ ...base, secret: new Uint8Array(32) })).not.toThrow()
      expect(errorOf({ ...base, secret: new Uint8Array(31) }).message).toMatch(/got 31$/)
    })

    it('uses the longest requirement when several HS algorithms are listed', () => {
      expect(errorOf({ ...base, algorithms: ['HS256', 'HS512'], secret: 'k'.repeat(48) }).message).toMatch(/at least 64 bytes for HS256\/HS512/)
    })
  })

  describe('algorithms vs key source', () => {
    it('defaults to HS256 with a secret', () => {
      expect(normalizeOptions({ ...base, secret: secret32 }).entries[0]!.algorithms).toEqual(['HS256'])
    })

    it('defaults to every asymmetric algorithm with jwksUri or discovery, never HS or none', () => {
      for (const options of [{ ...base, jwksUri: 'https://issuer.test/jwks' }, base]) {
        const algs = normalizeOptions(options).entries[0]!.algorithms!
        expect(algs).toContain('RS256')
        expect(algs).toContain('ES256')
        expect(algs).toContain('EdDSA')
        expect(algs.some((a) => a.startsWith('HS'))).toBe(false)
      }
    })

    it('leaves static keys without a list to be derived from the keys', () => {
      const keys = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }
      expect(normalizeOptions({ ...base, keys }).entries[0]!.algorithms).toBeUndefined()
    })

    it('rejects an asymmetric algorithm with a secret', () => {
      expect(errorOf({ ...base, secret: secret32, algorithms: ['HS256', 'RS256'] }).message).toMatch(
        /invalid option "algorithms\[1\]": "RS256" cannot be used with a shared secret/,
      )
    })

    it('rejects an HS algorithm with keys, jwksUri or discovery', () => {
      expect(errorOf({ ...base, jwksUri: 'https://x.test/jwks', algorithms: ['HS256'] }).message).toMatch(
        /invalid option "algorithms\[0\]": "HS256" needs a shared secret/,
      )
      expect(errorOf({ ...base, algorithms: ['RS256', 'HS512'] }).message).toMatch(/"algorithms\[1\]"/)
    })

    it('rejects an empty list', () => {
      expect(errorOf({ ...base, secret: secret32, algorithms: [] }).message).toMatch(/invalid option "algorithms"/)
    })

    it('removes duplicates', () => {
      expect(normalizeOptions({ ...base, jwksUri: 'https://x.test/j', algorithms: ['ES256', 'ES256'] }).entries[0]!.algorithms).toEqual(['ES256'])
    })
  })

  describe('durations', () => {
    it('reads seconds and duration strings', () => {
      const n = normalizeOptions({
        ...base,
        clockTolerance: 10,
        maxTokenAge: '1h',
        jwks: { cacheMaxAge: '10m', cooldown: '5s', timeout: '250ms', staleMaxAge: 7200 },
      })
      expect(n.entries[0]).toMatchObject({
        clockTolerance: 10,
        maxTokenAge: 3600,
        jwks: { cacheMaxAge: 600, cooldown: 5, timeoutMs: 250, staleMaxAge: 7200 },
      })
    })

    it.each(['clockTolerance', 'maxTokenAge'])('rejects a bad %s', (name) => {
      expect(errorOf({ ...base, [name]: '5 parsecs' }).message).toMatch(new RegExp(`invalid option "${name}"`))
      expect(errorOf({ ...base, [name]: -1 }).message).toMatch(new RegExp(`invalid option "${name}"`))
    })

    it.each(['cacheMaxAge', 'cooldown', 'staleMaxAge', 'timeout'])('rejects a bad jwks.%s', (name) => {
      expect(errorOf({ ...base, jwks: { [name]: {} } }).message).toMatch(new RegExp(`invalid option "jwks\\.${name}"`))
    })
  })

  describe('defaults', () => {
    it('matches the documented table', () => {
      const n = normalizeOptions(base)
      const e = n.entries[0]!
      expect(n.maxTokenLength).toBe(8192)
      expect(n.cache).toEqual({ max: DEFAULTS.cacheMax })
      expect(e).toMatchObject({
        clockTolerance: 5,
        maxTokenAge: undefined,
        requiredClaims: [],
        subjectClaim: 'sub',
        tokenType: undefined,
        rolesClaim: 'roles',
        scopesClaim: ['scope', 'scp'],
        jwks: { cacheMaxAge: 600, cooldown: 30, timeoutMs: 5000, staleMaxAge: 3600, maxBytes: 524_288 },
      })
    })
  })

  describe('other options', () => {
    it('accepts the documented shapes of tokenType', () => {
      const typ = (tokenType: unknown) => normalizeOptions({ ...base, tokenType } as VerifierOptions).entries[0]!.tokenType
      expect(typ('at+jwt')).toEqual({ kind: 'header', values: ['at+jwt'] })
      expect(typ('application/AT+JWT')).toEqual({ kind: 'header', values: ['at+jwt'] })
      expect(typ(['at+jwt', 'JWT'])).toEqual({ kind: 'header', values: ['at+jwt', 'jwt'] })
      expect(typ({ header: 'at+jwt' })).toEqual({ kind: 'header', values: ['at+jwt'] })
      expect(typ({ claim: 'token_type', value: 'access' })).toEqual({ kind: 'claim', path: 'token_type', values: ['access'] })
      expect(typ({ claim: 'typ', value: ['a', 1] })).toEqual({ kind: 'claim', path: 'typ', values: ['a', 1] })
    })

    it.each([
      ['tokenType', { tokenType: { claim: 'token_type' } }],
      ['tokenType', { tokenType: '' }],
      ['claims', { claims: { parse: () => ({}) } }],
      ['rolesClaim', { rolesClaim: 42 }],
      ['scopesClaim', { scopesClaim: [] }],
      ['subjectClaim', { subjectClaim: '' }],
      ['requiredClaims', { requiredClaims: 'tenant' }],
      ['revocation', { revocation: { isRevoked: () => false } }],
      ['maxTokenLength', { maxTokenLength: 100 }],
      ['maxTokenLength', { maxTokenLength: 8192.5 }],
      ['cache', { cache: true }],
      ['cache.max', { cache: { max: 0 } }],
      ['jwks.maxResponseBytes', { jwks: { maxResponseBytes: 10 } }],
      ['jwks.headers', { jwks: { headers: { 'user-agent': 1 } } }],
      ['jwks.fetch', { jwks: { fetch: 'fetch' } }],
    ])('names a bad %s', (name, extra) => {
      expect(errorOf({ ...base, ...extra }).message).toContain(`invalid option "${name}`)
    })

    it.each([
      [{ algorithm: ['RS256'] }, 'unknown option "algorithm": did you mean "algorithms"?'],
      [{ jwks_uri: 'https://x.test/jwks' }, 'unknown option "jwks_uri": did you mean "jwksUri"?'],
      [{ audiance: 'api' }, 'unknown option "audiance": did you mean "audience"?'],
      [{ clocktolerance: 5 }, 'unknown option "clocktolerance": did you mean "clockTolerance"?'],
      [{ issuerBaseURL: 'https://x.test' }, 'unknown option "issuerBaseURL": did you mean "issuer"?'],
      [{ timeout: '2s' }, 'unknown option "timeout": did you mean "jwks.timeout"?'],
      [{ jwks: { timout: '2s' } }, 'unknown option "jwks.timout": did you mean "jwks.timeout"?'],
      [{ jwks: { cache_max_age: '1m' } }, 'unknown option "jwks.cache_max_age": did you mean "jwks.cacheMaxAge"?'],
      [{ jku: 'https://evil.test' }, 'unknown option "jku"'],
      [{ colour: 'red' }, 'unknown option "colour"'],
    ])('suggests the option meant by a near miss: %o', (extra, expected) => {
      expect(errorOf({ ...base, ...extra } as VerifierOptions).message).toContain(expected)
      if (!expected.includes('did you mean')) expect(errorOf({ ...base, ...extra } as VerifierOptions).message).not.toContain('did you mean')
    })

    it('suggests inside an issuers entry too', () => {
      expect(errorOf({ issuers: [{ issuer: 'https://a.test', audiance: 'api', jwksUri: 'https://a.test/j' }] } as never).message).toContain(
        'unknown option "issuers[0].audiance": did you mean "issuers[0].audience"?',
      )
    })

    it('accepts a logger with warn, or false', () => {
      expect(normalizeOptions({ ...base, logger: false }).logger).toBe(false)
      const logger = { warn: () => {} }
      expect(normalizeOptions({ ...base, logger }).logger).toBe(logger)
      expect(normalizeOptions(base).logger).toBeUndefined()
      expect(errorOf({ ...base, logger: { info: () => {} } } as never).message).toContain('invalid option "logger": expected false or an object with a warn(message) method, such as console')
    })

    it('reports every problem at once', () => {
      const { message } = errorOf({ ...base, clockTolerance: 'x', maxTokenAge: 'y' })
      expect(message).toContain('"clockTolerance"')
      expect(message).toContain('"maxTokenAge"')
    })

    it('turns off the verified-token cache with cache: false', () => {
      expect(normalizeOptions({ ...base, cache: false }).cache).toBe(false)
      expect(normalizeOptions({ ...base, cache: { max: 5 } }).cache).toEqual({ max: 5 })
    })
  })

  describe('issuers (multi-issuer)', () => {
    const entry = (issuer: string) => ({ issuer, audience: 'api', jwksUri: `${issuer}/jwks` })

    it('rejects an empty or non-array list', () => {
      expect(errorOf({ issuers: [] }).message).toMatch(/invalid option "issuers": expected a non-empty array/)
      expect(errorOf({ issuers: 'https://a.test' }).message).toMatch(/invalid option "issuers"/)
      expect(errorOf({ issuers: [null] }).message).toMatch(/invalid option "issuers\[0\]": expected an object/)
    })

    it('names the entry of a bad option', () => {
      expect(errorOf({ issuers: [entry('https://a.test'), { ...entry('https://b.test'), jku: 1 }] }).message).toBe(
        'bearer-guard: unknown option "issuers[1].jku"',
      )
      expect(errorOf({ issuers: [{ issuer: 'https://a.test', jwksUri: 'https://a.test/j' }] }).message).toMatch(
        /invalid option "issuers\[0\]\.audience": is required/,
      )
    })

    it('rejects issuer: false in an entry (the token iss selects the entry)', () => {
      expect(errorOf({ issuers: [{ ...entry('https://a.test'), issuer: false }] }).message).toMatch(/"issuers\[0\]\.issuer": each entry/)
    })

    it('rejects an issuer listed twice', () => {
      expect(errorOf({ issuers: [entry('https://a.test'), entry('https://b.test'), entry('https://a.test')] }).message).toBe(
        'bearer-guard: invalid option "issuers[2].issuer": "https://a.test" is listed twice',
      )
      expect(errorOf({ issuers: [{ ...entry('https://a.test'), issuer: ['https://a.test', 'https://a.test'] }] }).message).toMatch(/listed twice/)
    })

    it.each([
      ['maxTokenLength', 300],
      ['cache', false],
      ['logger', false],
    ])('refuses the verifier-wide option %s inside an entry, and says where it goes', (name, value) => {
      const { message } = errorOf({ issuers: [entry('https://a.test'), { ...entry('https://b.test'), [name]: value }] })
      expect(message).toBe(
        `bearer-guard: invalid option "issuers[1].${name}": applies to the whole verifier, not to one issuer: set it at the top level, next to "issuers"`,
      )
    })

    it('reads the verifier-wide options from the top level', () => {
      const n = normalizeOptions({ maxTokenLength: 300, cache: false, issuers: [entry('https://a.test'), entry('https://b.test')] })
      expect(n.maxTokenLength).toBe(300)
      expect(n.cache).toBe(false)
      expect(errorOf({ maxTokenLength: 100, issuers: [entry('https://a.test')] }).message).toBe(
        'bearer-guard: invalid option "maxTokenLength": Too small: expected number to be >=256',
      )
    })

    it('gives top-level options to every entry, the entry winning, jwks merged key by key', () => {
      const n = normalizeOptions({
        clockTolerance: 30,
        jwks: { cooldown: '1m', timeout: '2s' },
        issuers: [entry('https://a.test'), { ...entry('https://b.test'), clockTolerance: 0, jwks: { timeout: '1s' } }],
      })
      expect(n.multi).toBe(true)
      expect(n.entries[0]).toMatchObject({ clockTolerance: 30, jwks: { cooldown: 60, timeoutMs: 2000 } })
      expect(n.entries[1]).toMatchObject({ clockTolerance: 0, jwks: { cooldown: 60, timeoutMs: 1000 } })
    })
  })
})
