import { Controller, Delete, Get, Header, HttpCode } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { NO_STORE_HEADERS } from '../common/swagger/no-store-headers';
import { NoBody } from '../common/validation/no-body.decorator';
import { MobileVault } from '../data-protection/mobile-vault';
import { UserDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly vault: MobileVault,
  ) {}

  @Get()
  // The owner's full profile, mobile number included: no cache may keep it.
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'The current user' })
  @ApiOkResponse({ type: UserDto, headers: NO_STORE_HEADERS })
  @ApiErrorResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
  async me(@CurrentUser() caller: AuthenticatedUser): Promise<UserDto> {
    // The guard read the user for this request's token check: no second read.
    return UserDto.forApp(this.vault.reveal(caller.user ?? (await this.users.getActive(caller.id))), caller.appId);
  }

  // PATCH /users/me lives in ProfileController (src/profile): a new nickname or avatar passes WeChat's content checks first.

  @Delete()
  @HttpCode(204)
  @NoBody()
  @ApiOperation({
    summary: 'Delete the account',
    description: 'Clears profile, mobile and unionId, revokes every token and drops the stored session_key. A later login reactivates the account, empty.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
  async remove(@CurrentUser() caller: AuthenticatedUser): Promise<void> {
    await this.users.deleteAccount(caller.id);
  }
}
