/**
 * The browser's half of the design's token management (§六): the access token lives in this
 * module's memory only, the refresh token in an HttpOnly cookie this code never sees.
 *
 * - `login` posts the seed's form to `/token`; the auth service answers the access token in JSON
 *   and sets the refresh cookie (`HttpOnly; Secure; SameSite=Strict; Path=/refresh_token`).
 * - `call` sends the access token to a resource service. On a 401 whose challenge names expiry it
 *   refreshes once through the cookie and retries once; requests that fail together share that
 *   one refresh (rotation makes a second use of the same refresh token look like theft).
 * - `restore` is the same refresh at page load: a reload keeps the session through the cookie,
 *   with nothing in localStorage, sessionStorage or IndexedDB.
 * - `logout` revokes the session at `/revoke`, which also clears the cookie.
 * - A failed refresh (reuse detected, revoked, expired) or a revoked access token ends the session.
 */
import { WEB_CLIENT_HEADER, WEB_CLIENT_HEADER_VALUE } from '../../shared/web-client.js'
import { isExpired, isRevoked, parseBearerChallenge, type BearerChallenge } from './challenge.js'

/** What the page shows of the signed-in user: read from the access token, never trusted. */
export interface SignedInUser {
  name: string
  roles: string[]
  /** When the access token expires (ms since the epoch). */
  expiresAt: number
}

/** A resource service's answer, after at most one silent refresh and retry. */
export interface ApiAnswer {
  status: number
  body: unknown
  challenge?: BearerChallenge
  /** The first attempt was refused as expired; this is the retry with a refreshed token. */
  retried: boolean
}

export interface SessionOptions {
  /** The OAuth client the page acts as (`seed-client`; `short-lived` gives tokens of a few seconds). */
  clientId: string
  /** Each step, for the page's activity log. */
  onEvent?: (text: string) => void
  /** The session is over: `reason` says why (undefined: the user logged out or never logged in). */
  onSignedOut?: (reason: string | undefined) => void
}

export interface Session {
  readonly user: SignedInUser | undefined
  login(username: string, password: string): Promise<void>
  restore(): Promise<boolean>
  /** `label` names the request in the activity log (default: the URL). */
  call(url: string, label?: string): Promise<ApiAnswer>
  logout(): Promise<void>
}

/** The auth service's JSON error. */
interface OAuthErrorBody {
  error?: string
  error_description?: string
}

const LOCK = 'bearer-guard-refresh'

export function createSession({
  clientId,
  onEvent = () => {},
  onSignedOut = () => {},
}: SessionOptions): Session {
  /** The access token: in this closure only, never on `window`, never in storage. */
  let accessToken: string | undefined
  let user: SignedInUser | undefined
  /** The refresh in flight, shared by every request that needs it. */
  let refreshing: Promise<boolean> | undefined

  /** A request to the auth service (same origin): the cookie goes along, and the CSRF header. */
  async function post(path: string, fields: Record<string, string>) {
    const res = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        [WEB_CLIENT_HEADER]: WEB_CLIENT_HEADER_VALUE,
      },
      body: new URLSearchParams({ ...fields, client_id: clientId }),
    })
    const body = (await res.json().catch(() => ({}))) as OAuthErrorBody & Record<string, unknown>
    return { res, body }
  }

  function accept(body: Record<string, unknown>): void {
    const token = body.access_token
    if (typeof token !== 'string') throw new Error('no access token in the answer')
    if ('refresh_token' in body) {
      throw new Error('refresh token in the body: is the auth service in cookie mode?')
    }
    accessToken = token
    const claims = readClaims(token)
    user = {
      name: String(claims.sub ?? '?'),
      roles: Array.isArray(claims.roles) ? claims.roles.map(String) : [],
      expiresAt: Date.now() + Number(body.expires_in ?? 0) * 1000,
    }
  }

  function end(reason: string | undefined): void {
    accessToken = undefined
    user = undefined
    onSignedOut(reason)
  }

  async function login(username: string, password: string): Promise<void> {
    const { res, body } = await post('/token', { grant_type: 'password', username, password })
    onEvent(
      `POST /token → ${res.status} ${
        res.ok
          ? '(access token kept in memory, refresh token set as an HttpOnly cookie)'
          : (body.error_description ?? '')
      }`,
    )
    if (!res.ok) throw new Error(body.error_description ?? `login failed (${res.status})`)
    accept(body)
  }

  /** One refresh through the cookie; concurrent callers share it. */
  function refresh(): Promise<boolean> {
    refreshing ??= refreshOnce().finally(() => (refreshing = undefined))
    return refreshing
  }

  async function refreshOnce(): Promise<boolean> {
    const exchange = async () => {
      const { res, body } = await post('/refresh_token', {})
      onEvent(
        `POST /refresh_token → ${res.status} ${
          res.ok ? '(new access token, cookie rotated)' : (body.error_description ?? '')
        }`,
      )
      if (res.ok) {
        accept(body)
        return true
      }
      // no cookie at all: nobody was signed in, nothing to report
      end(
        body.error === 'invalid_request'
          ? undefined
          : (body.error_description ?? `refresh failed (${res.status})`),
      )
      return false
    }
    // Tabs of one origin share the cookie: the Web Locks API lets one refresh at a time use it, so
    // two tabs never present the same refresh token (the second waits, then uses the rotated one)
    const locks = globalThis.navigator?.locks
    return locks ? locks.request(LOCK, exchange) : exchange()
  }

  /** After `stale` was refused as expired: refresh, unless another request already did. */
  function renew(stale: string): Promise<boolean> {
    if (accessToken !== stale) return Promise.resolve(accessToken !== undefined)
    return refresh()
  }

  async function get(url: string, token: string): Promise<ApiAnswer> {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      credentials: 'omit', // the token is the credential; no cookie goes to an API
    })
    const text = await res.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      /* not JSON: keep the text */
    }
    const challenge = parseBearerChallenge(res.headers.get('www-authenticate'))
    return { status: res.status, body, challenge, retried: false }
  }

  async function call(url: string, label = `GET ${url}`): Promise<ApiAnswer> {
    const token = accessToken
    if (!token) throw new Error('not signed in')
    const first = await get(url, token)
    if (first.status === 401 && isExpired(first.challenge)) {
      onEvent(`${label} → 401 ${first.challenge?.description}`)
      if (!(await renew(token))) return first
      const retry = { ...(await get(url, accessToken!)), retried: true }
      onEvent(`${label} retried with the refreshed token → ${retry.status}`)
      return retry
    }
    if (first.status === 401 && isRevoked(first.challenge) && accessToken === token) {
      end(`access token ${first.challenge?.description}`)
    }
    return first
  }

  async function logout(): Promise<void> {
    const token = accessToken
    accessToken = undefined // no request uses it from here on
    if (token) {
      // the auth service ends the session of this access token (even an expired one) and clears
      // the cookie; the page forgets the token whatever the answer
      const answer = await post('/revoke', { token, token_type_hint: 'access_token' }).catch(
        () => undefined,
      )
      onEvent(
        `POST /revoke → ${answer?.res.status ?? 'network error'} (session revoked, cookie cleared)`,
      )
    }
    end(undefined)
  }

  return {
    get user() {
      return user
    },
    login,
    restore: refresh,
    call,
    logout,
  }
}

/** The access token's claims, for display only: resource services verify it, the page does not. */
function readClaims(jwt: string): Record<string, unknown> {
  try {
    const part = jwt.split('.')[1] ?? ''
    const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'))
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
  } catch {
    return {}
  }
}
