/**
 * Identity-provider presets: functions that return ordinary verifier options (issuer, JWKS URI,
 * algorithms, audience, where roles and scopes live, token-type checks) for Keycloak, Auth0,
 * Microsoft Entra ID, Amazon Cognito, Okta and Google. Pass the result to `createVerifier` or any
 * adapter; change anything with a spread or the second `overrides` argument.
 *
 * Subpath export `'bearer-guard/presets'`.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'bearer-guard/express'
 * import { keycloak } from 'bearer-guard/presets'
 *
 * app.use(requireAuth(keycloak({ realmUrl: 'https://kc.example.com/realms/main', clientId: 'orders-api' })))
 * ```
 *
 * @module bearer-guard/presets
 */
export { keycloak } from './keycloak.js'
export { auth0 } from './auth0.js'
export { entraId, ENTRA_CONSUMERS_TENANT } from './entra-id.js'
export { cognito } from './cognito.js'
export { okta } from './okta.js'
export { google } from './google.js'

export type { KeycloakPresetOptions } from './keycloak.js'
export type { Auth0PresetOptions } from './auth0.js'
export type { EntraIdPresetOptions } from './entra-id.js'
export type { CognitoPresetOptions } from './cognito.js'
export type { OktaPresetOptions } from './okta.js'
export type { GooglePresetOptions } from './google.js'
export type { PresetOverrides } from './shared.js'
