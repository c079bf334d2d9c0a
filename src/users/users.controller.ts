import { Body, Controller, Delete, Get, HttpCode, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'The current user' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrorResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
  async me(@CurrentUser() caller: AuthenticatedUser): Promise<UserDto> {
    return UserDto.forApp(await this.users.getActive(caller.id), caller.appId);
  }

  @Patch()
  @ApiOperation({ summary: 'Update the profile', description: 'Any subset of the fields; `null` clears a field.' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
  async update(@CurrentUser() caller: AuthenticatedUser, @Body() body: UpdateUserDto): Promise<UserDto> {
    return UserDto.forApp(await this.users.updateProfile(caller.id, body), caller.appId);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete the account',
    description: 'Clears profile, mobile and unionId, revokes every token and drops the stored session_key. A later login reactivates the account, empty.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrorResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
  async remove(@CurrentUser() caller: AuthenticatedUser): Promise<void> {
    await this.users.deleteAccount(caller.id);
  }
}
