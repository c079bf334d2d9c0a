import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiPublic } from '../../common/swagger/api-public.decorator';

export const IS_PUBLIC = 'auth:isPublic';

/** Opts a route (or a whole controller) out of the global JWT guard, and says so in the OpenAPI document (`security: []`). */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiPublic());
