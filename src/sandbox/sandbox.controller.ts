import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators/public.decorator';
import { ValidationFailedError } from '../common/errors/app-error';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { SandboxLoginRequest, SandboxLoginResponse, SandboxPhoneCodeRequest, SandboxPhoneCodeResponse, SandboxPushRequest, SandboxPushResponse } from './dto/sandbox.dto';
import { SandboxPushSenders, WechatPushSender } from './wechat-push-sender';
import { WechatSimulator } from './wechat-simulator';

export const WECHAT_SIMULATOR = Symbol('WECHAT_SIMULATOR');

/** Plays the mini program side of WeChat in sandbox mode (README, Try it in one minute). Never mounted in production. */
@ApiTags('sandbox')
@Public()
// Every route here validates its body.
@ApiErrorResponses('VALIDATION_FAILED')
@Controller('sandbox')
export class SandboxController {
  constructor(
    @Inject(WECHAT_SIMULATOR) private readonly simulator: WechatSimulator,
    private readonly pushSenders: SandboxPushSenders,
  ) {}

  @Post('wx-login')
  @HttpCode(200)
  @ApiOperation({ summary: 'What wx.login + wx.getUserInfo give a mini program', description: 'Paste the answer into POST /wechat/login as it is.' })
  @ApiOkResponse({ type: SandboxLoginResponse })
  wxLogin(@Body() body: SandboxLoginRequest): SandboxLoginResponse {
    const appId = this.appId(body.appId);
    const { code, rawData, signature, encryptedData, iv } = this.simulator.issueLoginCode({ ...body, appId });
    return { code, rawData, signature, encryptedData, iv, ...(this.simulator.apps.length > 1 ? { appId } : {}) };
  }

  @Post('phone-code')
  @HttpCode(200)
  @ApiOperation({ summary: 'What the getPhoneNumber button gives a mini program', description: 'For POST /wechat/phone `{ code }`.' })
  @ApiOkResponse({ type: SandboxPhoneCodeResponse })
  phoneCode(@Body() body: SandboxPhoneCodeRequest): SandboxPhoneCodeResponse {
    return this.simulator.issuePhoneCode({ ...body, appId: this.appId(body.appId) });
  }

  @Post('push')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Make WeChat push a privacy event to this service',
    description:
      "Sends the event to this service's own `POST /wechat/push` over HTTP, signed and encrypted in safe mode as WeChat does, and answers once it was delivered, with the push route's answer.",
  })
  @ApiAcceptedResponse({ type: SandboxPushResponse })
  async push(@Body() body: SandboxPushRequest): Promise<SandboxPushResponse> {
    const appId = this.appId(body.appId);
    const message = WechatPushSender.privacyEvent(appId, body.event, body.openId, body.event === 'user_authorization_revoke' ? (body.revokeInfo ?? '6') : undefined);
    const delivery = await this.pushSenders.of(appId).send(message, { mode: 'safe', format: 'xml' });
    return { event: body.event, openId: body.openId, mode: 'safe', format: 'xml', status: delivery.status, answer: delivery.answer.slice(0, 300) };
  }

  /** A simulated app, the first by default; another is a 400. */
  private appId(appId: string | undefined): string {
    if (appId === undefined) return this.simulator.appId;
    if (!this.simulator.hasApp(appId)) throw new ValidationFailedError('appId is not a simulated mini program');
    return appId;
  }
}
