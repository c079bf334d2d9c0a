import { ApiExtension, type OpenAPIObject, type RequestBodyObject } from '@nestjs/swagger';
import { applyOperationMarks } from './operation-marks';

/** The mark ApiBodyContent leaves on an operation; setupSwagger makes it the operation's requestBody. */
const BODY_MARK = 'x-request-body';

/**
 * A request body documented per media type: ApiBody gives every consumed media type the same
 * schema and examples, which is wrong for a route that takes XML text and JSON alike.
 */
export const ApiBodyContent = (body: RequestBodyObject) => ApiExtension(BODY_MARK, body);

/** Replaces the requestBody of each operation marked by ApiBodyContent with the documented one. */
export function documentBodyContent(document: OpenAPIObject): void {
  applyOperationMarks<RequestBodyObject>(document, BODY_MARK, (operation, body) => (operation.requestBody = body));
}
