/**
 * NestJS on both of its HTTP platforms, over real sockets. The table's chains as Nest routes:
 *
 * | path          | decorators                                                          |
 * | ------------- | ------------------------------------------------------------------- |
 * | /user         | (the guard only)                                                    |
 * | /admin        | @Roles('admin')                                                     |
 * | /scoped       | @Scopes('orders:read', 'orders:write')                              |
 * | /tenant       | @Claims({ tenant: 'acme' })                                         |
 * | /optional     | @OptionalAuth()                                                     |
 * | /realm        | @AuthOptions({ realm: 'orders' })                                   |
 * | /hooked       | @AuthOptions({ onError })                                           |
 * | /hooked-role  | @Roles('admin', { onError })                                        |
 * | /down         | @AuthOptions({ verifier: downVerifier })                            |
 * | /inherit      | @AuthOptions({ realm: 'orders', onFailure }) @Scopes('orders:write') |
 * | …             | (the same with @Roles('admin'); `/inherit-own` adds { realm: 'admin' }) |
 * | /metadata…    | @AuthOptions({ resourceMetadata }), with @Scopes or another verifier |
 *
 * The metadata is served by the module's `protectedResource` option (a public controller).
 *
 * `express`: `forRoot(verifier, { global: true })`, the guard as an `APP_GUARD`.
 * `fastify`: `forRootAsync()` with the verifier from a provider standing in for `ConfigService`,
 * and `@UseGuards(AuthGuard)` on the controller.
 */
import {
  Controller,
  Get,
  Injectable,
  Module,
  UseGuards,
  type ExecutionContext,
  type INestApplication,
  type Type,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AuthError } from 'bearer-guard'
import {
  Auth,
  AuthGuard,
  AuthOptions,
  BearerGuardModule,
  Claims,
  OptionalAuth,
  Roles,
  Scopes,
  type AuthContext,
} from 'bearer-guard/nestjs'
import { CUSTOM, METADATA_URL, PROTECTED_RESOURCE, type Fixture, type Harness } from '../conformance-cases.js'
import { client } from './listen.js'

export type Platform = 'express' | 'fastify'

/** The `onError` answer, written with the platform's own response object (as a user would). */
const sendCustom: Record<Platform, (error: AuthError, response: any) => void> = {
  express: (error, res) => res.status(CUSTOM.status).set(...CUSTOM.header).json(CUSTOM.body(error)),
  fastify: (error, reply) => reply.code(CUSTOM.status).header(...CUSTOM.header).send(CUSTOM.body(error)),
}

/** The table's routes as one controller (decorators need the fixture, so the class is made per app). */
export function conformanceController(
  { verifier: _verifier, downVerifier, foreignVerifier, nonceVerifier, resourceVerifier, ran, failed }: Fixture,
  platform: Platform,
) {
  const onError = (error: AuthError, context: ExecutionContext) => {
    sendCustom[platform](error, context.switchToHttp().getResponse())
  }
  const onFailure = (error: AuthError) => failed(error.code)
  const answer = (route: string, auth: AuthContext | undefined) => {
    ran(route)
    return { route, sub: auth?.subject ?? null }
  }

  @Controller()
  class ConformanceController {
    @Get('user') user(@Auth() auth: AuthContext) {
      return answer('user', auth)
    }
    @Get('admin') @Roles('admin') admin(@Auth() auth: AuthContext) {
      return answer('admin', auth)
    }
    @Get('scoped') @Scopes('orders:read', 'orders:write') scoped(@Auth() auth: AuthContext) {
      return answer('scoped', auth)
    }
    @Get('tenant') @Claims({ tenant: 'acme' }) tenant(@Auth() auth: AuthContext) {
      return answer('tenant', auth)
    }
    @Get('optional') @OptionalAuth() optional(@Auth() auth?: AuthContext) {
      return answer('optional', auth)
    }
    @Get('realm') @AuthOptions({ realm: 'orders' }) realm(@Auth() auth: AuthContext) {
      return answer('realm', auth)
    }
    @Get('hooked') @AuthOptions({ onError }) hooked(@Auth() auth: AuthContext) {
      return answer('hooked', auth)
    }
    @Get('hooked-role') @Roles('admin', { onError }) hookedRole(@Auth() auth: AuthContext) {
      return answer('hooked-role', auth)
    }
    @Get('down') @AuthOptions({ verifier: downVerifier }) down(@Auth() auth: AuthContext) {
      return answer('down', auth)
    }
    @Get('inherit')
    @AuthOptions({ realm: 'orders', onFailure })
    @Scopes('orders:write')
    inherit(@Auth() auth: AuthContext) {
      return answer('inherit', auth)
    }
    @Get('inherit-hooked')
    @AuthOptions({ onError, onFailure })
    @Roles('admin')
    inheritHooked(@Auth() auth: AuthContext) {
      return answer('inherit-hooked', auth)
    }
    @Get('inherit-own')
    @AuthOptions({ realm: 'orders', onFailure })
    @Roles('admin', { realm: 'admin' })
    inheritOwn(@Auth() auth: AuthContext) {
      return answer('inherit-own', auth)
    }
    @Get('optional-role')
    @OptionalAuth({ realm: 'orders' })
    @Roles('admin')
    optionalRole(@Auth() auth?: AuthContext) {
      return answer('optional-role', auth)
    }
    @Get('foreign-optional')
    @AuthOptions({ verifier: foreignVerifier, optional: true })
    foreignOptional(@Auth() auth?: AuthContext) {
      return answer('foreign-optional', auth)
    }
    @Get('dpop-nonce')
    @AuthOptions({ verifier: nonceVerifier })
    dpopNonce(@Auth() auth: AuthContext) {
      return answer('dpop-nonce', auth)
    }
    @Get('metadata') @AuthOptions({ resourceMetadata: METADATA_URL }) metadata(@Auth() auth: AuthContext) {
      return answer('metadata', auth)
    }
    @Get('metadata-scoped')
    @AuthOptions({ resourceMetadata: METADATA_URL })
    @Scopes('orders:write')
    metadataScoped(@Auth() auth: AuthContext) {
      return answer('metadata-scoped', auth)
    }
    @Get('metadata-resource')
    @AuthOptions({ verifier: resourceVerifier, resourceMetadata: true })
    metadataResource(@Auth() auth: AuthContext) {
      return answer('metadata-resource', auth)
    }
    @Get('metadata-request') @AuthOptions({ resourceMetadata: true }) metadataRequest(@Auth() auth: AuthContext) {
      return answer('metadata-request', auth)
    }
  }
  return ConformanceController
}

/** Stands in for `@nestjs/config`'s `ConfigService` (nestjs.test.ts uses the real one). */
@Injectable()
class Settings {
  constructor(readonly verifier: Fixture['verifier']) {}
}

/** A Nest application on `platform`, listening on 127.0.0.1:0 (`configure` runs before it listens). */
export async function listenNest(
  module: Type,
  platform: Platform,
  configure?: (app: INestApplication) => void,
) {
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()
  // abortOnError: false, so that a failing bootstrap rejects instead of exiting the process
  const app = await NestFactory.create(module, adapter, { logger: false, abortOnError: false })
  configure?.(app)
  await app.listen(0, '127.0.0.1')
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo
  const base = `http://127.0.0.1:${port}`
  return { ...client(base, () => app.close()), base }
}

export const nestExpressHarness: Harness = {
  name: 'nestjs express',
  transport: '@nestjs/platform-express, APP_GUARD (forRoot global), on 127.0.0.1:0',
  async start(fixture) {
    @Module({
      imports: [BearerGuardModule.forRoot(fixture.verifier, { global: true, protectedResource: PROTECTED_RESOURCE })],
      controllers: [conformanceController(fixture, 'express')],
    })
    class AppModule {}
    return listenNest(AppModule, 'express')
  },
}

export const nestFastifyHarness: Harness = {
  name: 'nestjs fastify',
  transport: '@nestjs/platform-fastify, @UseGuards(AuthGuard) (forRootAsync), on 127.0.0.1:0',
  async start(fixture) {
    @Module({ providers: [{ provide: Settings, useValue: new Settings(fixture.verifier) }], exports: [Settings] })
    class SettingsModule {}
    const controller = conformanceController(fixture, 'fastify')
    UseGuards(AuthGuard)(controller)
    @Module({
      imports: [
        BearerGuardModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({ verifier: settings.verifier }),
          protectedResource: PROTECTED_RESOURCE,
        }),
      ],
      controllers: [controller],
    })
    class AppModule {}
    return listenNest(AppModule, 'fastify')
  },
}
