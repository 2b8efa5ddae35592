/**
 * The types of the `introspection` option and of `auth.confirmation`: checked by vitest's
 * typecheck mode, never run.
 */
import { describe, expectTypeOf, it } from 'vitest'
import { createVerifier, type AuthContext, type IntrospectionOptions } from 'bearer-guard'
import { keycloak, okta } from 'bearer-guard/presets'

const base = { issuer: 'https://issuer.test', audience: 'https://api.test' }

describe('introspection', () => {
  it('takes a secret or a private_key_jwt client', () => {
    createVerifier({ ...base, introspection: { clientId: 'api', clientSecret: 's', method: 'client_secret_post', use: 'always', cacheMaxAge: '30s' } })
    createVerifier({ ...base, introspection: { clientId: 'api', clientAuth: { method: 'private_key_jwt', key: { kty: 'EC' }, alg: 'ES256' } } })
    // @ts-expect-error use is 'opaque' or 'always'
    createVerifier({ ...base, introspection: { clientId: 'api', clientSecret: 's', use: 'sometimes' } })
    // @ts-expect-error clientId is required
    createVerifier({ ...base, introspection: { clientSecret: 's' } })
    // @ts-expect-error private_key_jwt signs with an asymmetric algorithm
    createVerifier({ ...base, introspection: { clientId: 'api', clientAuth: { method: 'private_key_jwt', key: 'pem', alg: 'HS256' } } })
  })

  it('is the option the presets take, without the endpoint they set', () => {
    keycloak({ realmUrl: 'https://kc.test/realms/main', clientId: 'api', introspection: { clientSecret: 's' } })
    okta({ issuer: 'https://o.okta.com/oauth2/default', audience: 'api://default', introspection: { clientId: 'rs', clientSecret: 's' } })
    // @ts-expect-error the preset sets the endpoint
    okta({ issuer: 'https://o.okta.com/oauth2/default', audience: 'api://default', introspection: { clientId: 'rs', clientSecret: 's', endpoint: 'https://x' } })
    expectTypeOf<IntrospectionOptions['use']>().toEqualTypeOf<'opaque' | 'always' | undefined>()
  })

  it("types auth.confirmation as the cnf binding", () => {
    expectTypeOf<AuthContext['confirmation']>().toEqualTypeOf<{ jkt?: string; 'x5t#S256'?: string } | undefined>()
  })
})
