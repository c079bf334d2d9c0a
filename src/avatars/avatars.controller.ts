import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags, type HeadersObject } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators/public.decorator';
import { ApiErrorResponses } from '../common/swagger/api-error-responses.decorator';
import { AVATAR_CONTENT_TYPE } from './avatar-image.processor';
import { AvatarNotFoundError } from './avatar.errors';
import { AvatarStore } from './avatar.store';

/** Stored avatars never change under their id: caches may keep them forever. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const CACHE_HEADERS: HeadersObject = {
  ETag: { description: "The image's tag, for If-None-Match", schema: { type: 'string', example: '"9b2f0c3e1d7a4b6c8e5f0a1b2c3d4e5f"' } },
  'Cache-Control': { description: 'Immutable: caches may keep it for a year', schema: { type: 'string', example: IMMUTABLE } },
};

@ApiTags('users')
@Public()
@Controller('avatars')
export class AvatarsController {
  constructor(private readonly store: AvatarStore) {}

  @Get(':id')
  @ApiOperation({
    summary: 'An uploaded avatar (public)',
    description:
      "The re-encoded image (JPEG, at most 640×640, no metadata). Ids are random and unguessable. Immutable: `ETag` and a one-year `Cache-Control`; `If-None-Match` answers 304. An image rejected by WeChat's check, or replaced, answers 404. WeChat's image check fetches pending avatars here too.",
  })
  @ApiParam({ name: 'id', description: '22 characters of base64url', example: 'q7ZJxg3kA4V0c1mQ9yH2bw' })
  @ApiResponse({ status: 200, description: 'The image', headers: CACHE_HEADERS, content: { [AVATAR_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } } } })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched)', headers: CACHE_HEADERS })
  @ApiErrorResponses('NOT_FOUND', 'SERVICE_UNAVAILABLE')
  async serve(@Param('id') id: string, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const image = AvatarStore.isId(id) ? await this.store.find(id) : undefined;
    if (!image) throw new AvatarNotFoundError();
    void reply.header('etag', image.etag).header('cache-control', IMMUTABLE);
    if (ifNoneMatch !== undefined && matches(ifNoneMatch, image.etag)) {
      void reply.status(304).send();
      return;
    }
    void reply.header('content-type', image.contentType).send(image.data);
  }
}

/** `If-None-Match`: `*`, or a list of (possibly weak) tags; weak comparison, as RFC 9110 asks for it. */
function matches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
