import { DynamicModule, Module } from '@nestjs/common';
import { ProfileModule } from '../profile/profile.module';
import { SandboxController, WECHAT_SIMULATOR } from './sandbox.controller';
import { SandboxVerdictDelivery } from './sandbox-verdict-delivery';
import type { WechatSimulator } from './wechat-simulator';

@Module({})
export class SandboxModule {
  static forRoot(simulator: WechatSimulator): DynamicModule {
    return {
      module: SandboxModule,
      imports: [ProfileModule],
      controllers: [SandboxController],
      providers: [{ provide: WECHAT_SIMULATOR, useValue: simulator }, SandboxVerdictDelivery],
    };
  }
}
