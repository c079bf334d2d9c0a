import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AvatarReviewService } from '../profile/avatar-review.service';
import { WECHAT_SIMULATOR } from './sandbox.controller';
import type { WechatSimulator } from './wechat-simulator';

/**
 * Delivers the sandbox WeChat's image verdicts to the service, as WeChat's `wxa_media_check` push
 * would. (Until the push receiver exists, straight to the handler the receiver calls.)
 */
@Injectable()
export class SandboxVerdictDelivery implements OnModuleInit {
  constructor(
    @Inject(WECHAT_SIMULATOR) private readonly simulator: WechatSimulator,
    private readonly reviews: AvatarReviewService,
  ) {}

  onModuleInit(): void {
    this.simulator.onMediaVerdict = async (push) => {
      await this.reviews.applyVerdict(push);
    };
  }
}
