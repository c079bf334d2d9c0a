import { Module } from '@nestjs/common';
import { WechatModule } from '../wechat/wechat.module';
import { ContentCheckStore } from './content-check.store';
import { ContentSecurityClient } from './content-security.client';

/** WeChat's content checks (msg_sec_check, media_check_async) and their audit trail. */
@Module({
  imports: [WechatModule],
  providers: [ContentSecurityClient, ContentCheckStore],
  exports: [ContentSecurityClient, ContentCheckStore],
})
export class ContentSecurityModule {}
