import type { AuthenticatedUser } from '../auth/authenticated-user';
import { openIdIn } from '../users/dto/user.dto';
import type { UsersService } from '../users/users.service';

/**
 * The caller's openid in the mini program of its token: whom WeChat's per-user APIs of that app
 * are asked about. A deleted account is a 401, as for every route of a signed-in user.
 */
export async function callerOpenId(users: UsersService, caller: Pick<AuthenticatedUser, 'id' | 'appId'>): Promise<string> {
  return openIdIn(await users.getActive(caller.id), caller.appId);
}
