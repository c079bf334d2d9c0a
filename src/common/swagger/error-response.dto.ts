import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '../errors/app-error';
import type { ErrorBody } from '../errors/error-response';

/** Every error answer, as the exception filter writes it: one schema all error responses refer to. */
@ApiSchema({ name: 'ErrorResponse', description: 'Every error answer of the API: `{ statusCode, code, message }`. Clients branch on `code`, never on `message`.' })
export class ErrorResponse implements ErrorBody {
  @ApiProperty({ type: 'integer', description: 'The HTTP status of the answer, repeated', example: 400 })
  statusCode: number;

  @ApiProperty({ enum: Object.keys(ERROR_STATUS), description: 'What went wrong, stable and machine-readable; each route lists the codes it can answer', example: 'VALIDATION_FAILED' })
  code: ErrorCode;

  @ApiProperty({ description: 'A human-readable explanation, for logs and developers (wording may change)', example: 'code must be at most 128 characters' })
  message: string;
}
