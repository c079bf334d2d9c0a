/**
 * Phone numbers at rest: encrypted in `wechat_user.mobile` with a lookup hash, opened only in the
 * owner's answers, masked in the log; the migration that encrypts numbers stored before, keeping
 * every row; what a deletion leaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { parseDataKey } from '../src/config/profile-settings';
import { FieldCipher } from '../src/data-protection/field-cipher';
import { provideMigrationCipher } from '../src/data-protection/migration-cipher';
import { MOBILE_PURPOSE, normalizeMobile } from '../src/data-protection/mobile-number';
import { MIGRATIONS } from '../src/database/migrations';
import { startTestApp, TEST_DATA_KEY, type TestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const cipher = new FieldCipher({ current: parseDataKey(TEST_DATA_KEY)!, previous: [] });
/** Every column of the user's row as text: a number must not be readable in any of them. */
const rowText = async (db: TestDatabase, id: number) => (await db.query<{ t: string }>('SELECT row_to_json(u)::text AS t FROM wechat_user u WHERE id = $1', [id]))[0].t;

describe('phone numbers encrypted at rest', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });

  test("POST /wechat/phone stores an envelope and a lookup hash; only the owner's answers show the number; the log masks it", async () => {
    const login = await app.login({ openId: `oMobile${Date.now()}` }, 'code');
    const { token, user } = login.body;
    assert.deepEqual([user.hasMobile, user.mobileVerifiedAt, user.mobile], [false, null, null]);
    const { code } = app.wechat.issuePhoneCode({ phoneNumber: '13912345678' });
    const res = await app.request('POST', '/wechat/phone', { token, body: { code } });
    assert.equal(res.status, 200, res.text);

    const text = await rowText(app.db, user.id);
    for (const fragment of ['13912345678', '912345678', '1391234']) assert.ok(!text.includes(fragment), `${fragment} readable in the row: ${text}`);
    const [row] = await app.db.query<{ mobile: string; mobile_hash: string; mobile_verified_at: Date }>('SELECT mobile, mobile_hash, mobile_verified_at FROM wechat_user WHERE id = $1', [user.id]);
    assert.equal(cipher.open(row.mobile, MOBILE_PURPOSE), '13912345678');
    assert.ok(cipher.lookupHashes(normalizeMobile('139 1234 5678'), MOBILE_PURPOSE).includes(row.mobile_hash), 'found by its lookup hash');
    assert.ok(Math.abs(row.mobile_verified_at.getTime() - Date.now()) < 60_000);

    const me = await app.request('GET', '/users/me', { token });
    assert.deepEqual([me.body.mobile, me.body.hasMobile], ['13912345678', true]);
    assert.equal(me.body.mobileVerifiedAt, row.mobile_verified_at.toISOString());
    const again = await app.login({ openId: user.openId }, 'code');
    assert.equal(again.body.user.mobile, '13912345678', "the login answer is the owner's too");

    const log = app.logLines.join('');
    assert.ok(!log.includes('13912345678') && !log.includes('912345678'), 'the full number is in the log');
    assert.ok(log.includes('139****5678'), 'the masked number is in the log');
  });

  test('deleting the account clears the number, its hash and its time', async () => {
    const login = await app.login({ openId: `oMobileDel${Date.now()}` }, 'code');
    const { code } = app.wechat.issuePhoneCode({ phoneNumber: '13700001111' });
    assert.equal((await app.request('POST', '/wechat/phone', { token: login.body.token, body: { code } })).status, 200);
    assert.equal((await app.request('DELETE', '/users/me', { token: login.body.token })).status, 204);
    const [row] = await app.db.query('SELECT mobile, mobile_hash, mobile_verified_at FROM wechat_user WHERE id = $1', [login.body.user.id]);
    assert.deepEqual(row, { mobile: null, mobile_hash: null, mobile_verified_at: null });
  });
});

describe('the migration encrypting numbers stored before', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    // The schema as it was before: only the first migration.
    const old = new DataSource({ type: 'postgres', url: db.url, migrations: MIGRATIONS.slice(0, 1) });
    await old.initialize();
    await old.runMigrations();
    await old.destroy();
    await db.query(`INSERT INTO wechat_user (open_id, nickname, mobile) VALUES ('oLegacy1', 'One', '13800138000'), ('oLegacy2', 'Two', NULL), ('oLegacy3', 'Three', '+1 5551234567')`);
  });
  after(async () => {
    await db?.drop();
  });

  test('without a key it refuses (naming DATA_ENCRYPTION_KEY) and changes nothing', async () => {
    const cli = new DataSource({ type: 'postgres', url: db.url, migrations: MIGRATIONS });
    await cli.initialize();
    try {
      await assert.rejects(cli.runMigrations({ transaction: 'each' }), /DATA_ENCRYPTION_KEY/);
    } finally {
      await cli.destroy();
    }
    const rows = await db.query<{ mobile: string | null }>('SELECT mobile FROM wechat_user ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.mobile),
      ['13800138000', null, '+1 5551234567'],
    );
  });

  test('with the key: every row kept, every number encrypted and readable by its owner', async () => {
    const cli = new DataSource({ type: 'postgres', url: db.url, migrations: MIGRATIONS });
    await cli.initialize();
    provideMigrationCipher(cli, cipher);
    try {
      await cli.runMigrations({ transaction: 'each' });
    } finally {
      await cli.destroy();
    }
    const rows = await db.query<{ id: number; open_id: string; nickname: string; mobile: string | null; mobile_hash: string | null }>(
      'SELECT id, open_id, nickname, mobile, mobile_hash FROM wechat_user ORDER BY id',
    );
    assert.deepEqual(
      rows.map((r) => [r.open_id, r.nickname]),
      [
        ['oLegacy1', 'One'],
        ['oLegacy2', 'Two'],
        ['oLegacy3', 'Three'],
      ],
    );
    assert.deepEqual(
      rows.map((r) => (r.mobile ? cipher.open(r.mobile, MOBILE_PURPOSE) : null)),
      ['13800138000', null, '+1 5551234567'],
    );
    assert.equal(rows[1].mobile_hash, null);
    for (const r of rows) assert.ok(!(await rowText(db, r.id)).includes('5551234567') && !(await rowText(db, r.id)).includes('138001'));

    const app = await startTestApp({ db });
    try {
      const login = await app.login({ openId: 'oLegacy3' }, 'code');
      assert.equal(login.status, 200, login.text);
      assert.deepEqual([login.body.user.mobile, login.body.user.hasMobile, login.body.user.mobileVerifiedAt], ['+1 5551234567', true, null]);
    } finally {
      await app.close();
    }
  });
});
