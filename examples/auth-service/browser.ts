/**
 * What the auth service does for browser clients (`REFRESH_TOKEN_TRANSPORT=cookie`, the design's
 * §六.3: "SPA: the refresh token must be kept in an HttpOnly cookie"):
 *
 * - the refresh token travels only in a cookie the page's JavaScript cannot read
 *   (`__Secure-refresh_token`, `HttpOnly; Secure; SameSite=Strict; Path=/refresh_token`);
 * - the endpoints that set, read or clear that cookie answer only the web app: an `Origin` equal to
 *   the app's, a custom header (`X-Requested-With`) that no form or cross-origin page can add
 *   without passing CORS, which this service never grants, and `Sec-Fetch-Site` (when the browser
 *   sends it) saying same-origin or same-site;
 * - the app itself (examples/web, built to `WEB_APP_DIR`) is served at `/app/`, same origin as the
 *   cookie endpoint, under a strict Content-Security-Policy.
 */
import { serveStatic } from '@hono/node-server/serve-static'
import type { Context, Hono, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { secureHeaders } from 'hono/secure-headers'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  REFRESH_COOKIE_NAME,
  REFRESH_COOKIE_PATH,
  WEB_CLIENT_HEADER,
  WEB_CLIENT_HEADER_VALUE,
} from '../shared/web-client.js'
import type { WebAppConfig } from './config.js'

export { REFRESH_COOKIE_NAME, WEB_CLIENT_HEADER, WEB_CLIENT_HEADER_VALUE }

/** The cookie's name without its `__Secure-` prefix (hono's cookie helpers add it). */
const COOKIE = REFRESH_COOKIE_NAME.replace(/^__Secure-/, '')
/** Browsers keep cookies at most 400 days (RFC 6265bis), and refuse longer `Max-Age`. */
const MAX_COOKIE_AGE = 400 * 24 * 3600

/** Sets the refresh cookie (rotation replaces it). `maxAge`: the refresh token's lifetime, seconds. */
export function setRefreshCookie(c: Context, token: string, maxAge: number): void {
  setCookie(c, COOKIE, token, {
    prefix: 'secure', // `__Secure-`: only a secure origin (https, or localhost) can set it
    httpOnly: true,
    secure: true,
    sameSite: 'Strict',
    path: REFRESH_COOKIE_PATH,
    maxAge: Math.min(maxAge, MAX_COOKIE_AGE),
  })
}

export const readRefreshCookie = (c: Context): string | undefined =>
  getCookie(c, COOKIE, 'secure') || undefined

export function clearRefreshCookie(c: Context): void {
  deleteCookie(c, COOKIE, {
    prefix: 'secure',
    httpOnly: true,
    secure: true,
    sameSite: 'Strict',
    path: REFRESH_COOKIE_PATH,
  })
}

/** Why a request was refused by `webAppOnly`, or undefined when it comes from the app. */
export function notFromWebApp(c: Context, appOrigin: string): string | undefined {
  const origin = c.req.header('origin')
  if (!origin) return 'no Origin header'
  if (origin !== appOrigin) return 'origin not allowed'
  // Fetch Metadata: sent by every current browser; absent from older ones and from non-browsers,
  // which the Origin and custom-header checks still cover
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined && site !== 'same-origin' && site !== 'same-site') {
    return 'cross-site request'
  }
  if (c.req.header(WEB_CLIENT_HEADER) !== WEB_CLIENT_HEADER_VALUE) {
    return `missing ${WEB_CLIENT_HEADER} header`
  }
  return undefined
}

/**
 * Serves the built web app at `/app/` and its settings at `/app/config.json`. The page may load
 * scripts and styles only from here, and connect only here and to the resource services it lists.
 */
export function mountWebApp(app: Hono, webApp: WebAppConfig, log: (line: string) => void): void {
  const built = existsSync(join(webApp.dir, 'index.html'))
  if (!built) log(`web app not built (${webApp.dir}): node --import tsx examples/web/build.ts`)
  const connect = ["'self'", ...new Set(webApp.apis.map((a) => a.url))]

  app.get('/app', (c) => c.redirect('/app/', 301))
  app.use(
    '/app/*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: connect,
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // DOM sinks such as innerHTML refuse plain strings: the app builds its DOM node by node
        requireTrustedTypesFor: ["'script'"],
      },
      referrerPolicy: 'no-referrer',
    }),
    async (c, next) => {
      await next()
      c.header('Cache-Control', 'no-cache')
    },
  )
  app.get('/app/config.json', (c) => c.json({ apis: webApp.apis }))
  app.get(
    '/app/*',
    serveStatic({
      root: webApp.dir,
      rewriteRequestPath: (path) => path.replace(/^\/app/, ''),
    }),
    (c) =>
      c.json(
        {
          error: 'not_found',
          error_description: built ? 'no such file' : 'web app not built',
        },
        404,
      ),
  )
}

/** A middleware that lets only the web app through (see `notFromWebApp`). */
export function webAppOnly(
  appOrigin: () => string,
  refuse: (reason: string) => never,
): MiddlewareHandler {
  return async (c, next) => {
    const reason = notFromWebApp(c, appOrigin())
    if (reason) refuse(reason)
    await next()
  }
}
