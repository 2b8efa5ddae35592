/**
 * Tokens shaped byte for byte like the ones Python auth stacks issue, produced here with jose (no
 * copied fixtures): PyJWT's compact JSON with sorted header keys (`{"alg":"HS256","typ":"JWT"}`),
 * claims in each library's insertion order, HS256 over the shared secret.
 */
import { base64url } from 'jose'

const encoder = new TextEncoder()
const nowSeconds = () => Math.floor(Date.now() / 1000)

/** `jwt.encode(payload, secret, algorithm="HS256")` of PyJWT 2.x (python-jose gives the same bytes). */
export async function pyjwtEncode(payload: Record<string, unknown>, secret: string, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256'): Promise<string> {
  // PyJWT: json.dumps(header, separators=(",", ":"), sort_keys=True); payload in insertion order
  const header = base64url.encode(JSON.stringify({ alg, typ: 'JWT' }))
  const body = base64url.encode(JSON.stringify(payload))
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['sign'])
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`${header}.${body}`)))
  return `${header}.${body}.${base64url.encode(signature)}`
}

/** The seed's FastAPI auth service (`auth_service/main.py`): access = sub + roles + exp (30 min). */
export function fastapiAccessToken(secret: string, username: string, roles: string[], minutes = 30): Promise<string> {
  return pyjwtEncode({ sub: username, roles, exp: nowSeconds() + minutes * 60 }, secret)
}

/** The seed's FastAPI refresh token: sub + exp (7 days), same secret, same algorithm. */
export function fastapiRefreshToken(secret: string, username: string, days = 7): Promise<string> {
  return pyjwtEncode({ sub: username, exp: nowSeconds() + days * 86_400 }, secret)
}

/** `uuid4().hex` (simplejwt's jti). */
const uuidHex = () => crypto.randomUUID().replaceAll('-', '')

/**
 * djangorestframework-simplejwt 5.x `AccessToken.for_user(user)` / `RefreshToken.for_user(user)`:
 * `token_type`, `exp`, `iat`, `jti` (uuid4 hex), `user_id` (the primary key, an integer).
 */
export function simplejwtToken(
  secret: string,
  tokenType: 'access' | 'refresh',
  userId: number | string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const iat = nowSeconds()
  const lifetime = tokenType === 'access' ? 5 * 60 : 86_400
  return pyjwtEncode({ token_type: tokenType, exp: iat + lifetime, iat, jti: uuidHex(), user_id: userId, ...extra }, secret)
}

/**
 * Flask-JWT-Extended 4.x `create_access_token(identity, fresh=…, additional_claims=…)` /
 * `create_refresh_token(identity)`: `fresh` (access only), `iat`, `jti` (uuid4), `type`, `sub`,
 * `nbf`, `csrf` (with JWT_COOKIE_CSRF_PROTECT and cookies), `exp`, then the additional claims.
 */
export function flaskJwtExtendedToken(
  secret: string,
  type: 'access' | 'refresh',
  identity: string,
  options: { fresh?: boolean | number; csrf?: boolean; additional?: Record<string, unknown> } = {},
): Promise<string> {
  const now = nowSeconds()
  const claims: Record<string, unknown> = {}
  if (type === 'access') claims.fresh = options.fresh ?? false
  Object.assign(claims, { iat: now, jti: crypto.randomUUID(), type, sub: identity, nbf: now })
  if (options.csrf) claims.csrf = crypto.randomUUID()
  claims.exp = now + (type === 'access' ? 15 * 60 : 30 * 86_400)
  return pyjwtEncode({ ...claims, ...options.additional }, secret)
}

/** A random secret of `bytes` bytes, base64url (what `secrets.token_urlsafe(bytes)` gives). */
export function randomSecret(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)))
}
