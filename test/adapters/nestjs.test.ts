/**
 * bearer-guard/nestjs beyond the conformance table: the module (forRoot, forRootAsync with
 * @nestjs/config), @Public, the checks, the way failures go through Nest's exception layer, the
 * request shape, and the types. Both HTTP platforms, real sockets.
 */
import { request as httpRequest } from 'node:http'
import {
  Catch,
  Controller,
  Get,
  HttpException,
  Inject,
  Injectable,
  Module,
  Req,
  UseGuards,
  type ArgumentsHost,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type Type,
} from '@nestjs/common'
import { ConfigModule, ConfigService } from '@nestjs/config'
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core'
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import {
  isAuthError,
  type AuthContext as CoreAuthContext,
  type AuthError,
  type JWTPayload,
  type Verifier,
} from 'bearer-guard'
import {
  Auth,
  AuthErrorException,
  AuthGuard,
  AuthOptions,
  BEARER_GUARD_VERIFIER,
  BearerGuardModule,
  Claims,
  OptionalAuth,
  Public,
  Roles,
  Scopes,
  type AuthContext,
} from 'bearer-guard/nestjs'
import { requestOf, type PlatformRequest } from '../../src/adapters/nestjs/request.js'
import { listenNest, type Platform } from './harnesses/nest.js'
import type { App } from './conformance-cases.js'
import { adminToken, brokenVerifier, issuer, userToken, verifier } from './setup.js'

const platforms: Platform[] = ['express', 'fastify']
type NestApp = App & { base: string }
const apps: NestApp[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
})

async function start(
  module: Type,
  platform: Platform,
  configure?: Parameters<typeof listenNest>[2],
): Promise<NestApp> {
  const app = await listenNest(module, platform, configure)
  apps.push(app)
  return app
}

/** A module with the given controllers and `BearerGuardModule.forRoot(verifier, options)`. */
function appModule(controllers: Type[], options: Parameters<typeof BearerGuardModule.forRoot>[1] = {}) {
  @Module({ imports: [BearerGuardModule.forRoot(verifier, options)], controllers })
  class AppModule {}
  return AppModule
}

async function answer(res: Response) {
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    body: (await res.json()) as unknown,
  }
}

const missing = { error: 'missing_token', error_description: 'authentication required' }
const role = (realm = 'api') => ({
  status: 403,
  challenge: `Bearer realm="${realm}", error="insufficient_scope", error_description="insufficient role"`,
  body: { error: 'insufficient_scope', error_description: 'insufficient role' },
})

describe.each(platforms)('bearer-guard/nestjs on %s', (platform) => {
  describe('BearerGuardModule', () => {
    it('forRootAsync takes the verifier options from @nestjs/config ConfigService', async () => {
      const { issuer: iss, audience, keys } = issuer.verifierOptions('keys') as {
        issuer: string
        audience: string
        keys: unknown
      }
      @Controller() @UseGuards(AuthGuard)
      class MeController {
        @Get('me') me(@Auth() auth: AuthContext) {
          return { sub: auth.subject }
        }
      }
      @Module({
        imports: [
          ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ auth: { issuer: iss, audience, keys } })] }),
          BearerGuardModule.forRootAsync({
            imports: [ConfigModule],
            inject: [ConfigService],
            useFactory: (config: ConfigService) => config.getOrThrow('auth'),
          }),
        ],
        controllers: [MeController],
      })
      class AppModule {}
      const app = await start(AppModule, platform)
      expect(await answer(await app.fetch('/me', `Bearer ${userToken}`))).toEqual({
        status: 200,
        challenge: null,
        body: { sub: 'user-1' },
      })
      const other = await issuer.sign({ sub: 'user-1' }, { audience: 'https://other.test' })
      expect((await app.fetch('/me', `Bearer ${other}`)).status).toBe(401)
    })

    it('forRootAsync: route defaults from the factory win over those given beside it', async () => {
      @Controller() @UseGuards(AuthGuard)
      class MeController {
        @Get('me') me() {
          return {}
        }
      }
      @Module({
        imports: [
          BearerGuardModule.forRootAsync({
            useFactory: async () => ({ verifier, realm: 'from-factory' }),
            realm: 'static',
            global: true,
          }),
        ],
        controllers: [MeController],
      })
      class AppModule {}
      const app = await start(AppModule, platform)
      expect(await answer(await app.fetch('/me'))).toEqual({
        status: 401,
        challenge: 'Bearer realm="from-factory"',
        body: missing,
      })
    })

    it('forRootAsync: invalid verifier options from the factory fail the bootstrap with a TypeError', async () => {
      @Module({
        imports: [BearerGuardModule.forRootAsync({ useFactory: () => ({ issuer: 'https://a.test/' }) as never })],
      })
      class AppModule {}
      await expect(listenNest(AppModule, platform)).rejects.toThrow(/bearer-guard: invalid option "audience"/)
    })

    it('provides its verifier under BEARER_GUARD_VERIFIER', async () => {
      @Injectable()
      class Tokens {
        constructor(@Inject(BEARER_GUARD_VERIFIER) readonly verifier: Verifier) {}
      }
      @Controller()
      class TokensController {
        constructor(@Inject(Tokens) private readonly tokens: Tokens) {}
        @Get('same') same() {
          return { same: this.tokens.verifier === verifier }
        }
      }
      @Module({ imports: [BearerGuardModule.forRoot(verifier)], controllers: [TokensController], providers: [Tokens] })
      class AppModule {}
      const app = await start(AppModule, platform)
      expect(await (await app.fetch('/same')).json()).toEqual({ same: true })
    })

    it('global: true guards the controllers of feature modules too; @UseGuards works in a feature module', async () => {
      @Controller('a')
      class AController {
        @Get() a() {
          return { a: true }
        }
      }
      @Module({ controllers: [AController] })
      class FeatureA {}
      @Controller('b') @UseGuards(AuthGuard)
      class BController {
        @Get() b(@Auth() auth: AuthContext) {
          return { b: auth.subject }
        }
      }
      @Module({ controllers: [BController] })
      class FeatureB {}

      @Module({ imports: [BearerGuardModule.forRoot(verifier, { global: true }), FeatureA] })
      class GlobalApp {}
      const global = await start(GlobalApp, platform)
      expect((await global.fetch('/a')).status).toBe(401)
      expect((await global.fetch('/a', `Bearer ${userToken}`)).status).toBe(200)

      @Module({ imports: [BearerGuardModule.forRoot(verifier), FeatureA, FeatureB] })
      class PerControllerApp {}
      const perController = await start(PerControllerApp, platform)
      expect((await perController.fetch('/a')).status).toBe(200)
      expect((await perController.fetch('/b')).status).toBe(401)
      expect(await (await perController.fetch('/b', `Bearer ${userToken}`)).json()).toEqual({ b: 'user-1' })
    })

    it('module defaults (optional, realm, onFailure) apply to every route', async () => {
      const onFailure = vi.fn((_error: AuthError, _context: ExecutionContext) => {})
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('open') open(@Auth() auth?: AuthContext) {
          return { sub: auth?.subject ?? null }
        }
        @Get('admin') @Roles('admin') admin() {
          return {}
        }
      }
      const app = await start(appModule([C], { optional: true, realm: 'shop', onFailure }), platform)
      expect(await (await app.fetch('/open')).json()).toEqual({ sub: null })
      expect(await answer(await app.fetch('/admin', `Bearer ${userToken}`))).toEqual(role('shop'))
      expect(onFailure).toHaveBeenCalledTimes(1)
      const [error, context] = onFailure.mock.calls[0]!
      expect(isAuthError(error) && error.code).toBe('insufficient_scope')
      expect(context.getType()).toBe('http')
      expect(context.getHandler()).toBe(C.prototype.admin)
    })
  })

  describe('@Public()', () => {
    it('opens a route under the global guard: no verification, a bad token is ignored, @Auth() is undefined', async () => {
      const ran = vi.fn()
      @Controller()
      class C {
        @Public() @Get('health') health(@Auth() auth?: AuthContext) {
          ran(auth)
          return { ok: true }
        }
      }
      const app = await start(appModule([C], { global: true }), platform)
      expect((await app.fetch('/health')).status).toBe(200)
      expect((await app.fetch('/health', 'Bearer not.a.token')).status).toBe(200)
      expect(ran.mock.calls).toEqual([[undefined], [undefined]])
    })

    it('on a controller, opens its routes but not one with a check of its own', async () => {
      @Public() @Controller()
      class C {
        @Get('open') open() {
          return {}
        }
        @Get('admin') @Roles('admin') admin() {
          return {}
        }
      }
      const app = await start(appModule([C], { global: true }), platform)
      expect((await app.fetch('/open')).status).toBe(200)
      expect(await answer(await app.fetch('/admin'))).toEqual({ status: 401, challenge: 'Bearer realm="api"', body: missing })
      expect(await answer(await app.fetch('/admin', `Bearer ${userToken}`))).toEqual(role())
      expect((await app.fetch('/admin', `Bearer ${adminToken}`)).status).toBe(200)
    })

    it('on a route, opens it although its controller has checks', async () => {
      @Roles('admin') @Controller()
      class C {
        @Public() @Get('open') open() {
          return {}
        }
        @Get('closed') closed() {
          return {}
        }
      }
      const app = await start(appModule([C], { global: true }), platform)
      expect((await app.fetch('/open')).status).toBe(200)
      expect((await app.fetch('/closed', `Bearer ${userToken}`)).status).toBe(403)
    })

    it('beside a check on the same controller does not open its routes (the check wins)', async () => {
      @Public() @Roles('admin') @Controller()
      class C {
        @Get('x') x() {
          return {}
        }
      }
      const app = await start(appModule([C], { global: true }), platform)
      expect((await app.fetch('/x')).status).toBe(401)
      expect((await app.fetch('/x', `Bearer ${adminToken}`)).status).toBe(200)
    })

    it('beside a check on the same route does not open it (the check wins)', async () => {
      @Controller()
      class C {
        @Public() @Roles('admin') @Get('both') both() {
          return {}
        }
      }
      const app = await start(appModule([C], { global: true }), platform)
      expect((await app.fetch('/both')).status).toBe(401)
      expect((await app.fetch('/both', `Bearer ${userToken}`)).status).toBe(403)
    })
  })

  describe('checks', () => {
    it('@Roles and @Scopes: all of them by default, one with { any: true }', async () => {
      const token = await issuer.sign({ sub: 'u', roles: ['ops'], scope: 'a:read' })
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('all-roles') @Roles('admin', 'ops') allRoles() {
          return {}
        }
        @Get('any-role') @Roles('admin', 'ops', { any: true }) anyRole() {
          return {}
        }
        @Get('any-role-list') @Roles(['admin', 'ops'], { any: true }) anyRoleList() {
          return {}
        }
        @Get('all-scopes') @Scopes(['a:read', 'a:write']) allScopes() {
          return {}
        }
        @Get('any-scope') @Scopes('a:read', 'a:write', { any: true }) anyScope() {
          return {}
        }
      }
      const app = await start(appModule([C]), platform)
      const status = async (path: string) => (await app.fetch(path, `Bearer ${token}`)).status
      expect(await status('/all-roles')).toBe(403)
      expect(await status('/any-role')).toBe(200)
      expect(await status('/any-role-list')).toBe(200)
      expect((await answer(await app.fetch('/all-scopes', `Bearer ${token}`))).challenge).toBe(
        'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="a:read a:write"',
      )
      expect(await status('/any-scope')).toBe(200)
    })

    it('@Claims with a predicate of the claims and the auth context', async () => {
      const seen = vi.fn()
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('acme')
        @Claims((claims, auth) => {
          seen(auth.subject)
          return claims.tenant === 'acme'
        })
        acme() {
          return {}
        }
      }
      const app = await start(appModule([C]), platform)
      expect((await app.fetch('/acme', `Bearer ${userToken}`)).status).toBe(200)
      expect(await answer(await app.fetch('/acme', `Bearer ${adminToken}`))).toEqual({
        status: 403,
        challenge: 'Bearer realm="api", error="insufficient_scope", error_description="insufficient claims"',
        body: { error: 'insufficient_scope', error_description: 'insufficient claims' },
      })
      expect(seen.mock.calls).toEqual([['user-1'], ['admin-1']])
    })

    it('checks of the controller and of the route all apply, in the order they are written', async () => {
      const token = await issuer.sign({ sub: 'u', roles: ['admin'], scope: 'x' })
      @Roles('admin') @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('both') @Scopes('orders:write') both() {
          return {}
        }
        @Get('order') @Roles('ops') @Scopes('orders:write') order() {
          return {}
        }
      }
      const app = await start(appModule([C]), platform)
      // the controller's role passes, the route's scope does not
      expect((await answer(await app.fetch('/both', `Bearer ${token}`))).body).toEqual({
        error: 'insufficient_scope',
        error_description: 'insufficient scope',
      })
      // the controller's role fails first for a token without it
      expect(await answer(await app.fetch('/both', `Bearer ${userToken}`))).toEqual(role())
      // @Roles('ops') is written above @Scopes: it answers first
      expect(await answer(await app.fetch('/order', `Bearer ${token}`))).toEqual(role())
    })

    it('a controller inherits the checks and options of the controller it extends', async () => {
      @Roles('admin') @AuthOptions({ realm: 'base' })
      class Base {
        @Get('x') x() {
          return {}
        }
      }
      @Controller() @UseGuards(AuthGuard)
      class Derived extends Base {}
      const app = await start(appModule([Derived]), platform)
      expect(await answer(await app.fetch('/x', `Bearer ${userToken}`))).toEqual(role('base'))
      expect((await app.fetch('/x', `Bearer ${adminToken}`)).status).toBe(200)
    })

    it('refuses an empty list or an empty claim requirement when the decorator runs', () => {
      expect(() => Roles([])).toThrow(/@Roles\(\) needs at least one name/)
      expect(() => Scopes([], { any: true })).toThrow(/@Scopes\(\) needs at least one name/)
      expect(() => Roles('')).toThrow(TypeError)
      expect(() => Claims({})).toThrow(TypeError)
    })
  })

  describe("failures go through Nest's exception layer", () => {
    it('an exception filter of yours receives an AuthErrorException and shapes the answer; the challenge stays', async () => {
      const seen: AuthErrorException[] = []
      @Catch(AuthErrorException)
      class EnvelopeFilter implements ExceptionFilter {
        constructor(private readonly host: HttpAdapterHost) {}
        catch(exception: AuthErrorException, args: ArgumentsHost) {
          seen.push(exception)
          const { httpAdapter } = this.host
          httpAdapter.reply(args.switchToHttp().getResponse(), { ok: false, code: exception.cause.code }, exception.getStatus())
        }
      }
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('me') me() {
          return {}
        }
      }
      const app = await start(appModule([C]), platform, (nest) =>
        nest.useGlobalFilters(new EnvelopeFilter(nest.get(HttpAdapterHost))),
      )
      const expired = await issuer.expired({ sub: 'user-1' })
      expect(await answer(await app.fetch('/me', `Bearer ${expired}`))).toEqual({
        status: 401,
        challenge: 'Bearer realm="api", error="invalid_token", error_description="token expired"',
        body: { ok: false, code: 'invalid_token' },
      })
      const [exception] = seen
      expect(exception).toBeInstanceOf(HttpException)
      expect(exception!.getStatus()).toBe(401)
      expect(exception!.getResponse()).toEqual({ error: 'invalid_token', error_description: 'token expired' })
      // client-safe text only; the detail is in cause.reason
      expect(exception!.message).toBe('token expired')
      expect(isAuthError(exception!.cause) && exception!.cause.reason).toMatch(/exp/)
      expect(exception!.headers).toMatchObject({ 'cache-control': 'no-store', 'www-authenticate': expect.any(String) })
    })

    it('a filter that extends BaseExceptionFilter sends exactly the default answer', async () => {
      const caught = vi.fn()
      @Catch()
      class LoggingFilter extends BaseExceptionFilter {
        override catch(exception: unknown, host: ArgumentsHost) {
          caught(exception instanceof AuthErrorException)
          super.catch(exception, host)
        }
      }
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('admin') @Roles('admin') admin() {
          return {}
        }
      }
      const app = await start(appModule([C]), platform, (nest) =>
        nest.useGlobalFilters(new LoggingFilter(nest.getHttpAdapter())),
      )
      const res = await app.fetch('/admin', `Bearer ${userToken}`)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(await answer(res)).toEqual(role())
      expect(caught).toHaveBeenCalledWith(true)
    })

    it('onError may return an exception, which is thrown instead (no challenge of ours)', async () => {
      const onError = (error: AuthError) => new HttpException({ denied: error.code }, 451)
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('me') @AuthOptions({ onError }) me() {
          return {}
        }
        @Get('admin') @Roles('admin', { onError }) admin() {
          return {}
        }
      }
      const app = await start(appModule([C]), platform)
      expect(await answer(await app.fetch('/me'))).toEqual({ status: 451, challenge: null, body: { denied: 'missing_token' } })
      expect(await answer(await app.fetch('/admin', `Bearer ${userToken}`))).toEqual({
        status: 451,
        challenge: null,
        body: { denied: 'insufficient_scope' },
      })
    })

    it('onError returning nothing leaves the default answer', async () => {
      const onError = vi.fn(() => undefined)
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('me') me() {
          return {}
        }
      }
      const app = await start(appModule([C], { onError }), platform)
      expect(await answer(await app.fetch('/me'))).toEqual({ status: 401, challenge: 'Bearer realm="api"', body: missing })
      expect(onError).toHaveBeenCalledTimes(1)
    })

    it('a verifier failing with something else than an AuthError is a 500, never a pass or a 401', async () => {
      const ran = vi.fn()
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('me') me() {
          ran()
          return {}
        }
      }
      @Module({ imports: [BearerGuardModule.forRoot(brokenVerifier())], controllers: [C] })
      class AppModule {}
      const app = await start(AppModule, platform)
      const res = await app.fetch('/me', `Bearer ${userToken}`)
      expect(res.status).toBe(500)
      expect(res.headers.get('www-authenticate')).toBeNull()
      expect(ran).not.toHaveBeenCalled()
    })

    it('without the module, a route with no verifier fails closed (500); @AuthOptions({ verifier }) is enough', async () => {
      const ran = vi.fn()
      @Controller() @UseGuards(AuthGuard)
      class C {
        @Get('none') none() {
          ran()
          return {}
        }
        @Get('own') @AuthOptions({ verifier }) own(@Auth() auth: AuthContext) {
          return { sub: auth.subject }
        }
      }
      @Module({ controllers: [C] })
      class AppModule {}
      const app = await start(AppModule, platform)
      expect((await app.fetch('/none', `Bearer ${userToken}`)).status).toBe(500)
      expect(ran).not.toHaveBeenCalled()
      expect(await (await app.fetch('/own', `Bearer ${userToken}`)).json()).toEqual({ sub: 'user-1' })
      expect((await app.fetch('/own')).status).toBe(401)
    })
  })

  it('hands the core the request as §1 of the second wave takes it: method, absolute proxy-aware URL, headers', async () => {
    @Controller()
    class C {
      @Get('shape') shape(@Req() req: PlatformRequest) {
        const { method, url, headers } = requestOf(req)
        return { method, url, headers }
      }
    }
    const trusting = (nest: INestApplication) => {
      const instance = nest.getHttpAdapter().getInstance()
      if (platform === 'express') instance.set('trust proxy', true)
    }
    const app = await start(appModule([C]), platform, trusting)
    const url = new URL('/shape?x=1', app.base)
    const shape = await rawJson(url, [
      ['authorization', 'Bearer a'],
      ['authorization', 'Bearer b'],
      ['dpop', 'proof'],
      ['x-forwarded-proto', 'https'],
      ['x-forwarded-host', 'api.example.com'],
    ])
    expect(shape).toEqual({
      method: 'GET',
      url: platform === 'express' ? 'https://api.example.com/shape?x=1' : `http://${url.host}/shape?x=1`,
      headers: { authorization: ['Bearer a', 'Bearer b'], dpop: 'proof' },
    })
  })
})

describe('bearer-guard/nestjs on fastify with trustProxy', () => {
  it('builds the absolute URL from the forwarded protocol and host', async () => {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify')
    const { NestFactory } = await import('@nestjs/core')
    @Controller()
    class C {
      @Get('shape') shape(@Req() req: PlatformRequest) {
        return { url: requestOf(req).url }
      }
    }
    @Module({ controllers: [C] })
    class AppModule {}
    const nest = await NestFactory.create(AppModule, new FastifyAdapter({ trustProxy: true }), { logger: false })
    await nest.listen(0, '127.0.0.1')
    try {
      const shape = await rawJson(new URL('/shape', await nest.getUrl()), [
        ['x-forwarded-proto', 'https'],
        ['x-forwarded-host', 'api.example.com'],
      ])
      expect(shape).toEqual({ url: 'https://api.example.com/shape' })
    } finally {
      await nest.close()
    }
  })
})

describe('guarding other kinds of handlers', () => {
  const contextOf = (type: string, handler: Function, cls: Function) =>
    ({
      getType: () => type,
      getClass: () => cls,
      getHandler: () => handler,
      switchToHttp: () => {
        throw new Error('not an HTTP context')
      },
    }) as unknown as ExecutionContext

  it('fails closed on a non-HTTP handler that is not @Public()', async () => {
    class Gateway {
      handle() {}
      @Public() open() {}
    }
    const guard = new AuthGuard({} as HttpAdapterHost, { verifier })
    await expect(guard.canActivate(contextOf('ws', Gateway.prototype.handle, Gateway))).rejects.toThrow(
      /guards HTTP routes only, not this ws handler/,
    )
    await expect(guard.canActivate(contextOf('rpc', Gateway.prototype.open, Gateway))).resolves.toBe(true)
  })
})

describe('types', () => {
  it('gives @Auth() parameters and @Claims predicates the core AuthContext and claims', () => {
    expectTypeOf<AuthContext>().toEqualTypeOf<CoreAuthContext>()
    expectTypeOf<AuthContext['claims']>().toEqualTypeOf<JWTPayload>()
    expectTypeOf(Claims).parameter(0).extract<Function>().parameter(0).toEqualTypeOf<JWTPayload>()
    expectTypeOf(Roles).toBeCallableWith('admin')
    expectTypeOf(Roles).toBeCallableWith('admin', 'ops', { any: true })
    expectTypeOf(Roles).toBeCallableWith(['admin', 'ops'], { any: true, realm: 'x' })
    expectTypeOf(Scopes).toBeCallableWith('a', 'b')
    expectTypeOf(Auth).returns.toEqualTypeOf<ParameterDecorator>()
    // @ts-expect-error a check needs at least one name
    expectTypeOf(Roles).toBeCallableWith()
    // @ts-expect-error { any } makes no sense for a claim requirement
    expectTypeOf(Claims).toBeCallableWith({ tenant: 'acme' }, { any: true })
  })

  it('declares OptionalAuth without optional (it is the point of the decorator)', () => {
    // @ts-expect-error optional is set by OptionalAuth itself
    expectTypeOf(OptionalAuth).toBeCallableWith({ optional: false })
    expectTypeOf(OptionalAuth).toBeCallableWith({ realm: 'x' })
  })
})

/** A GET with raw header lines (repeated names stay separate lines), answering JSON. */
function rawJson(url: URL, headers: [string, string][]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', agent: false })
    for (const [name, value] of headers) req.appendHeader(name, value)
    req
      .on('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString()))
          } catch (error) {
            reject(error)
          }
        })
      })
      .on('error', reject)
      .end()
  })
}
