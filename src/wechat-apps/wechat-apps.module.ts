import { Global, Module } from '@nestjs/common';
import { WechatApps } from './wechat-apps';

/** The configured mini programs, for every module (auth, users, WeChat calls, push, sandbox). */
@Global()
@Module({ providers: [WechatApps], exports: [WechatApps] })
export class WechatAppsModule {}
