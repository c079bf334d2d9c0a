import { applyDecorators, Body, Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators/public.decorator';
import { ApiBodyContent } from '../common/swagger/api-body-content.decorator';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { XML_BODY_ROUTE } from './push-body-parser';
import { PushEventsService } from './push-events.service';
import { PushReceiver } from './push-receiver';

const SignedQuery = () =>
  applyDecorators(
    ApiQuery({
      name: 'signature',
      type: String,
      required: false,
      description: 'hex SHA-1 of the sorted [Token, timestamp, nonce]; required unless encrypt_type=aes',
      example: 'f464b24fc39322e44b38aa78f5edd27bd1441696',
    }),
    ApiQuery({ name: 'timestamp', type: String, required: true, description: 'Unix seconds; refused when more than 300 s from now (messages)', example: '1714036504' }),
    ApiQuery({ name: 'nonce', type: String, required: true, description: 'A random number WeChat picks, part of the signature', example: '1514711492' }),
  );

/** A plain-mode push: a user withdrew nickname and avatar (WeChat's own example). */
const PLAIN_PUSH = {
  ToUserName: 'gh_870882ca4b1',
  FromUserName: 'oaKk346BaWE-eIn4oSRWbaM9vR7s',
  CreateTime: 1627359464,
  MsgType: 'event',
  Event: 'user_authorization_revoke',
  OpenID: 'oaKk343WOktAaT2ygsX138BGblrg',
  AppID: 'wx13974bf780d3dc89',
  RevokeInfo: '6',
};
const SAFE_PUSH = { ToUserName: 'gh_870882ca4b1', Encrypt: 'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wv…' };

/** A push as XML text: numbers bare, text in CDATA, as WeChat writes it. */
const asXml = (fields: Record<string, string | number>) =>
  ['<xml>', ...Object.entries(fields).map(([k, v]) => (typeof v === 'number' ? `  <${k}>${v}</${k}>` : `  <${k}><![CDATA[${v}]]></${k}>`)), '</xml>'].join('\n');

const XML_BODY = {
  schema: { type: 'string', description: 'The `<xml>` document WeChat posts' },
  examples: {
    safe: { summary: 'Safe mode: the message is in Encrypt', value: asXml(SAFE_PUSH) },
    plain: { summary: 'Plain mode: a user withdrew nickname and avatar', value: asXml(PLAIN_PUSH) },
  },
};
const JSON_BODY = {
  schema: { type: 'object', additionalProperties: true, description: 'The same fields as the XML, as a JSON object' },
  examples: {
    safe: { summary: 'Safe mode: the message is in Encrypt', value: SAFE_PUSH },
    plain: { summary: 'Plain mode: a user withdrew nickname and avatar', value: PLAIN_PUSH },
  },
};

/** The URL check's documentation and answer headers (both push URL shapes). */
const UrlCheck = (of: string) =>
  applyDecorators(
    Header('content-type', 'text/plain; charset=utf-8'),
    Header('cache-control', 'no-store'),
    ApiOperation({
      summary: `URL check of the message push configuration${of}`,
      description: 'WeChat calls this when the push URL is saved in the console. Answers `echostr` when `signature` is right. 404 when no push Token is configured.',
    }),
    SignedQuery(),
    ApiQuery({ name: 'echostr', type: String, required: true, description: 'A random string to answer back when the signature is right', example: '4375120948345356249' }),
    ApiOkResponse({ description: 'The echostr, as sent', content: { 'text/plain': { schema: { type: 'string', example: '4375120948345356249' } } } }),
    ApiErrorResponses('VALIDATION_FAILED', 'PUSH_SIGNATURE_MISMATCH', 'NOT_FOUND'),
  );

/** A pushed message's documentation, body parser flag and answer headers (both push URL shapes). */
const Message = (of: string) =>
  applyDecorators(
    HttpCode(200),
    RouteConfig(XML_BODY_ROUTE),
    Header('content-type', 'text/plain; charset=utf-8'),
    Header('cache-control', 'no-store'),
    ApiOperation({
      summary: `A message or event pushed by WeChat${of}`,
      description:
        'XML or JSON, in plain mode (`signature`), compatible mode or safe mode (`encrypt_type=aes`, `msg_signature` over the `Encrypt` field; AES-256-CBC with the EncodingAESKey). ' +
        'Privacy events erase data (user_authorization_revoke, user_info_modified, user_authorization_cancellation), wxa_media_check carries image verdicts; every other message is recorded. ' +
        'Each message is handled once however often WeChat retries it. Answers `success` once the work is stored; 503 when it could not be (WeChat then retries). 404 when no push Token is configured.',
    }),
    SignedQuery(),
    ApiQuery({ name: 'encrypt_type', type: String, required: false, enum: ['aes'], description: 'Present in safe and compatible mode' }),
    ApiQuery({
      name: 'msg_signature',
      type: String,
      required: false,
      description: 'hex SHA-1 of the sorted [Token, timestamp, nonce, Encrypt] (safe and compatible mode)',
      example: '003fe4a7a6c6e2c5f4a13bd7a8d9b4e1c2f3a4b5',
    }),
    ApiBodyContent({
      description: 'The push as WeChat sends it: XML or JSON, whichever the console configures',
      required: true,
      content: { 'text/xml': XML_BODY, 'application/xml': XML_BODY, 'application/json': JSON_BODY },
    }),
    ApiOkResponse({ description: '`success`: the message is handled (or was before)', content: { 'text/plain': { schema: { type: 'string', example: 'success' } } } }),
    ApiErrorResponses('VALIDATION_FAILED', 'DECRYPT_FAILED', 'PUSH_SIGNATURE_MISMATCH', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'SERVICE_UNAVAILABLE'),
  );

/**
 * WeChat's message push (消息推送) endpoint, configured in the mini program console. Public (WeChat
 * authenticates by signature, not by bearer token); answers text/plain as WeChat expects.
 * `/wechat/push/{appId}` receives the pushes of each configured mini program; `/wechat/push`, the
 * one-app shorthand, those of the only one (404 when several are configured).
 */
@ApiTags('wechat push')
@Public()
@Controller('wechat/push')
export class PushController {
  constructor(
    private readonly receiver: PushReceiver,
    private readonly events: PushEventsService,
  ) {}

  @Get()
  @UrlCheck('')
  verifyUrl(@Query() query: Record<string, unknown>): string {
    return this.receiver.verifyUrl(undefined, query);
  }

  @Get(':appId')
  @UrlCheck(' of the mini program `appId` (when several are configured)')
  @ApiParam({ name: 'appId', description: 'The mini program (AppID) whose push this URL receives', example: 'wx8a1b2c3d4e5f6a7b' })
  verifyAppUrl(@Param('appId') appId: string, @Query() query: Record<string, unknown>): string {
    return this.receiver.verifyUrl(appId, query);
  }

  @Post()
  @Message('')
  async receive(@Query() query: Record<string, unknown>, @Body() body: unknown): Promise<string> {
    const opened = await this.receiver.open(undefined, query, body);
    await this.events.handle(opened.message, opened.appId);
    return 'success';
  }

  @Post(':appId')
  @Message(' to the mini program `appId` (when several are configured)')
  @ApiParam({ name: 'appId', description: 'The mini program (AppID) whose push this URL receives', example: 'wx8a1b2c3d4e5f6a7b' })
  async receiveForApp(@Param('appId') appId: string, @Query() query: Record<string, unknown>, @Body() body: unknown): Promise<string> {
    const opened = await this.receiver.open(appId, query, body);
    await this.events.handle(opened.message, opened.appId);
    return 'success';
  }
}
