import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bearerToken } from './bearer-token';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
const extract = (authorization?: unknown) => bearerToken({ headers: authorization === undefined ? {} : { authorization } });

describe('bearerToken', () => {
  test('the scheme in any case, then one or more spaces, then the token', () => {
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `bEaReR ${TOKEN}`, `Bearer    ${TOKEN}`]) assert.equal(extract(header), TOKEN, header);
    assert.equal(extract('Bearer x'), 'x');
  });

  test('whitespace around the whole value is not part of it', () => {
    assert.equal(extract(`Bearer ${TOKEN}  `), TOKEN);
    assert.equal(extract(`Bearer ${TOKEN}\t`), TOKEN);
    assert.equal(extract(` \tBearer ${TOKEN} \t `), TOKEN);
  });

  test('anything after the token → null', () => {
    for (const header of [`Bearer ${TOKEN} trailing-garbage`, `Bearer ${TOKEN} ${TOKEN}`, `Bearer ${TOKEN}\tx`, `Bearer ${TOKEN}, Basic dXNlcjpwYXNz`]) {
      assert.equal(extract(header), null, header);
    }
  });

  test('another scheme, no separator, a tab as separator, or no token → null', () => {
    for (const header of [
      undefined,
      '',
      ' ',
      'Bearer',
      'Bearer ',
      'Bearer     ',
      `Bearer${TOKEN}`,
      `Bearer\t${TOKEN}`,
      `Bearerx ${TOKEN}`,
      `Basic ${TOKEN}`,
      `Token ${TOKEN}`,
      `x Bearer ${TOKEN}`,
      TOKEN,
      `Be@rer ${TOKEN}`,
    ]) {
      assert.equal(extract(header), null, JSON.stringify(header));
    }
  });

  test('a header that is no string → null', () => {
    assert.equal(extract([`Bearer ${TOKEN}`]), null);
    assert.equal(extract(42), null);
  });
});
