/**
 * The auth service's database (SQLite via better-sqlite3): refresh tokens, the access tokens issued
 * from each refresh-token family, and the denylist of revoked access-token jtis.
 *
 * Refresh tokens are opaque random strings (256 bits). The database keeps only their SHA-256:
 * a stolen database file yields no usable token. A fast hash is enough here because the input is
 * random, not a password: there is nothing to guess. Lookups go by hash, so no secret is compared
 * byte by byte in JavaScript and response timing reveals nothing about stored tokens.
 *
 * A "family" is every refresh token descended from one login. Each use rotates the token (the old
 * one is marked used, a new one issued in the same family). If a used token comes back, two parties
 * hold copies of it, and we cannot tell the thief from the user, so the whole family is revoked,
 * including access tokens it produced (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
 *
 * A family may be bound to a DPoP key (RFC 9449 §5: the login carried a proof): its refresh tokens are
 * then exchanged only with a proof signed by that key, and presenting one without it burns nothing,
 * since whoever lacks the key cannot use the token anyway.
 *
 * Opaque access tokens (`ACCESS_TOKEN_FORMAT=opaque`) are random references too: the table keeps
 * their SHA-256 with the claims a JWT would carry, for /introspect.
 *
 * better-sqlite3 is synchronous: each function below runs to completion before another request
 * is handled, and the `transaction()` wrappers make each one atomic on disk too.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

export interface RefreshGrant {
  familyId: string
  username: string
  clientId: string
  scope: string
  /** The resources (RFC 8707) granted at login: a refresh may ask for any of them, no other. */
  resources: string[]
  /** The RFC 7638 thumbprint of the DPoP key the family is bound to, if any. */
  jkt?: string
}

export type ExchangeResult =
  | { ok: true; grant: RefreshGrant; refreshToken: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'wrong_client' | 'key_required' | 'wrong_key' }
  | { ok: false; reason: 'reused'; revokedJtis: RevokedJti[] }

export interface RevokedJti {
  jti: string
  /** Seconds since the epoch, the token's `exp`. */
  exp: number
}

interface RefreshRow {
  family_id: string
  username: string
  client_id: string
  scope: string
  resources: string | null
  jkt: string | null
  expires_at: number
  used_at: number | null
  revoked_at: number | null
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,       -- SHA-256 of the token, base64url; never the token itself
    family_id  TEXT NOT NULL,
    username   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at INTEGER NOT NULL,       -- seconds since the epoch
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,                -- set when exchanged; a second exchange is reuse
    revoked_at INTEGER,
    resources  TEXT,                   -- JSON array of granted resources (RFC 8707)
    jkt        TEXT                    -- DPoP key thumbprint the family is bound to (RFC 9449)
  );
  CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
  CREATE TABLE IF NOT EXISTS access_tokens (
    jti        TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS access_tokens_family ON access_tokens (family_id);
  CREATE TABLE IF NOT EXISTS opaque_tokens (
    token_hash TEXT PRIMARY KEY,       -- SHA-256 of the opaque access token, base64url
    jti        TEXT NOT NULL,
    claims     TEXT NOT NULL,          -- JSON: what a JWT access token would carry
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS revoked_jtis (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,  -- the cursor resource services poll with
    jti        TEXT NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL
  );
`

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url')
const nowSeconds = () => Math.floor(Date.now() / 1000)
/**
 * Seconds past its `exp` that a verifier may still accept a token: bearer-guard's `clockTolerance`
 * goes up to 300 s. Until then an access token still counts as live here: a revoked one stays on
 * the list, and revoking its session reaches it.
 */
const VERIFIER_TOLERANCE = 300

export type TokenStore = ReturnType<typeof openTokenStore>

/** Rows from before resources were recorded have none: the caller falls back to its default. */
function parseResources(raw: string | null): string[] {
  if (raw === null) return []
  const parsed: unknown = JSON.parse(raw)
  return Array.isArray(parsed) ? parsed.filter((r): r is string => typeof r === 'string') : []
}

/** Opens (and creates if needed) the database. `':memory:'` gives a throwaway one. */
export function openTokenStore(file: string, refreshTokenTtl: number) {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec(SCHEMA)
  // a database file from before resources and DPoP: add their columns
  const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(refresh_tokens)`).all()
  for (const column of ['resources', 'jkt']) {
    if (!columns.some((c) => c.name === column)) {
      db.exec(`ALTER TABLE refresh_tokens ADD COLUMN ${column} TEXT`)
    }
  }

  const q = {
    insertRefresh: db.prepare(
      `INSERT INTO refresh_tokens (token_hash, family_id, username, client_id, scope, created_at, expires_at, resources, jkt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    findRefresh: db.prepare<[string], RefreshRow>(
      `SELECT * FROM refresh_tokens WHERE token_hash = ?`,
    ),
    markUsed: db.prepare(
      `UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL`,
    ),
    revokeFamily: db.prepare(
      `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`,
    ),
    insertAccess: db.prepare(
      `INSERT INTO access_tokens (jti, family_id, expires_at) VALUES (?, ?, ?)`,
    ),
    familyAccess: db.prepare<[string, number], { jti: string; expires_at: number }>(
      `SELECT jti, expires_at FROM access_tokens WHERE family_id = ? AND expires_at > ?`,
    ),
    revokeJti: db.prepare(`INSERT OR IGNORE INTO revoked_jtis (jti, expires_at) VALUES (?, ?)`),
    isRevoked: db.prepare<[string], { one: number }>(`SELECT 1 AS one FROM revoked_jtis WHERE jti = ?`),
    insertOpaque: db.prepare(
      `INSERT INTO opaque_tokens (token_hash, jti, claims, expires_at) VALUES (?, ?, ?, ?)`,
    ),
    findOpaque: db.prepare<[string], { claims: string }>(
      `SELECT claims FROM opaque_tokens WHERE token_hash = ?`,
    ),
    pruneOpaque: db.prepare(`DELETE FROM opaque_tokens WHERE expires_at < ?`),
    revokedSince: db.prepare<[number, number], { seq: number; jti: string; expires_at: number }>(
      `SELECT seq, jti, expires_at FROM revoked_jtis WHERE seq > ? AND expires_at > ? ORDER BY seq LIMIT 1000`,
    ),
    lastSeq: db.prepare<[], { seq: number | null }>(`SELECT MAX(seq) AS seq FROM revoked_jtis`),
    pruneRefresh: db.prepare(`DELETE FROM refresh_tokens WHERE expires_at < ?`),
    pruneAccess: db.prepare(`DELETE FROM access_tokens WHERE expires_at < ?`),
    // keep the newest row so MAX(seq) (the cursor) never goes backwards
    pruneRevoked: db.prepare(
      `DELETE FROM revoked_jtis WHERE expires_at < ? AND seq < (SELECT MAX(seq) FROM revoked_jtis)`,
    ),
  }

  function issue(grant: RefreshGrant, now: number): string {
    const token = randomBytes(32).toString('base64url')
    q.insertRefresh.run(
      hashToken(token),
      grant.familyId,
      grant.username,
      grant.clientId,
      grant.scope,
      now,
      now + refreshTokenTtl,
      JSON.stringify(grant.resources),
      grant.jkt ?? null,
    )
    return token
  }

  /** Denylists jtis; returns them so the caller can also publish them (e.g. to Redis). */
  function revokeJtis(rows: readonly RevokedJti[]): RevokedJti[] {
    for (const { jti, exp } of rows) q.revokeJti.run(jti, exp)
    return [...rows]
  }

  const revokeFamily = db.transaction((familyId: string, now: number): RevokedJti[] => {
    q.revokeFamily.run(now, familyId)
    const live = q.familyAccess
      .all(familyId, now - VERIFIER_TOLERANCE)
      .map((r) => ({ jti: r.jti, exp: r.expires_at }))
    return revokeJtis(live)
  })

  return {
    /** A new family for a fresh login; returns the first refresh token. */
    startFamily(grant: Omit<RefreshGrant, 'familyId'>): { refreshToken: string; familyId: string } {
      const familyId = randomUUID()
      return { familyId, refreshToken: issue({ ...grant, familyId }, nowSeconds()) }
    },

    /**
     * Rotation: trades a refresh token for a new one of the same family, once. A second
     * presentation of the same token revokes the family (reuse detection). `jkt`: the thumbprint
     * of the request's DPoP key, required for a bound family. `narrow` sees the granted resources
     * just before the token is used up, and may throw to refuse the request (nothing changes then).
     */
    exchange: db.transaction(
      (
        token: string,
        clientId: string,
        { jkt, narrow }: { jkt?: string | undefined; narrow?: (resources: string[]) => void } = {},
      ): ExchangeResult => {
      const now = nowSeconds()
      const tokenHash = hashToken(token)
      const row = q.findRefresh.get(tokenHash)
      if (!row) return { ok: false, reason: 'unknown' }
      // first: without the key the token is useless, so its holder learns nothing else and burns
      // nothing (reuse detection below would let a thief without the key end the user's session)
      if (row.jkt !== null && row.jkt !== jkt) {
        return { ok: false, reason: jkt === undefined ? 'key_required' : 'wrong_key' }
      }
      if (row.revoked_at !== null) return { ok: false, reason: 'revoked' }
      if (row.used_at !== null)
        return { ok: false, reason: 'reused', revokedJtis: revokeFamily(row.family_id, now) }
      // bound to the client it was issued to (RFC 6749 §6); a mismatch is not proof of theft, so
      // the token is refused without burning the family
      if (row.client_id !== clientId) return { ok: false, reason: 'wrong_client' }
      if (row.expires_at <= now) return { ok: false, reason: 'expired' }
      narrow?.(parseResources(row.resources))
      q.markUsed.run(now, tokenHash)
      const grant: RefreshGrant = {
        familyId: row.family_id,
        username: row.username,
        clientId: row.client_id,
        scope: row.scope,
        resources: parseResources(row.resources),
        ...(row.jkt === null ? {} : { jkt: row.jkt }),
      }
      return { ok: true, grant, refreshToken: issue(grant, now) }
      },
    ),

    /** The family of a refresh token, or undefined (for /revoke). */
    familyOf(token: string): { familyId: string; clientId: string } | undefined {
      const row = q.findRefresh.get(hashToken(token))
      return row && { familyId: row.family_id, clientId: row.client_id }
    },

    /** Revokes every refresh token of a family and denylists its live access tokens. */
    revokeFamily: (familyId: string) => revokeFamily(familyId, nowSeconds()),

    /** Records an issued access token under its family, so revoking the family can reach it. */
    recordAccessToken(jti: string, familyId: string, exp: number): void {
      q.insertAccess.run(jti, familyId, exp)
    },

    /** Denylists one access token (RFC 7009 revocation, logout). */
    revokeAccessToken: (jti: string, exp: number) => revokeJtis([{ jti, exp }]),

    /** Whether an access token's jti is on the denylist. */
    isRevoked: (jti: string): boolean => q.isRevoked.get(jti) !== undefined,

    /** Stores an opaque access token (its hash) with its claims. */
    recordOpaqueToken(token: string, claims: { jti: string; exp: number }): void {
      q.insertOpaque.run(hashToken(token), claims.jti, JSON.stringify(claims), claims.exp)
    },

    /** The claims of an opaque access token, expired or not, or undefined when unknown. */
    findOpaqueToken(token: string): Record<string, unknown> | undefined {
      const row = q.findOpaque.get(hashToken(token))
      return row && (JSON.parse(row.claims) as Record<string, unknown>)
    },

    /**
     * Revoked jtis added after `cursor` whose tokens a verifier may still accept (unexpired, or
     * within its clock tolerance), and the cursor to ask with next time.
     */
    revokedSince(cursor: number): { revoked: RevokedJti[]; cursor: number } {
      // a cursor ahead of our newest row comes from an earlier database (the service restarted
      // with a fresh file): start over rather than miss entries
      const top = q.lastSeq.get()?.seq ?? 0
      const from = cursor > top ? 0 : cursor
      const rows = q.revokedSince.all(from, nowSeconds() - VERIFIER_TOLERANCE)
      const next = rows.at(-1)?.seq ?? from
      return { revoked: rows.map((r) => ({ jti: r.jti, exp: r.expires_at })), cursor: next }
    },

    /** Deletes rows that can no longer matter (tokens no verifier accepts any more). */
    prune(): void {
      const now = nowSeconds()
      q.pruneRefresh.run(now)
      q.pruneAccess.run(now - VERIFIER_TOLERANCE)
      q.pruneRevoked.run(now - VERIFIER_TOLERANCE)
      // kept as long as a session lives: cookie mode revokes a session by its expired access token
      q.pruneOpaque.run(now - refreshTokenTtl)
    },

    close: () => db.close(),
  }
}
