import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators/public.decorator';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { SandboxLoginRequest, SandboxLoginResponse, SandboxPhoneCodeRequest, SandboxPhoneCodeResponse } from './dto/sandbox.dto';
import { WechatSimulator } from './wechat-simulator';

export const WECHAT_SIMULATOR = Symbol('WECHAT_SIMULATOR');

/** Plays the mini program side of WeChat in sandbox mode (CONTRACT §7). Never mounted in production. */
@ApiTags('sandbox')
@Public()
@Controller('sandbox')
export class SandboxController {
  constructor(@Inject(WECHAT_SIMULATOR) private readonly simulator: WechatSimulator) {}

  @Post('wx-login')
  @HttpCode(200)
  @ApiOperation({ summary: 'What wx.login + wx.getUserInfo give a mini program', description: 'Paste the answer into POST /wechat/login as it is.' })
  @ApiOkResponse({ type: SandboxLoginResponse })
  @ApiErrorResponses('VALIDATION_FAILED')
  wxLogin(@Body() body: SandboxLoginRequest): SandboxLoginResponse {
    const { code, rawData, signature, encryptedData, iv } = this.simulator.issueLoginCode(body);
    return { code, rawData, signature, encryptedData, iv };
  }

  @Post('phone-code')
  @HttpCode(200)
  @ApiOperation({ summary: 'What the getPhoneNumber button gives a mini program', description: 'For POST /wechat/phone `{ code }`.' })
  @ApiOkResponse({ type: SandboxPhoneCodeResponse })
  @ApiErrorResponses('VALIDATION_FAILED')
  phoneCode(@Body() body: SandboxPhoneCodeRequest): SandboxPhoneCodeResponse {
    return this.simulator.issuePhoneCode(body);
  }
}
