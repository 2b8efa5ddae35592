/**
 * Route metadata read by `AuthGuard`, and the `@Auth()` parameter.
 *
 * @module bearer-guard/nestjs
 */
import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common'
import { Reflector } from '@nestjs/core'
import { checkAuthOptions, toVerifier, type AdapterOptions, type GuardOptions } from '../../core/adapter.js'
import { claimsGuard, roleGuard, scopeGuard, type ClaimRequirement, type Guard } from '../../core/guards.js'
import type { RegisteredClaims, Verifier, VerifierOptions } from '../../core/types.js'
import type { PlatformRequest } from './request.js'

type Ctx = [context: ExecutionContext]

/**
 * `realm`, `optional`, `onError(error, context)` and `onFailure(error, context)`, as in every
 * adapter. `onError` answers in one of two ways: it returns an `Error` (e.g. an `HttpException`),
 * which the guard throws instead of its own, so your exception filters render it; or it sends the
 * response itself (`context.switchToHttp().getResponse()`), and the guard then ends the request
 * (still by throwing, Nest's only way to stop a request: Nest's filter sees the response is sent).
 * Anything else it returns leaves the default answer.
 */
export type NestAuthOptions = AdapterOptions<Ctx, unknown>
/** `any`, `realm`, `onError`, `onFailure` of one `@Roles`/`@Scopes`/`@Claims` check. */
export type NestGuardOptions = GuardOptions<Ctx, unknown>
/** The options of `@AuthOptions()`: those of the module, per controller or route, and another verifier. */
export interface NestRouteOptions extends NestAuthOptions {
  /** A verifier for this controller or route (another authorization server). Default: the module's. */
  verifier?: Verifier<any> | VerifierOptions
}

/** Metadata keys (for `Reflector`, e.g. a guard of yours that skips public routes). */
export const PUBLIC_ROUTE = 'bearer-guard:public'
export const AUTH_OPTIONS = 'bearer-guard:auth-options'
export const AUTH_REQUIREMENTS = 'bearer-guard:requirements'

/** A check of `@Roles`/`@Scopes`/`@Claims` with its own failure options. */
export interface Requirement {
  check: Guard
  options: NestGuardOptions
}

type Decorator = MethodDecorator & ClassDecorator
type Target = object
type Descriptor = TypedPropertyDescriptor<any> | undefined

export const reflector = new Reflector()

/** The metadata holder: the method for a method decorator, the class for a class decorator. */
const holder = (target: Target, descriptor: Descriptor): Function =>
  (descriptor ? descriptor.value : target) as Function

/**
 * The route needs no token: `AuthGuard` lets it through without verifying (the route has no
 * `auth`). For routes under a global guard (`forRoot(…, { global: true })`).
 *
 * `@Public()` on a controller does not open a route that has `@Roles`, `@Scopes` or `@Claims` of
 * its own, and on a route it does not open it when the route carries such a check as well (the
 * check wins: a contradiction never fails open). On a route, it opens the route even when its
 * controller has checks.
 *
 * @example A health check under a global guard.
 * ```ts
 * import { Public } from 'bearer-guard/nestjs'
 * @Public() @Get('health') health() { return { ok: true } }
 * ```
 */
export function Public(): Decorator {
  return SetMetadata(PUBLIC_ROUTE, true)
}

/**
 * Options of the guard for a controller or route, over the module's (a route's over its
 * controller's): `optional`, `realm`, `onError`, `onFailure`, `verifier`. The checks of the route
 * inherit its `realm`, `onError` and `onFailure`.
 *
 * @example Another realm and a failure log for one controller.
 * ```ts
 * import { AuthOptions } from 'bearer-guard/nestjs'
 * @AuthOptions({ realm: 'orders', onFailure: (e) => logger.warn(e.reason) })
 * @Controller('orders') export class OrdersController {}
 * ```
 */
export function AuthOptions(options: NestRouteOptions): Decorator {
  // a verifier given as options is built (and validated) now, at start-up
  checkAuthOptions(options)
  const own: NestRouteOptions =
    options.verifier === undefined ? { ...options } : { ...options, verifier: toVerifier(options.verifier) }
  return (target: Target, key?: string | symbol, descriptor?: Descriptor) => {
    const at = holder(target, descriptor)
    const merged = { ...reflector.get<NestRouteOptions | undefined>(AUTH_OPTIONS, at), ...defined(own) }
    SetMetadata(AUTH_OPTIONS, merged)(target as Function, key as string, descriptor as Descriptor & {})
  }
}

/**
 * Optional authentication: a request without a token passes (`@Auth()` is `undefined`); a present
 * but bad token is still refused. `@AuthOptions({ optional: true })`.
 *
 * @example A feed that is personal when a token comes with the request.
 * ```ts
 * import { Auth, OptionalAuth, type AuthContext } from 'bearer-guard/nestjs'
 * @OptionalAuth() @Get('feed') feed(@Auth() auth?: AuthContext) { return this.feed.for(auth?.subject) }
 * ```
 */
export function OptionalAuth(options: Omit<NestRouteOptions, 'optional'> = {}): Decorator {
  return AuthOptions({ ...options, optional: true })
}

/**
 * 403 `insufficient_scope` unless the token has the role(s): all of them, or one with
 * `{ any: true }`; 401 without a token. On a controller, every route needs them (and its own).
 *
 * @example Admins or operators.
 * ```ts
 * import { Roles } from 'bearer-guard/nestjs'
 * @Roles('admin', 'ops', { any: true }) @Get('admin') admin() {}
 * ```
 */
export const Roles: NamesDecorator = namesDecorator('@Roles()', roleGuard)

/**
 * 403 with `scope="…"` unless the token has the scope(s): all of them, or one with `{ any: true }`;
 * 401 without a token.
 *
 * @example Creating an order needs `orders:write`.
 * ```ts
 * import { Scopes } from 'bearer-guard/nestjs'
 * @Scopes('orders:write') @Post('orders') create() {}
 * ```
 */
export const Scopes: NamesDecorator = namesDecorator('@Scopes()', scopeGuard)

/**
 * 403 `insufficient_scope` unless the claims match: `{ claim: value }` pairs (dot paths; an array
 * claim must contain the value) or a predicate of the claims (typed by `Register`); 401 without a token.
 *
 * @example Only tokens of the `acme` tenant.
 * ```ts
 * import { Claims } from 'bearer-guard/nestjs'
 * @Claims({ tenant: 'acme' }) @Get('acme') acme() {}
 * @Claims((claims) => claims.email_verified === true) @Get('me') me() {}
 * ```
 */
export function Claims(
  requirement: ClaimRequirement<RegisteredClaims>,
  options: Omit<NestGuardOptions, 'any'> = {},
): Decorator {
  return addCheck(claimsGuard(requirement), options)
}

/** Adds a check to the controller's or route's list (in source order: the top decorator first). */
function addCheck(check: Guard, options: NestGuardOptions): Decorator {
  const added: Requirement = { check, options }
  return (target: Target, key?: string | symbol, descriptor?: Descriptor) => {
    const at = holder(target, descriptor)
    const list = reflector.get<Requirement[] | undefined>(AUTH_REQUIREMENTS, at) ?? []
    // decorators apply bottom-up: putting each new one first keeps the order they are written in
    SetMetadata(AUTH_REQUIREMENTS, [added, ...list])(target as Function, key as string, descriptor as Descriptor & {})
  }
}

/** `@Roles`/`@Scopes`: the names as arguments or as one array, then the options. */
export interface NamesDecorator {
  (...names: [string, ...string[]]): Decorator
  (...args: [...names: string[], options: NestGuardOptions]): Decorator
  (names: readonly string[], options?: NestGuardOptions): Decorator
}

function namesDecorator(name: string, toGuard: (names: string[], options: NestGuardOptions) => Guard): NamesDecorator {
  return (...args: unknown[]): Decorator => {
    const last = args.at(-1)
    const hasOptions = typeof last === 'object' && last !== null && !Array.isArray(last)
    const names = (hasOptions ? args.slice(0, -1) : args).flat() as string[]
    if (names.length === 0) {
      throw new TypeError(`bearer-guard: ${name} needs at least one name (an empty list would allow everyone)`)
    }
    const options = hasOptions ? (last as NestGuardOptions) : {}
    return addCheck(toGuard(names, options), options)
  }
}

function defined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>
}

const authParam = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<PlatformRequest>().auth,
)

/**
 * The request's `AuthContext`, set by `AuthGuard`: `undefined` on a `@Public()` route, or with
 * optional auth and no token. Type the parameter `AuthContext` (its claims are typed by
 * `declare module 'bearer-guard' { interface Register { claims: … } }`) or `AuthContext<MyClaims>`.
 *
 * @example The subject and roles of the caller.
 * ```ts
 * import { Auth, type AuthContext } from 'bearer-guard/nestjs'
 * @Get('me') me(@Auth() auth: AuthContext) { return { sub: auth.subject, roles: auth.roles } }
 * ```
 */
export function Auth(): ParameterDecorator {
  return authParam()
}
