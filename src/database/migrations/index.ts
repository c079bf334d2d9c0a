import { CreateWechatUser1764000000000 } from './1764000000000-create-wechat-user';
import { HardenWechatUser1764100000000 } from './1764100000000-harden-wechat-user';
import { CreateWechatPushMessage1764200000000 } from './1764200000000-create-wechat-push-message';
import { CreateWechatSessionKey1764250000000 } from './1764250000000-create-wechat-session-key';
import { AvatarsAndContentChecks1764300000000 } from './1764300000000-avatars-and-content-checks';
import { EncryptMobile1764310000000 } from './1764310000000-encrypt-mobile';
import { CreateWechatIdentity1764400000000 } from './1764400000000-create-wechat-identity';
import { SessionKeysPerApp1764410000000 } from './1764410000000-session-keys-per-app';
import { UserIdentitiesFunction1764420000000 } from './1764420000000-user-identities-function';
import { ContentCheckAskedAs1764500000000 } from './1764500000000-content-check-asked-as';
import { CreateWechatPushSignature1764510000000 } from './1764510000000-create-wechat-push-signature';
import { NotifyTokenRevocations1764520000000 } from './1764520000000-notify-token-revocations';

/** Every migration, in order. Listed explicitly so the compiled app never depends on file globs. */
export const MIGRATIONS = [
  CreateWechatUser1764000000000,
  HardenWechatUser1764100000000,
  CreateWechatPushMessage1764200000000,
  CreateWechatSessionKey1764250000000,
  AvatarsAndContentChecks1764300000000,
  EncryptMobile1764310000000,
  CreateWechatIdentity1764400000000,
  SessionKeysPerApp1764410000000,
  UserIdentitiesFunction1764420000000,
  ContentCheckAskedAs1764500000000,
  CreateWechatPushSignature1764510000000,
  NotifyTokenRevocations1764520000000,
];
