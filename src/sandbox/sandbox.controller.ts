import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators/public.decorator';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { SandboxLoginRequest, SandboxLoginResponse, SandboxPhoneCodeRequest, SandboxPhoneCodeResponse, SandboxPushRequest, SandboxPushResponse } from './dto/sandbox.dto';
import { WechatPushSender } from './wechat-push-sender';
import { WechatSimulator } from './wechat-simulator';

export const WECHAT_SIMULATOR = Symbol('WECHAT_SIMULATOR');

/** Plays the mini program side of WeChat in sandbox mode (CONTRACT §7). Never mounted in production. */
@ApiTags('sandbox')
@Public()
@Controller('sandbox')
export class SandboxController {
  constructor(
    @Inject(WECHAT_SIMULATOR) private readonly simulator: WechatSimulator,
    private readonly pushSender: WechatPushSender,
  ) {}

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

  @Post('push')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Make WeChat push a privacy event to this service',
    description:
      "Sends the event to this service's own `POST /wechat/push` over HTTP, signed and encrypted in safe mode as WeChat does, and answers once it was delivered, with the push route's answer.",
  })
  @ApiAcceptedResponse({ type: SandboxPushResponse })
  @ApiErrorResponses('VALIDATION_FAILED')
  async push(@Body() body: SandboxPushRequest): Promise<SandboxPushResponse> {
    const message = WechatPushSender.privacyEvent(this.simulator.appId, body.event, body.openId, body.event === 'user_authorization_revoke' ? (body.revokeInfo ?? '6') : undefined);
    const delivery = await this.pushSender.send(message, { mode: 'safe', format: 'xml' });
    return { event: body.event, openId: body.openId, mode: 'safe', format: 'xml', status: delivery.status, answer: delivery.answer.slice(0, 300) };
  }
}
