import { AppError } from '../common/errors/app-error';

export class AvatarNotFoundError extends AppError {
  constructor() {
    super('NOT_FOUND', 'No such avatar');
  }
}

export class AvatarTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super('PAYLOAD_TOO_LARGE', `The avatar is larger than ${maxBytes} bytes (AVATAR_MAX_BYTES)`);
  }
}

export class AvatarUploadsOffError extends AppError {
  constructor() {
    super('NOT_FOUND', 'Avatar uploads are turned off (AVATAR_MAX_BYTES=0)');
  }
}
