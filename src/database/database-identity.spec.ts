import assert from 'node:assert/strict';
import { test } from 'node:test';
import { databaseIdentity } from './database-identity';

test('one tag per database: credentials do not change it, another database or server does', () => {
  const a = databaseIdentity('postgres://app:secret@db.internal:5432/wechat');
  assert.match(a, /^[0-9a-f]{12}$/);
  assert.equal(databaseIdentity('postgresql://other:pw@db.internal/wechat'), a, 'default port, other credentials');
  assert.notEqual(databaseIdentity('postgres://app:secret@db.internal:5432/wechat_staging'), a);
  assert.notEqual(databaseIdentity('postgres://app:secret@db2.internal:5432/wechat'), a);
  assert.ok(!a.includes('secret'));
});
