/**
 * The time claims: `exp` (required), `nbf`, `iat`, and `maxTokenAge`. `checkTimeClaims` reads them
 * from a fresh payload; `checkLifetime` is the part that changes with the clock, run again by
 * every cache hit.
 *
 * @module bearer-guard
 */
import { TokenExpiredError, InvalidTokenError } from '../errors.js'
import { MAX_NUMERIC_DATE } from '../limits.js'
import type { NormalizedIssuer } from '../options.js'
import type { JWTPayload } from '../types.js'
import { invalid } from './reasons.js'

/** The clock, in NumericDate seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/**
 * Checks a fresh payload's time claims against `now`: `exp` is then a number and `iat` a number or
 * absent (read them from the payload).
 */
export function checkTimeClaims(cfg: NormalizedIssuer, payload: JWTPayload, now: number): void {
  const tol = cfg.clockTolerance
  const exp = payload.exp
  if (exp === undefined) throw invalid('exp missing', 'exp')
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('exp is not a number', 'exp')
  if (Math.abs(exp) > MAX_NUMERIC_DATE) throw invalid('exp is not a valid time (beyond the range of a Date)', 'exp')
  const iat = payload.iat
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) throw invalid('iat is not a number', 'iat')
  if (iat !== undefined && Math.abs(iat) > MAX_NUMERIC_DATE) throw invalid('iat is not a valid time (beyond the range of a Date)', 'iat')
  const nbf = payload.nbf
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) throw invalid('nbf is not a number', 'nbf')
    if (nbf > now + tol) {
      throw new InvalidTokenError({ description: 'token not yet valid', reason: `nbf ${nbf} is in the future: now ${now}, tolerance ${tol}s`, claim: 'nbf' })
    }
  }
  if (iat !== undefined && iat > now + tol) throw invalid(`iat ${iat} is in the future: now ${now}, tolerance ${tol}s`, 'iat')
  if (cfg.maxTokenAge !== undefined && iat === undefined) throw invalid('iat missing (maxTokenAge is set)', 'iat')
  checkLifetime(cfg, exp, iat, now)
}

/** Not expired, and not older than `maxTokenAge`: the checks a cached token needs again. */
export function checkLifetime(cfg: NormalizedIssuer, exp: number, iat: number | undefined, now: number): void {
  const tol = cfg.clockTolerance
  if (exp <= now - tol) {
    throw new TokenExpiredError({ reason: `exp ${exp} is past: now ${now}, tolerance ${tol}s`, expiredAt: new Date(exp * 1000) })
  }
  if (cfg.maxTokenAge !== undefined && iat !== undefined && now - iat > cfg.maxTokenAge + tol) {
    throw invalid(`iat ${iat} is older than maxTokenAge ${cfg.maxTokenAge}s`, 'iat')
  }
}
