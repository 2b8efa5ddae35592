/**
 * `AuthGuard`: verification and the route's checks, in one Nest guard.
 *
 * @module bearer-guard/nestjs
 */
import { Inject, Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { admitRequest, guardFailureOptions, refuse, runGuard, addSuccessHeaders, type Framework } from '../../core/adapter.js'
import type { Verifier } from '../../core/types.js'
import {
  AUTH_OPTIONS,
  AUTH_REQUIREMENTS,
  PUBLIC_ROUTE,
  reflector,
  type NestAuthOptions,
  type NestRouteOptions,
  type Requirement,
} from './decorators.js'
import { AuthErrorException } from './exception.js'
import { requestOf, type PlatformRequest } from './request.js'

/** Injection token of the module's resolved options (`BearerGuardConfig`). */
export const BEARER_GUARD_OPTIONS: unique symbol = Symbol('bearer-guard/nestjs options')

/** What `BearerGuardModule.forRoot()`/`forRootAsync()` resolve to: the verifier and the defaults of every route. */
export interface BearerGuardConfig extends NestAuthOptions {
  verifier: Verifier<any>
}

/** What the guard does on one route, worked out once from the metadata. */
interface Plan {
  public: boolean
  verifier: Verifier<any> | undefined
  options: NestRouteOptions
  requirements: Requirement[]
}

/**
 * Verifies the bearer token (and the route's `@Roles`/`@Scopes`/`@Claims`), sets the request's
 * `auth` (read it with `@Auth()`), and refuses with an `AuthErrorException` carrying the RFC 6750
 * answer every bearer-guard adapter gives. Needs `BearerGuardModule.forRoot()` (or
 * `forRootAsync()`), unless every route it guards names a verifier with `@AuthOptions()`.
 *
 * Bind it per controller or route with `@UseGuards(AuthGuard)`, or to every route with
 * `forRoot(…, { global: true })` (an `APP_GUARD`) and `@Public()` for the open ones. HTTP only:
 * on a GraphQL, WebSocket or microservice handler that is not `@Public()` it throws (fails closed).
 *
 * @example Protect a controller; admins only on one route.
 * ```ts
 * import { Controller, Get, UseGuards } from '@nestjs/common'
 * import { Auth, AuthGuard, Roles, type AuthContext } from 'bearer-guard/nestjs'
 * @Controller() @UseGuards(AuthGuard)
 * export class UsersController {
 *   @Get('users/me') me(@Auth() auth: AuthContext) { return { sub: auth.subject } }
 *   @Roles('admin') @Get('admin/data') data() { return [1, 2, 3] }
 * }
 * ```
 */
export class AuthGuard implements CanActivate {
  readonly #plans = new WeakMap<Function, WeakMap<Function, Plan>>()

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config?: BearerGuardConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const plan = this.#plan(context)
    if (plan.public) return true
    if (context.getType() !== 'http') {
      throw new TypeError(
        `bearer-guard: AuthGuard guards HTTP routes only, not this ${context.getType()} handler (mark it @Public() or bind the guard to HTTP controllers)`,
      )
    }
    if (!plan.verifier) {
      throw new TypeError(
        'bearer-guard: AuthGuard has no verifier: import BearerGuardModule.forRoot() (or forRootAsync()) in the root module, or name one with @AuthOptions({ verifier })',
      )
    }
    const request = context.switchToHttp().getRequest<PlatformRequest>()
    let auth
    try {
      auth = await admitRequest(plan.verifier, requestOf(request), plan.options, request)
    } catch (error) {
      return refuse(this.#nest, error, guardFailureOptions(request, plan.options), context)
    }
    request.auth = auth
    addSuccessHeaders(auth, context, this.#getHeader, this.#setHeader)
    for (const { check, options } of plan.requirements) {
      const refused = runGuard(this.#nest, check, options, request, auth, context)
      if (refused) return refused
    }
    return true
  }

  /** A header the response already has, on either platform (Express `res.get`, Fastify `reply.getHeader`). */
  readonly #getHeader = (context: ExecutionContext, name: string): unknown => {
    const reply = context.switchToHttp().getResponse<{ get?: (n: string) => unknown; getHeader?: (n: string) => unknown }>()
    return typeof reply.getHeader === 'function' ? reply.getHeader(name) : reply.get?.(name)
  }

  /** Sets a response header through the platform's adapter. */
  readonly #setHeader = (context: ExecutionContext, name: string, value: string): void => {
    this.adapterHost.httpAdapter.setHeader(context.switchToHttp().getResponse<object>(), name, value)
  }

  #plan(context: ExecutionContext): Plan {
    const type = context.getClass()
    const handler = context.getHandler()
    let plans = this.#plans.get(type)
    if (!plans) this.#plans.set(type, (plans = new WeakMap()))
    let plan = plans.get(handler)
    if (!plan) plans.set(handler, (plan = this.#makePlan(type, handler)))
    return plan
  }

  #makePlan(type: Function, handler: Function): Plan {
    const own = reflector.get<Requirement[] | undefined>(AUTH_REQUIREMENTS, handler) ?? []
    const inherited = reflector.get<Requirement[] | undefined>(AUTH_REQUIREMENTS, type) ?? []
    // @Public() on the route opens it unless the route has checks of its own; on the controller,
    // unless the route or the controller has any
    const open = reflector.get<boolean | undefined>(PUBLIC_ROUTE, handler)
      ? own.length === 0
      : !!reflector.get<boolean | undefined>(PUBLIC_ROUTE, type) && own.length + inherited.length === 0
    const { verifier: moduleVerifier, ...defaults } = this.config ?? {}
    const options: NestRouteOptions = {
      ...defaults,
      ...reflector.get<NestRouteOptions | undefined>(AUTH_OPTIONS, type),
      ...reflector.get<NestRouteOptions | undefined>(AUTH_OPTIONS, handler),
    }
    return {
      public: open,
      verifier: (options.verifier as Verifier<any> | undefined) ?? moduleVerifier,
      options,
      requirements: [...inherited, ...own],
    }
  }

  /**
   * A refusal ends the request by throwing (Nest's only way): `onError`'s `Error`; else an
   * `AuthErrorException`, after setting the default answer's headers unless `onError` sent one.
   */
  readonly #nest: Framework<[context: ExecutionContext], never> = {
    answered: (result, _before, context) =>
      result instanceof Error || this.adapterHost.httpAdapter.isHeadersSent(context.switchToHttp().getResponse()),
    refuse: ({ answered, result, response, error }, context) => {
      if (answered && result instanceof Error) throw result
      if (!answered) {
        const adapter = this.adapterHost.httpAdapter
        const reply = context.switchToHttp().getResponse<object>()
        // the body's type is set by whoever sends the body (Nest's filter, or one of yours)
        for (const [name, value] of Object.entries(response.headers)) {
          if (name !== 'content-type') adapter.setHeader(reply, name, value)
        }
      }
      throw new AuthErrorException(error, response)
    },
  }
}

Injectable()(AuthGuard)
// explicit tokens: bearer-guard is built without decorator metadata
Inject(HttpAdapterHost)(AuthGuard, undefined, 0)
Inject(BEARER_GUARD_OPTIONS)(AuthGuard, undefined, 1)
Optional()(AuthGuard, undefined, 1)
