/**
 * The controller `BearerGuardModule` adds with `protectedResource`: the protected-resource metadata
 * (RFC 9728) of the application's resource, public (no token), on either platform.
 *
 * @module bearer-guard/nestjs
 */
import { All, Controller, Inject, NotFoundException, Optional, Req, Res, type Type } from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import {
  protectedResourceHandler,
  type ProtectedResourceHandler,
  type ProtectedResourceOptions,
} from '../../core/resource-metadata.js'
import type { Verifier } from '../../core/types.js'
import { Public } from './decorators.js'
import { BEARER_GUARD_OPTIONS, type BearerGuardConfig } from './guard.js'
import type { PlatformRequest } from './request.js'

/**
 * A controller serving the metadata at `/.well-known/oauth-protected-resource` + the resource's path
 * (all methods: GET and HEAD the document, OPTIONS a CORS preflight, 405 otherwise), `@Public()`.
 * The options are validated now; the module's verifier (its `resource`, its DPoP settings) fills
 * the members left out once the application starts.
 *
 * @param options The RFC 9728 members in camelCase, `verifier`, `cacheMaxAge`.
 * @param verifier The module's verifier when known now (`forRoot`); `forRootAsync` builds it at
 * bootstrap, so `options.resource` (or `options.verifier`) must name the resource.
 */
export function protectedResourceController(options: ProtectedResourceOptions, verifier?: Verifier<any>): Type {
  if (verifier === undefined && options.resource === undefined && options.verifier === undefined) {
    throw new TypeError(
      'bearer-guard: invalid option "protectedResource.resource": is required with forRootAsync() (the route is declared before the verifier is built)',
    )
  }
  // validated now, and the route's path
  const { path } = protectedResourceHandler({ verifier, ...options })

  class ProtectedResourceController {
    readonly #metadata: ProtectedResourceHandler

    constructor(
      private readonly host: HttpAdapterHost,
      config?: BearerGuardConfig,
    ) {
      this.#metadata = protectedResourceHandler({ verifier: config?.verifier, ...options })
    }

    serve(request: PlatformRequest, response: object): unknown {
      const answer = this.#metadata.answer(request.method ?? 'GET', request.originalUrl ?? request.url ?? '/')
      // a path Nest's router matched loosely (a trailing slash) is not the document's
      if (answer === undefined) throw new NotFoundException()
      const adapter = this.host.httpAdapter
      for (const [name, value] of Object.entries(answer.headers)) adapter.setHeader(response, name, value)
      return adapter.reply(response, answer.body, answer.status)
    }
  }

  const prototype = ProtectedResourceController.prototype
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'serve') as PropertyDescriptor
  All(path)(prototype, 'serve', descriptor)
  Public()(prototype, 'serve', descriptor)
  Req()(prototype, 'serve', 0)
  Res()(prototype, 'serve', 1)
  Controller()(ProtectedResourceController)
  // explicit tokens: bearer-guard is built without decorator metadata
  Inject(HttpAdapterHost)(ProtectedResourceController, undefined, 0)
  Inject(BEARER_GUARD_OPTIONS)(ProtectedResourceController, undefined, 1)
  Optional()(ProtectedResourceController, undefined, 1)
  return ProtectedResourceController
}
