import { ApiExtension, type OpenAPIObject } from '@nestjs/swagger';
import { applyOperationMarks } from './operation-marks';

/** The mark ApiPublic leaves on an operation; setupSwagger replaces it with `security: []`. */
const PUBLIC_MARK = 'x-public';

/**
 * Documents a route (or every route of a controller) as needing no token. OpenAPI says so with an
 * empty `security` on the operation, which the document's default (bearer) cannot be overridden to
 * by decorators: an empty requirement list is dropped as "no metadata". Part of `@Public()`.
 */
export const ApiPublic = () => ApiExtension(PUBLIC_MARK, true);

/** Turns every ApiPublic mark of the document into `security: []`. */
export function documentPublicOperations(document: OpenAPIObject): void {
  applyOperationMarks(document, PUBLIC_MARK, (operation) => (operation.security = []));
}
