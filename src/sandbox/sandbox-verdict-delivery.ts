import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { WECHAT_SIMULATOR } from './sandbox.controller';
import { WechatPushSender } from './wechat-push-sender';
import type { WechatSimulator } from './wechat-simulator';

/**
 * Delivers the sandbox WeChat's image verdicts to the service as WeChat does: a `wxa_media_check`
 * push, signed and encrypted (safe mode), over HTTP to the service's own `POST /wechat/push`.
 */
@Injectable()
export class SandboxVerdictDelivery implements OnModuleInit {
  constructor(
    @Inject(WECHAT_SIMULATOR) private readonly simulator: WechatSimulator,
    private readonly sender: WechatPushSender,
  ) {}

  onModuleInit(): void {
    this.simulator.onMediaVerdict = async (push) => {
      const delivery = await this.sender.send({ ...push }, { mode: 'safe', format: 'xml' });
      if (delivery.status !== 200) throw new Error(`the push route answered ${delivery.status}`);
    };
  }
}
