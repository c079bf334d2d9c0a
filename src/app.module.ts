import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { AvatarsModule } from './avatars/avatars.module';
import { AppCacheModule } from './cache/app-cache.module';
import { AppConfigModule } from './config/config.module';
import type { AppConfig } from './config/configuration';
import { DataProtectionModule } from './data-protection/data-protection.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { ProfileModule } from './profile/profile.module';
import { PushModule } from './push/push.module';
import { UsersModule } from './users/users.module';
import { WechatModule } from './wechat/wechat.module';
import { WechatAppsModule } from './wechat-apps/wechat-apps.module';

export interface AppModuleOptions {
  config: AppConfig;
  databaseUrl: string;
  /** The sandbox's routes, in sandbox mode only (built by the caller, so production never loads its code). */
  sandbox?: DynamicModule;
}

@Module({})
export class AppModule {
  static forRoot({ config, databaseUrl, sandbox }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        WechatAppsModule,
        AppCacheModule,
        DatabaseModule.forRoot(databaseUrl),
        DataProtectionModule,
        AuthModule,
        UsersModule,
        WechatModule,
        AvatarsModule,
        ProfileModule,
        HealthModule,
        PushModule,
        ...(sandbox ? [sandbox] : []),
      ],
    };
  }
}
