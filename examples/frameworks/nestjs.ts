import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { parseTrustProxy } from '@infram/trust-proxy'
import { ClientInfo, type ClientInfoResult, ClientIp, TrustProxyModule } from '@infram/trust-proxy/nestjs'

@Controller()
class WhoAmIController {
  @Get()
  whoami(@ClientIp() ip: string | undefined, @ClientInfo() info: ClientInfoResult) {
    return { ip: ip ?? null, anomalies: info.anomalies }
  }
}

@Module({
  imports: [TrustProxyModule.forRoot(parseTrustProxy(process.env.TRUST_PROXY))],
  controllers: [WhoAmIController],
})
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: false })
await app.listen(Number(process.env.PORT ?? 3000), '::')
