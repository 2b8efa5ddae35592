/**
 * What the browser app (examples/web) and the auth service's cookie mode
 * (examples/auth-service/browser.ts) agree on. No imports: the app's bundle includes this file.
 */

/**
 * The header the web app sends on every request to the token endpoints. Browsers let a page add it
 * only to same-origin requests (or after a CORS preflight, which the auth service never answers), so
 * a form on another site or a cross-origin `fetch` cannot forge it. Its value is not a secret.
 */
export const WEB_CLIENT_HEADER = 'X-Requested-With'
export const WEB_CLIENT_HEADER_VALUE = 'fetch'

/** The refresh cookie as browsers store it (`__Secure-`: only a secure origin may set it). */
export const REFRESH_COOKIE_NAME = '__Secure-refresh_token'
/** The only path the browser sends the refresh cookie to. */
export const REFRESH_COOKIE_PATH = '/refresh_token'

/** Where the auth service serves the app, and the app's settings. */
export const WEB_APP_PATH = '/app/'

/** `GET /app/config.json`: the resource services the app offers. */
export interface WebAppSettings {
  apis: { name: string; url: string }[]
}
