import { AppError } from '../common/errors/app-error';

/** WeChat's content check judged the text or image `risky`. */
export class ContentRiskyError extends AppError {
  constructor(
    readonly what: string,
    readonly label: string,
  ) {
    super('CONTENT_RISKY', `WeChat's content check judged the ${what} risky (label ${label}${LABELS[label] ? `: ${LABELS[label]}` : ''})`);
  }
}

/** WeChat's published labels of msg_sec_check / media_check_async v2. */
export const LABELS: Record<string, string> = {
  '100': 'normal',
  '10001': 'advertising',
  '20001': 'politics',
  '20002': 'pornography',
  '20003': 'abuse',
  '20006': 'illegal',
  '20008': 'fraud',
  '20012': 'vulgar',
  '20013': 'copyright',
  '21000': 'other',
};
