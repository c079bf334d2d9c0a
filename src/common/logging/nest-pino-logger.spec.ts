import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { NestPinoLogger } from './nest-pino-logger';

function capture(level = 'trace') {
  const lines: Record<string, any>[] = [];
  const logger = new NestPinoLogger(pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) }));
  return { logger, lines };
}

test('Nest’s conventions: the last extra argument is the context, an object message gives the fields, an Error its err', () => {
  const { logger, lines } = capture();
  logger.log('started', 'NestApplication');
  logger.warn({ path: '/sns/jscode2session', errcode: 40029 }, 'WeChat answered errcode 40029', 'WechatApiClient');
  logger.error(new Error('boom'), 'AllExceptionsFilter');
  logger.debug('plain');
  assert.deepEqual(
    lines.map(({ level, msg, context, path, errcode }) => ({ level, msg, context, path, errcode })),
    [
      { level: 30, msg: 'started', context: 'NestApplication', path: undefined, errcode: undefined },
      { level: 40, msg: 'WeChat answered errcode 40029', context: 'WechatApiClient', path: '/sns/jscode2session', errcode: 40029 },
      { level: 50, msg: 'boom', context: 'AllExceptionsFilter', path: undefined, errcode: undefined },
      { level: 20, msg: 'plain', context: undefined, path: undefined, errcode: undefined },
    ],
  );
  assert.equal(lines[2].err.message, 'boom');
});

test('error(message, stack, context) from Nest’s exception handlers keeps the stack as the error’s', () => {
  const { logger, lines } = capture();
  const stack = 'Error: failed\n    at somewhere (file.js:1:1)';
  logger.error('failed', stack, 'ExceptionsHandler');
  assert.equal(lines.length, 1);
  assert.equal(lines[0].err.stack, stack);
  assert.equal(lines[0].context, 'ExceptionsHandler');
});

test('levels below the logger’s are not written', () => {
  const { logger, lines } = capture('info');
  logger.verbose('v');
  logger.debug('d');
  logger.log('i');
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['i'],
  );
});
