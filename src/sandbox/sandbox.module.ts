import { DynamicModule, Module } from '@nestjs/common';
import { getConfigToken } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import type { WechatSettings } from '../config/configuration';
import { ProfileModule } from '../profile/profile.module';
import { SandboxController, WECHAT_SIMULATOR } from './sandbox.controller';
import { SandboxVerdictDelivery } from './sandbox-verdict-delivery';
import { SandboxPushSenders } from './wechat-push-sender';
import type { WechatSimulator } from './wechat-simulator';

/** The sandbox's WeChat pushes go to this service's own push routes (one per app), on whatever port it listens. */
const pushSenderProvider = {
  provide: SandboxPushSenders,
  inject: [getConfigToken('wechat'), HttpAdapterHost],
  useFactory: (settings: WechatSettings, host: HttpAdapterHost) =>
    new SandboxPushSenders(settings.apps, () => {
      const address = host.httpAdapter.getHttpServer().address() as AddressInfo | null;
      if (!address || typeof address !== 'object') throw new Error('the service is not listening yet');
      // Listening on every interface: loopback reaches it. Otherwise the address it listens on.
      const hostName = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${hostName}:${address.port}`;
    }),
};

@Module({})
export class SandboxModule {
  static forRoot(simulator: WechatSimulator): DynamicModule {
    return {
      module: SandboxModule,
      imports: [ProfileModule],
      controllers: [SandboxController],
      providers: [{ provide: WECHAT_SIMULATOR, useValue: simulator }, pushSenderProvider, SandboxVerdictDelivery],
      exports: [pushSenderProvider],
    };
  }
}
