import { Body, Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { Public } from '../auth/decorators/public.decorator';
import { LOGIN_RATE_LIMITED } from '../common/http/login-rate-limit';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { NO_STORE_HEADERS } from '../common/swagger/no-store-headers';
import { LoginResponse } from './dto/login.response';
import { PhoneNumberRequest } from './dto/phone-number.request';
import { PhoneNumberResponse, SessionStatusResponse } from './dto/phone-number.response';
import { WechatLoginRequest } from './dto/wechat-login.request';
import { SessionCheckService } from './session-check.service';
import { WechatLoginService } from './wechat-login.service';
import { WechatPhoneService } from './wechat-phone.service';

@ApiTags('wechat')
@Controller('wechat')
export class WechatController {
  constructor(
    private readonly loginService: WechatLoginService,
    private readonly phoneService: WechatPhoneService,
    private readonly sessionCheck: SessionCheckService,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  // RFC 6749 §5.1: no cache may keep an answer that carries a token.
  @Header('cache-control', 'no-store')
  // LOGIN_RATE_LIMIT attempts per client IP a minute: each attempt may cost an upstream call.
  @RouteConfig(LOGIN_RATE_LIMITED)
  @ApiOperation({
    summary: 'Log in with wx.login data',
    description:
      'Exchanges the code with WeChat (jscode2session) for the mini program `appId`, verifies `signature` over `rawData`, decrypts `encryptedData`, creates or updates the user and returns a bearer token of that mini program. ' +
      'A first login in another mini program whose unionid is already known adds an identity to that user. The session_key stays on the server.',
  })
  @ApiOkResponse({ type: LoginResponse, headers: NO_STORE_HEADERS })
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
    'TOO_MANY_REQUESTS',
  )
  login(@Body() body: WechatLoginRequest): Promise<LoginResponse> {
    return this.loginService.login(body);
  }

  @Post('phone')
  @HttpCode(200)
  // Nor one that carries a phone number.
  @Header('cache-control', 'no-store')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "The user's phone number",
    description:
      "Either `{ code }` from the getPhoneNumber button (current API, needs the server access token) or `{ encryptedData, iv }` (legacy, decrypted with the session_key of this user's last login). The number is saved as the user's `mobile`.",
  })
  @ApiExtraModels(PhoneNumberRequest)
  @ApiBody({
    // The DTO's fields, in exactly one of its two forms.
    schema: { allOf: [{ $ref: getSchemaPath(PhoneNumberRequest) }], oneOf: [{ required: ['code'] }, { required: ['encryptedData', 'iv'] }] },
    examples: {
      code: { summary: 'Current API: the button code', value: { code: 'e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144' } },
      legacy: {
        summary: 'Legacy: encrypted data',
        value: {
          encryptedData:
            'Kf3TdPbzEmhWMuPKtlKxIWDkijhn402w1bxoHL4kLdcKr6jT1jNcIhvDJfjXmJcgDWLjmBiIGJ5acUuSvxLws3WgAkERmtTuiCG10CKLsJiR+AXVk7B2TUQzsq88YVilDz/YAN3647REE7glGmeBPfvUmdbfDzhL9BzvEiuRhABuCYyTMz4iaM8hFjbLB1caaeoOlykYAFMWC5pZi9P8uw==',
          iv: 'r7BXXKkLb8qrSNn05n0qiA==',
        },
      },
    },
  })
  @ApiOkResponse({ type: PhoneNumberResponse, headers: NO_STORE_HEADERS })
  @ApiErrorResponses(
    'VALIDATION_FAILED',
    'PHONE_CODE_INVALID',
    'DECRYPT_FAILED',
    'WATERMARK_MISMATCH',
    'UNAUTHORIZED',
    'SESSION_EXPIRED',
    'WECHAT_USER_BLOCKED',
    'WECHAT_RATE_LIMITED',
    'WECHAT_BAD_RESPONSE',
    'WECHAT_UNAVAILABLE',
    'SERVICE_UNAVAILABLE',
  )
  phone(@CurrentUser() user: AuthenticatedUser, @Body() body: PhoneNumberRequest): Promise<PhoneNumberResponse> {
    return this.phoneService.resolve(user, body);
  }

  @Get('session')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Is the WeChat session still valid?',
    description:
      "Asks WeChat (checksession) whether it still holds the session_key stored at this user's last login. `valid: false` means: call wx.login and log in again before sending encrypted data.",
  })
  @ApiOkResponse({ type: SessionStatusResponse })
  @ApiErrorResponses('UNAUTHORIZED', 'WECHAT_RATE_LIMITED', 'WECHAT_BAD_RESPONSE', 'WECHAT_UNAVAILABLE', 'SERVICE_UNAVAILABLE')
  async session(@CurrentUser() user: AuthenticatedUser): Promise<SessionStatusResponse> {
    return { valid: await this.sessionCheck.isValid(user) };
  }
}
