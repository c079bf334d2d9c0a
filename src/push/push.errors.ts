import { AppError } from '../common/errors/app-error';

/** A push whose signature or msg_signature is wrong, missing, or whose timestamp is not fresh. */
export class PushSignatureMismatchError extends AppError {
  constructor(message = 'Push signature does not match') {
    super('PUSH_SIGNATURE_MISMATCH', message);
  }
}

/** An authentic push (signature right) whose encrypted part cannot be opened or is not for us. */
export class PushDecryptFailedError extends AppError {
  constructor(reason: string) {
    super('DECRYPT_FAILED', `Push message could not be decrypted: ${reason}`);
  }
}
