/**
 * NestJS 11 and 12 (Express and Fastify platforms): a module, a guard and decorators. Subpath
 * export `bearer-guard/nestjs`.
 *
 * @module bearer-guard/nestjs
 */
export { BearerGuardModule, BEARER_GUARD_VERIFIER } from './nestjs/module.js'
export { AuthGuard, BEARER_GUARD_OPTIONS } from './nestjs/guard.js'
export {
  Auth,
  AuthOptions,
  Claims,
  OptionalAuth,
  Public,
  Roles,
  Scopes,
  AUTH_OPTIONS,
  AUTH_REQUIREMENTS,
  PUBLIC_ROUTE,
} from './nestjs/decorators.js'
export { AuthErrorException } from './nestjs/exception.js'
export { requestOf } from './nestjs/request.js'

export type {
  BearerGuardModuleOptions,
  BearerGuardModuleAsyncOptions,
  BearerGuardFactoryResult,
} from './nestjs/module.js'
export type { BearerGuardConfig } from './nestjs/guard.js'
export type { NamesDecorator, NestAuthOptions, NestGuardOptions, NestRouteOptions } from './nestjs/decorators.js'
export type { PlatformRequest } from './nestjs/request.js'
export type { AuthRequest } from '../core/request.js'
export type { AuthContext, RegisteredClaims } from '../core/types.js'
