import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators/public.decorator';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { LoginResponse } from './dto/login.response';
import { WechatLoginRequest } from './dto/wechat-login.request';
import { WechatLoginService } from './wechat-login.service';

@ApiTags('wechat')
@Controller('wechat')
export class WechatController {
  constructor(private readonly loginService: WechatLoginService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log in with wx.login data',
    description:
      'Exchanges the code with WeChat (jscode2session), verifies `signature` over `rawData`, decrypts `encryptedData`, creates or updates the user and returns a bearer token. The session_key stays on the server.',
  })
  @ApiOkResponse({ type: LoginResponse })
  @ApiErrorResponses(
    'VALIDATION_FAILED',
    'DECRYPT_FAILED',
    'WATERMARK_MISMATCH',
    'WECHAT_CODE_INVALID',
    'SIGNATURE_MISMATCH',
    'WECHAT_USER_BLOCKED',
    'WECHAT_RATE_LIMITED',
    'WECHAT_BAD_RESPONSE',
    'WECHAT_UNAVAILABLE',
    'SERVICE_UNAVAILABLE',
    'UNSUPPORTED_MEDIA_TYPE',
    'PAYLOAD_TOO_LARGE',
  )
  login(@Body() body: WechatLoginRequest): Promise<LoginResponse> {
    return this.loginService.login(body);
  }
}
