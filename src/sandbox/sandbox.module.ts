import { DynamicModule, Module } from '@nestjs/common';
import { SandboxController, WECHAT_SIMULATOR } from './sandbox.controller';
import type { WechatSimulator } from './wechat-simulator';

@Module({})
export class SandboxModule {
  static forRoot(simulator: WechatSimulator): DynamicModule {
    return { module: SandboxModule, controllers: [SandboxController], providers: [{ provide: WECHAT_SIMULATOR, useValue: simulator }] };
  }
}
