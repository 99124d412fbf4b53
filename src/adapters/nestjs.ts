/**
 * `@infram/trust-proxy/nestjs`: a module that applies the policy to every route, and the
 * `@ClientIp()` / `@ClientInfo()` parameter decorators, on NestJS's Express and Fastify
 * platforms alike.
 *
 * ```ts
 * @Module({ imports: [TrustProxyModule.forRoot(parseTrustProxy(process.env.TRUST_PROXY))], controllers: [AppController] })
 * class AppModule {}
 * // in a controller:
 * @Get() whoami(@ClientIp() ip: string | undefined) { return ip }
 * ```
 *
 * The module's middleware resolves the client once per request from the raw Node request (the
 * socket peer and the headers: the same on both platforms) and keeps the result on it; the
 * decorators read it back. Nest's own `req.ip` on the Express platform still follows Express's
 * `trust proxy` setting; give it the same policy (`app.set('trust proxy', policy.trust)`) or
 * `new FastifyAdapter({ trustProxy: policy.trust })` on Fastify if other code reads it.
 *
 * This entry point loads `@nestjs/common` (for `createParamDecorator`), the one framework it is
 * for, and no platform package.
 */
import { createParamDecorator } from '@nestjs/common'
import { type ClientInfo as Info, type ResolveOptions, type TrustPolicy } from '../index.js'
import { checkSetup } from './policy-check.js'
import { type NodeRequestLike, resolveRequest } from './node.js'

export type { ResolveOptions, TrustPolicy }
export type { Info as ClientInfoResult }

/** Where the result is kept on the raw Node request. */
const KEY = Symbol.for('@infram/trust-proxy.clientInfo')

type RawRequest = NodeRequestLike & { [KEY]?: Info }

/** The request Nest hands to a handler: Express's (itself the raw request) or Fastify's (`.raw`). */
type PlatformRequest = RawRequest & { raw?: RawRequest }

/** Nest's `ExecutionContext`, as far as the decorators use it. */
interface HttpContextLike {
  switchToHttp(): { getRequest(): PlatformRequest }
}

/** Nest's `MiddlewareConsumer`, as far as the module uses it. */
interface MiddlewareConsumerLike {
  apply(...middleware: ((req: PlatformRequest, res: unknown, next: () => void) => void)[]): {
    forRoutes(...routes: unknown[]): unknown
  }
}

/** A Nest dynamic module (Nest's `DynamicModule` satisfies it, and it satisfies Nest's). */
export interface TrustProxyDynamicModule {
  module: new () => { configure(consumer: MiddlewareConsumerLike): void }
  global: boolean
  providers: { provide: symbol; useValue: unknown }[]
  exports: symbol[]
}

/** The injection token of the policy the module was given (`@Inject(TRUST_PROXY_POLICY)`). */
export const TRUST_PROXY_POLICY = Symbol.for('@infram/trust-proxy.policy')

function infoOf(ctx: HttpContextLike): Info {
  const req = ctx.switchToHttp().getRequest()
  const info = (req.raw ?? req)[KEY]
  if (info === undefined) {
    // A programming error, the same on every request: the module is not imported (or a route
    // is outside its middleware). Answering "unknown" would hide it.
    throw new Error('@ClientIp()/@ClientInfo(): import TrustProxyModule.forRoot(policy) in the application module')
  }
  return info
}

/** The client address of this request, canonical; undefined when there is none. */
export const ClientIp: () => ParameterDecorator = createParamDecorator((_data: unknown, ctx: HttpContextLike) => infoOf(ctx).ip)

/** The full `resolveClient` result of this request (peer, chain, protocol, host, anomalies). */
export const ClientInfo: () => ParameterDecorator = createParamDecorator((_data: unknown, ctx: HttpContextLike) => infoOf(ctx))

// eslint-disable-next-line @typescript-eslint/no-extraneous-class
export class TrustProxyModule {
  /**
   * A global module whose middleware resolves every request's client with `policy`. The policy
   * and options are checked now, so a bad one stops the application at startup.
   */
  static forRoot(policy: TrustPolicy, options?: ResolveOptions): TrustProxyDynamicModule {
    checkSetup(policy, options, 'TrustProxyModule.forRoot')
    function trustProxyClientIp(req: PlatformRequest, _res: unknown, next: () => void): void {
      const raw = req.raw ?? req
      if (raw[KEY] === undefined) raw[KEY] = resolveRequest(policy, raw, options)
      next()
    }
    // One class per call: Nest instantiates the module itself, and this one carries its policy.
    class TrustProxyPolicyModule {
      configure(consumer: MiddlewareConsumerLike): void {
        // Nest 11 spells "every route" `{*path}` (path-to-regexp 8); '*' is still accepted with a warning.
        consumer.apply(trustProxyClientIp).forRoutes('{*path}')
      }
    }
    return {
      module: TrustProxyPolicyModule,
      global: true,
      providers: [{ provide: TRUST_PROXY_POLICY, useValue: policy }],
      exports: [TRUST_PROXY_POLICY],
    }
  }
}
