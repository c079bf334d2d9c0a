import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJsonObject } from './parse-json-object';

describe('parseJsonObject', () => {
  test('a JSON object is returned as parsed', () => {
    assert.deepEqual(parseJsonObject('{"errcode":0,"nested":{"a":[1]}}'), { object: { errcode: 0, nested: { a: [1] } } });
  });

  test('text that is not JSON says so', () => {
    for (const text of ['', 'not json', '{"a":1', '<html>502</html>']) assert.deepEqual(parseJsonObject(text), { problem: 'is not JSON' }, text);
  });

  test('JSON of another kind (array, null, number, string, boolean) says so', () => {
    for (const text of ['[{"a":1}]', 'null', '42', '"text"', 'true']) assert.deepEqual(parseJsonObject(text), { problem: 'is not a JSON object' }, text);
  });
});
