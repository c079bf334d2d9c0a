import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { WECHAT_SIMULATOR } from './sandbox.controller';
import { SandboxPushSenders } from './wechat-push-sender';
import type { WechatSimulator } from './wechat-simulator';

/**
 * Delivers the sandbox WeChat's image verdicts to the service as WeChat does: a `wxa_media_check`
 * push of the app that asked, signed and encrypted (safe mode), over HTTP to that app's push route.
 */
@Injectable()
export class SandboxVerdictDelivery implements OnModuleInit {
  constructor(
    @Inject(WECHAT_SIMULATOR) private readonly simulator: WechatSimulator,
    private readonly senders: SandboxPushSenders,
  ) {}

  onModuleInit(): void {
    this.simulator.onMediaVerdict = async (push) => {
      const delivery = await this.senders.of(push.appid).send({ ...push }, { mode: 'safe', format: 'xml' });
      if (delivery.status !== 200) throw new Error(`the push route answered ${delivery.status}`);
    };
  }
}
