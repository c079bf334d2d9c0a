import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '../common/errors/app-error';
import { InjectWechatSettings } from '../config/config.module';
import type { WechatAppSettings, WechatSettings } from '../config/configuration';

/**
 * The configured mini programs (WECHAT_APPS, or the one of WECHAT_APPID/WECHAT_SECRET). Everything
 * that is per app (credentials, access tokens, session keys, push routes, identities) is looked up
 * here by appid.
 */
@Injectable()
export class WechatApps {
  readonly all: readonly WechatAppSettings[];
  /**
   * The first configured app: the one a database of the one-app schema is adopted into, and the
   * app of a token issued before several apps existed (when its user has no identity to tell).
   */
  readonly primary: WechatAppSettings;
  private readonly byId: ReadonlyMap<string, WechatAppSettings>;

  constructor(@InjectWechatSettings() settings: Pick<WechatSettings, 'apps'>) {
    if (settings.apps.length === 0) throw new Error('no mini program is configured');
    this.all = settings.apps;
    this.primary = settings.apps[0];
    this.byId = new Map(settings.apps.map((app) => [app.appId, app]));
  }

  /** True when exactly one app is configured: the one-app shorthands (`/wechat/push`, login without appId) apply. */
  get single(): boolean {
    return this.all.length === 1;
  }

  find(appId: string | undefined): WechatAppSettings | undefined {
    return appId === undefined ? undefined : this.byId.get(appId);
  }

  /** The app of a request's `appId`: required when several apps are configured; unknown is a 400. */
  resolve(appId: string | undefined): WechatAppSettings {
    if (appId === undefined) {
      if (this.single) return this.primary;
      throw new ValidationFailedError('appId is required: several mini programs are configured');
    }
    const app = this.byId.get(appId);
    if (!app) throw new ValidationFailedError('appId is not a configured mini program');
    return app;
  }
}
