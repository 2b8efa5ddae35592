/**
 * `BearerGuardModule`: the verifier and the defaults of `AuthGuard`, for the whole application.
 *
 * @module bearer-guard/nestjs
 */
import { Module, type DynamicModule, type ModuleMetadata, type Provider } from '@nestjs/common'
import { APP_GUARD } from '@nestjs/core'
import { checkAuthOptions, toVerifier } from '../../core/adapter.js'
import { isVerifier } from '../../core/verifier.js'
import type { ProtectedResourceOptions } from '../../core/resource-metadata.js'
import type { Verifier, VerifierOptions } from '../../core/types.js'
import type { NestAuthOptions } from './decorators.js'
import { AuthGuard, BEARER_GUARD_OPTIONS, type BearerGuardConfig } from './guard.js'
import { protectedResourceController } from './protected-resource.js'

/** Injection token of the module's `Verifier` (e.g. to verify tokens of a WebSocket handshake yourself). */
export const BEARER_GUARD_VERIFIER: unique symbol = Symbol('bearer-guard/nestjs verifier')

/** Options of `BearerGuardModule.forRoot()`: the defaults of every route, and `global`. */
export interface BearerGuardModuleOptions extends NestAuthOptions {
  /**
   * Guard every route of the application (`AuthGuard` as an `APP_GUARD`); open routes with
   * `@Public()`. Default: `false` (bind `AuthGuard` with `@UseGuards`). The module itself is always
   * a global Nest module: import it once, in the root module.
   */
  global?: boolean
  /**
   * Serve the protected-resource metadata (RFC 9728) of the application's resource: a public
   * controller at `/.well-known/oauth-protected-resource` + the resource's path. The module's
   * verifier fills `resource` and the DPoP members left out (with `forRootAsync()`, give `resource`:
   * the route is declared before the verifier is built). Default: none.
   */
  protectedResource?: ProtectedResourceOptions
}

/** What the factory of `forRootAsync()` returns: a verifier (or its options), or that and the route defaults. */
export type BearerGuardFactoryResult =
  | Verifier<any>
  | VerifierOptions
  | ({ verifier: Verifier<any> | VerifierOptions } & NestAuthOptions)

/** Options of `BearerGuardModule.forRootAsync()`. */
export interface BearerGuardModuleAsyncOptions extends BearerGuardModuleOptions {
  /** Modules whose providers the factory injects (e.g. `ConfigModule`). */
  imports?: ModuleMetadata['imports']
  /** Providers passed to `useFactory`, in order (e.g. `[ConfigService]`). */
  inject?: NonNullable<Extract<Provider, { useFactory: unknown }>['inject']>
  /** Builds the verifier options (or a verifier, or `{ verifier, …route defaults }`) at bootstrap. */
  useFactory: (...args: any[]) => BearerGuardFactoryResult | Promise<BearerGuardFactoryResult>
}

/**
 * The Nest module of bearer-guard: one verifier (one JWKS cache) for the application, the defaults
 * of `AuthGuard` (`optional`, `realm`, `onError`, `onFailure`) and, with `global: true`, the guard
 * on every route.
 *
 * @example Every route needs a valid token, except those marked `@Public()`.
 * ```ts
 * import { Module } from '@nestjs/common'
 * import { BearerGuardModule } from 'bearer-guard/nestjs'
 * @Module({
 *   imports: [
 *     BearerGuardModule.forRoot({ issuer: 'https://auth.example.com/', audience: 'https://api.example.com' }, { global: true }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
export class BearerGuardModule {
  /**
   * The module with a verifier, or verifier options (validated now: a bad option throws a
   * `TypeError` before the application starts).
   *
   * @param verifier A `Verifier` (share one per authorization server), or verifier options.
   * @param options `global`, and the route defaults `optional`, `realm`, `onError`, `onFailure`.
   */
  static forRoot(verifier: Verifier<any> | VerifierOptions, options: BearerGuardModuleOptions = {}): DynamicModule {
    const { global, protectedResource, ...defaults } = options
    const config = toConfig(verifier, defaults)
    const controllers = protectedResource ? [protectedResourceController(protectedResource, config.verifier)] : []
    return bearerGuardModule([{ provide: BEARER_GUARD_OPTIONS, useValue: config }], global, [], controllers)
  }

  /**
   * The module with options built at bootstrap, from providers such as Nest's `ConfigService`.
   * Route defaults may be given here and in the factory's result (which wins).
   *
   * @example Issuer and audience from the configuration.
   * ```ts
   * import { ConfigModule, ConfigService } from '@nestjs/config'
   * import { BearerGuardModule } from 'bearer-guard/nestjs'
   * BearerGuardModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({
   *     issuer: config.getOrThrow<string>('AUTH_ISSUER'),
   *     audience: config.getOrThrow<string>('AUTH_AUDIENCE'),
   *   }),
   *   global: true,
   * })
   * ```
   */
  static forRootAsync(options: BearerGuardModuleAsyncOptions): DynamicModule {
    const { imports = [], inject = [], useFactory, global, protectedResource, ...defaults } = options
    if (typeof useFactory !== 'function') {
      throw new TypeError('bearer-guard: BearerGuardModule.forRootAsync() needs a useFactory function')
    }
    const provider: Provider = {
      provide: BEARER_GUARD_OPTIONS,
      inject,
      useFactory: async (...args: unknown[]) => {
        const result = await useFactory(...args)
        if (isVerifier(result) || typeof result !== 'object' || result === null || !('verifier' in result)) {
          return toConfig(result as Verifier<any> | VerifierOptions, defaults)
        }
        const { verifier, ...own } = result
        return toConfig(verifier, { ...defaults, ...own })
      },
    }
    const controllers = protectedResource ? [protectedResourceController(protectedResource)] : []
    return bearerGuardModule([provider], global, imports, controllers)
  }
}
Module({})(BearerGuardModule)

function toConfig(verifier: Verifier<any> | VerifierOptions, defaults: NestAuthOptions): BearerGuardConfig {
  checkAuthOptions(defaults)
  return { ...defaults, verifier: toVerifier(verifier) }
}

function bearerGuardModule(
  providers: Provider[],
  guardEveryRoute = false,
  imports: ModuleMetadata['imports'] = [],
  controllers: NonNullable<ModuleMetadata['controllers']> = [],
): DynamicModule {
  return {
    module: BearerGuardModule,
    controllers,
    // AuthGuard is instantiated in the module of each controller that uses it: its options must be visible there
    global: true,
    imports,
    providers: [
      ...providers,
      { provide: BEARER_GUARD_VERIFIER, inject: [BEARER_GUARD_OPTIONS], useFactory: (config: BearerGuardConfig) => config.verifier },
      AuthGuard,
      ...(guardEveryRoute ? [{ provide: APP_GUARD, useExisting: AuthGuard }] : []),
    ],
    exports: [BEARER_GUARD_OPTIONS, BEARER_GUARD_VERIFIER, AuthGuard],
  }
}
