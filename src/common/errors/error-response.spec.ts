import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConflictException, ForbiddenException, HttpException, MethodNotAllowedException, RequestTimeoutException } from '@nestjs/common';
import { toErrorBody } from './error-response';

test('HttpExceptions keep their status and get the code of that status', () => {
  const cases: [HttpException, number, string][] = [
    [new ForbiddenException('not yours'), 403, 'FORBIDDEN'],
    [new MethodNotAllowedException(), 405, 'METHOD_NOT_ALLOWED'],
    [new RequestTimeoutException(), 408, 'REQUEST_TIMEOUT'],
    [new ConflictException('already linked'), 409, 'CONFLICT'],
    [new HttpException('slow down', 429), 429, 'TOO_MANY_REQUESTS'],
    [new HttpException('headers', 431), 431, 'HEADERS_TOO_LARGE'],
  ];
  for (const [exception, status, code] of cases) {
    const { body, internal } = toErrorBody(exception);
    assert.equal(body.statusCode, status, code);
    assert.equal(body.code, code);
    assert.equal(internal, false);
  }
  assert.equal(toErrorBody(new ForbiddenException('not yours')).body.message, 'not yours');
});

test('a Fastify/plugin error carrying a 4xx statusCode keeps it when the code is known', () => {
  const tooMany = Object.assign(new Error('Rate limit exceeded, retry in 1 minute'), { statusCode: 429 });
  assert.deepEqual(toErrorBody(tooMany).body, { statusCode: 429, code: 'TOO_MANY_REQUESTS', message: 'Rate limit exceeded, retry in 1 minute' });
  const forbidden = Object.assign(new Error('banned'), { statusCode: 403 });
  assert.equal(toErrorBody(forbidden).body.code, 'FORBIDDEN');
});
