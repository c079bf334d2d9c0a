import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import type { AuthenticatedUser } from './authenticated-user';
import { CurrentUser } from './decorators/current-user.decorator';
import { TokenVersionStore } from './token-version.store';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth')
export class AuthController {
  constructor(private readonly versions: TokenVersionStore) {}

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Log out everywhere', description: 'Every token issued to this user until now stops working, on every instance.' })
  @ApiNoContentResponse({ description: 'Logged out' })
  @ApiErrorResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE')
  async logout(@CurrentUser() user: AuthenticatedUser): Promise<void> {
    await this.versions.revokeAll(user.id);
  }
}
