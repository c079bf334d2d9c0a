import { DynamicModule, Inject, Module } from '@nestjs/common';
import { ConfigModule, getConfigToken, registerAs } from '@nestjs/config';
import type { AppConfig } from './configuration';

/** The namespaces of `AppConfig`, each injectable with its decorator below. */
const NAMESPACES = ['app', 'database', 'cache', 'wechat', 'jwt', 'avatars', 'dataProtection'] as const satisfies readonly (keyof AppConfig)[];

export const InjectAppSettings = () => Inject(getConfigToken('app'));
export const InjectDatabaseSettings = () => Inject(getConfigToken('database'));
export const InjectCacheSettings = () => Inject(getConfigToken('cache'));
export const InjectWechatSettings = () => Inject(getConfigToken('wechat'));
export const InjectJwtSettings = () => Inject(getConfigToken('jwt'));
export const InjectAvatarSettings = () => Inject(getConfigToken('avatars'));
export const InjectDataProtectionSettings = () => Inject(getConfigToken('dataProtection'));

/**
 * Exposes an already validated `AppConfig` as typed @nestjs/config namespaces.
 * The config is parsed before the app is created (see `loadConfig`), never from process.env here,
 * so several app instances with different settings can live in one process (tests do this).
 */
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          skipProcessEnv: true,
          load: NAMESPACES.map((ns) => registerAs(ns, () => config[ns])),
        }),
      ],
      exports: [ConfigModule],
    };
  }
}
