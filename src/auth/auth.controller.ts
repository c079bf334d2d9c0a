import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { NoBody } from '../common/validation/no-body.decorator';
import type { AuthenticatedUser } from './authenticated-user';
import { CurrentUser } from './decorators/current-user.decorator';
import { UsersService } from '../users/users.service';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth')
export class AuthController {
  constructor(private readonly users: UsersService) {}

  @Post('logout')
  @HttpCode(204)
  @NoBody()
  @ApiOperation({ summary: 'Log out everywhere', description: 'Every token issued to this user until now stops working, on every instance.' })
  @ApiNoContentResponse({ description: 'Logged out' })
  @ApiErrorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
  async logout(@CurrentUser() user: AuthenticatedUser): Promise<void> {
    await this.users.revokeTokens(user.id);
  }
}
