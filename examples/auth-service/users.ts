/**
 * The user directory: the seed's `fake_users_db`, with passwords hashed by scrypt (node:crypto).
 *
 * The hash format is `scrypt$N$r$p$salt$hash` (base64url), so the cost can be raised later while
 * old hashes still verify. The plain passwords below exist only to build the demo users at start-up,
 * as the seed does with `pwd_context.hash("password_alice")`; nothing stores or logs them.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

export interface User {
  username: string
  passwordHash: string
  roles: string[]
  /** Scopes this user is granted when the client asks for none. */
  scopes: string[]
  /**
   * Further scopes the user may be granted when a client asks for them by name, never by default:
   * the example MCP server's `tools:read` and `tools:call` (examples/mcp-server).
   */
  requestableScopes: string[]
}

/** Node's default cost (N=2^14, 16 MiB): ~50 ms per hash, slow enough to hurt guessing. */
const COST = { N: 16384, r: 8, p: 1 }
const KEY_LENGTH = 32
/** Passwords longer than this are refused before hashing (a cheap bound on work per request). */
export const MAX_PASSWORD_BYTES = 256

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  )
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scryptAsync(password, salt, COST)
  return [
    'scrypt',
    COST.N,
    COST.r,
    COST.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$')
}

/** Checks a password against a stored hash in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  })
  // timingSafeEqual throws on a length mismatch, so compare lengths first (they are not secret)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

export interface UserDirectory {
  /** The user when the password is right, else `undefined`. Takes the same time either way. */
  authenticate(username: string, password: string): Promise<User | undefined>
  find(username: string): User | undefined
}

/** The seed's two users: alice (user) and bob (user, admin). */
export async function createDemoUsers(): Promise<UserDirectory> {
  const users = new Map<string, User>()
  const seed = [
    {
      username: 'alice',
      password: 'password_alice',
      roles: ['user'],
      scopes: ['profile'],
      requestableScopes: ['tools:read'],
    },
    {
      username: 'bob',
      password: 'password_bob',
      roles: ['user', 'admin'],
      scopes: ['profile', 'admin'],
      requestableScopes: ['tools:read', 'tools:call'],
    },
  ]
  for (const { password, ...user } of seed) {
    users.set(user.username, { ...user, passwordHash: await hashPassword(password) })
  }
  // An unknown user is checked against this hash so that "no such user" and "wrong password" cost
  // the same time: response timing must not tell an attacker which usernames exist.
  const dummyHash = await hashPassword(randomBytes(16).toString('hex'))

  return {
    async authenticate(username, password) {
      const user = users.get(username)
      const ok = await verifyPassword(password, user?.passwordHash ?? dummyHash)
      return ok && user ? user : undefined
    },
    find: (username) => users.get(username),
  }
}
