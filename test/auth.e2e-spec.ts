import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/auth/authenticated-user';
import { rawHttp } from './support/raw-http';
import { startTestApp, TEST_APPID, TEST_JWT_SECRET, type HttpAnswer, type TestApp, USER_FIELDS } from './support/test-app';
import type { WechatUserRow } from './support/test-database';

/** Guarded endpoints, `User`, UNAUTHORIZED, and the row behind them. */

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Issuer and audience as the service sets them: tokens below differ from real ones only where a test says so. */
const OURS = { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE };
const b64url = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** Waits into the next wall-clock second, so a token issued now gets a later `iat` (a different token). */
const nextSecond = () => new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));

type UserRow = WechatUserRow;

function assertUnauthorized(answer: HttpAnswer, label: string): void {
  assert.equal(answer.status, 401, `${label}: ${answer.text}`);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, label);
  assert.deepEqual(Object.keys(answer.body ?? {}).sort(), ['code', 'message', 'statusCode'], `${label}: ${answer.text}`);
  assert.equal(answer.body.statusCode, 401, label);
  assert.equal(answer.body.code, 'UNAUTHORIZED', `${label}: ${answer.text}`);
  assert.doesNotMatch(answer.text, /stack|\n\s+at\s/i, label);
}

function assertValidationFailed(answer: HttpAnswer, field: string, label = field): void {
  assert.equal(answer.status, 400, `${label}: ${answer.text}`);
  assert.deepEqual(Object.keys(answer.body ?? {}).sort(), ['code', 'message', 'statusCode'], `${label}: ${answer.text}`);
  assert.equal(answer.body.code, 'VALIDATION_FAILED', label);
  assert.equal(answer.body.statusCode, 400, label);
  assert.match(answer.body.message, new RegExp(`\\b${field}\\b`), `${label}: message must name ${field}: ${answer.body.message}`);
}

describe('auth: tokens, the current user, logout, deletion', () => {
  let app: TestApp;

  const row = async (id: number): Promise<UserRow> => {
    const rows = await app.db.query<UserRow>('SELECT * FROM wechat_user WHERE id = $1', [id]);
    assert.equal(rows.length, 1, `no row ${id}`);
    return rows[0];
  };
  const me = (token: string) => app.request('GET', '/users/me', { token });
  const meWithAuth = (authorization: string) => app.request('GET', '/users/me', { headers: { authorization } });

  /** A login that must succeed; returns token and user. */
  async function login(input?: Parameters<TestApp['login']>[0], parts?: 'all' | 'code'): Promise<{ token: string; user: any }> {
    const answer = await app.login(input, parts);
    assert.equal(answer.status, 200, answer.text);
    return { token: answer.body.token, user: answer.body.user };
  }

  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });

  describe('GET /users/me', () => {
    test('returns exactly the contract User, matching the row', async () => {
      const { token, user } = await login({ nickName: 'Alice', unionId: 'uAlice-union', gender: 2, country: 'China', province: 'Zhejiang', city: 'Hangzhou', avatarUrl: 'https://example.com/a.png' });
      const answer = await me(token);
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
      const body = answer.body;
      assert.deepEqual(Object.keys(body).sort(), USER_FIELDS, `unexpected fields: ${answer.text}`);
      for (const secret of ['tokenVersion', 'token_version', 'deletedAt', 'deleted_at', 'sessionKey', 'session_key']) {
        assert.ok(!answer.text.includes(secret), `${secret} leaked: ${answer.text}`);
      }
      assert.equal(typeof body.id, 'number');
      assert.equal(body.id, user.id);
      assert.deepEqual(body, user, 'GET /users/me and the login answer describe the same user');
      assert.equal(body.nickname, 'Alice');
      assert.equal(body.unionId, 'uAlice-union');
      assert.equal(body.gender, 2);
      assert.equal(body.country, 'China');
      assert.equal(body.province, 'Zhejiang');
      assert.equal(body.city, 'Hangzhou');
      assert.equal(body.avatarUrl, 'https://example.com/a.png');
      assert.equal(body.mobile, null);
      for (const key of ['createdAt', 'updatedAt']) {
        assert.match(body[key], ISO_8601, `${key}: ${body[key]}`);
        assert.ok(Math.abs(Date.parse(body[key]) - Date.now()) < 60_000, `${key} is not about now: ${body[key]}`);
      }
      const r = await row(body.id);
      assert.equal(r.open_id, body.openId);
      assert.equal(r.union_id, body.unionId);
      assert.equal(r.nickname, body.nickname);
    });

    test('a code-only first login gives nulls for every profile field', async () => {
      const { token } = await login({}, 'code');
      const answer = await me(token);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(Object.keys(answer.body).sort(), USER_FIELDS);
      for (const key of ['unionId', 'nickname', 'avatarUrl', 'gender', 'country', 'province', 'city', 'mobile']) {
        assert.equal(answer.body[key], null, `${key}: ${answer.text}`);
      }
    });
  });

  describe('forged and invalid tokens → 401 UNAUTHORIZED', () => {
    let alice: { token: string; user: any };
    let bob: { token: string; user: any };
    let version: number;
    before(async () => {
      alice = await login({ nickName: 'Forge-Alice' });
      bob = await login({ nickName: 'Forge-Bob' });
      version = (await row(alice.user.id)).token_version;
    });

    test('control: a token built here with the right key, HS256 and the right claims is accepted', async () => {
      // Proves the forging below is meaningful: only the one thing each case changes makes it fail.
      const token = jwt.sign({ sub: String(alice.user.id), ver: version }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600 });
      const answer = await me(token);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.id, alice.user.id);
    });

    test('the login token carries sub, ver and its mini program only, and no session_key', () => {
      const payload = jwt.decode(alice.token) as Record<string, unknown>;
      assert.equal(payload.sub, String(alice.user.id));
      assert.deepEqual(Object.keys(payload).sort(), ['app', 'aud', 'exp', 'iat', 'iss', 'sub', 'ver']);
      assert.equal(payload.app, TEST_APPID);
      assert.equal(payload.iss, TOKEN_ISSUER);
      assert.equal(payload.aud, TOKEN_AUDIENCE);
      const header = JSON.parse(Buffer.from(alice.token.split('.')[0], 'base64url').toString());
      assert.equal(header.alg, 'HS256');
    });

    test('missing Authorization header', async () => {
      assertUnauthorized(await app.request('GET', '/users/me'), 'missing');
    });
    test('"Bearer" with nothing', async () => {
      assertUnauthorized(await meWithAuth('Bearer'), 'Bearer');
      assertUnauthorized(await meWithAuth('Bearer    '), 'Bearer + spaces');
    });
    test('empty Authorization header', async () => {
      assertUnauthorized(await meWithAuth(''), 'empty');
    });
    test('not a JWT', async () => {
      assertUnauthorized(await me('not-a-jwt'), 'not-a-jwt');
      assertUnauthorized(await me('a.b.c'), 'a.b.c');
      assertUnauthorized(await me('....'), 'dots');
      assertUnauthorized(await me(b64url({ alg: 'HS256' })), 'header only');
    });
    test('alg: none (unsigned) token', async () => {
      const claims = { sub: String(alice.user.id), ver: version, iat: nowSeconds(), exp: nowSeconds() + 600 };
      const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
      assertUnauthorized(await me(unsigned), 'alg none');
      assertUnauthorized(await me(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}`), 'alg none, two parts');
      assertUnauthorized(await me(`${b64url({ alg: 'NONE', typ: 'JWT' })}.${b64url(claims)}.`), 'alg NONE');
      // Right signature bytes of a real token glued to an alg:none header.
      assertUnauthorized(await me(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.${alice.token.split('.')[2]}`), 'alg none + signature');
    });
    test('signed with another key', async () => {
      const token = jwt.sign({ sub: String(alice.user.id), ver: version }, 'another-secret-that-is-long-enough-0123456789', { ...OURS, algorithm: 'HS256', expiresIn: 600 });
      assertUnauthorized(await me(token), 'other key');
    });
    test('HS512 with the right key (algorithm not allowed)', async () => {
      const token = jwt.sign({ sub: String(alice.user.id), ver: version }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS512', expiresIn: 600 });
      assertUnauthorized(await me(token), 'HS512');
      const hs384 = jwt.sign({ sub: String(alice.user.id), ver: version }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS384', expiresIn: 600 });
      assertUnauthorized(await me(hs384), 'HS384');
    });
    test('expired token (right key)', async () => {
      const token = jwt.sign({ sub: String(alice.user.id), ver: version, iat: nowSeconds() - 7200, exp: nowSeconds() - 60 }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256' });
      assertUnauthorized(await me(token), 'expired');
    });
    test('token whose not-before lies in the future (right key)', async () => {
      const token = jwt.sign({ sub: String(alice.user.id), ver: version }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600, notBefore: 3600 });
      assertUnauthorized(await me(token), 'nbf');
    });
    test('tampered payload: sub changed to another user, signature kept', async () => {
      const [header, payload, signature] = alice.token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      claims.sub = String(bob.user.id);
      const tampered = `${header}.${b64url(claims)}.${signature}`;
      assert.notEqual(tampered, alice.token);
      assertUnauthorized(await me(tampered), 'tampered sub');
      // Only the version bumped: still refused.
      claims.sub = String(alice.user.id);
      claims.ver = version + 1;
      assertUnauthorized(await me(`${header}.${b64url(claims)}.${signature}`), 'tampered ver');
    });
    test('tampered signature', async () => {
      const [header, payload, signature] = alice.token.split('.');
      const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
      assertUnauthorized(await me(`${header}.${payload}.${flipped}`), 'flipped signature');
      assertUnauthorized(await me(`${header}.${payload}.`), 'no signature');
    });
    test('valid signature, sub of a user that does not exist', async () => {
      for (const sub of ['999999', '0', '-1', 'abc', '1.5', '9007199254740993']) {
        const token = jwt.sign({ sub, ver: 0 }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600 });
        assertUnauthorized(await me(token), `sub ${sub}`);
      }
      const noSub = jwt.sign({ ver: 0 }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600 });
      assertUnauthorized(await me(noSub), 'no sub');
    });
    test('valid signature and user, but a wrong or missing token version', async () => {
      for (const ver of [version + 1, version - 1, '0', null]) {
        const token = jwt.sign({ sub: String(alice.user.id), ver }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600 });
        assertUnauthorized(await me(token), `ver ${JSON.stringify(ver)}`);
      }
      const noVer = jwt.sign({ sub: String(alice.user.id) }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600 });
      assertUnauthorized(await me(noVer), 'no ver');
    });
    test('right key but no exp (a token that would never expire)', async () => {
      const token = jwt.sign({ sub: String(alice.user.id), ver: version }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256' });
      assert.equal(jwt.decode(token, { json: true })!.exp, undefined);
      assertUnauthorized(await me(token), 'no exp');
    });
    test('right key but a crit header', async () => {
      const token = jwt.sign({ sub: String(alice.user.id), ver: version }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600, header: { alg: 'HS256', crit: ['exp'] } as any });
      assertUnauthorized(await me(token), 'crit');
    });
    test('right key but iat in the future beyond 60 s of skew; within it is fine', async () => {
      const ahead = jwt.sign({ sub: String(alice.user.id), ver: version, iat: nowSeconds() + 365 * 86400, exp: nowSeconds() + 400 * 86400 }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256' });
      assertUnauthorized(await me(ahead), 'iat a year ahead');
      const skewed = jwt.sign({ sub: String(alice.user.id), ver: version, iat: nowSeconds() + 30, exp: nowSeconds() + 600 }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256' });
      assert.equal((await me(skewed)).status, 200, 'iat 30 s ahead is clock skew');
    });
    test('right key but a foreign issuer or audience, or none', async () => {
      const claims = { sub: String(alice.user.id), ver: version };
      for (const [label, options] of [
        ['foreign iss', { issuer: 'someone-else', audience: TOKEN_AUDIENCE }],
        ['foreign aud', { issuer: TOKEN_ISSUER, audience: 'another-api' }],
        ['no iss', { audience: TOKEN_AUDIENCE }],
        ['no aud', { issuer: TOKEN_ISSUER }],
      ] as const) {
        assertUnauthorized(await me(jwt.sign(claims, TEST_JWT_SECRET, { ...options, algorithm: 'HS256', expiresIn: 600 })), label);
      }
    });
    test('right key but a sub that is not a plain decimal id: 401, never 500', async () => {
      const id = String(alice.user.id);
      for (const sub of [
        `0${id}`,
        `${id}e0`,
        ` ${id}`,
        `+${id}`,
        [Number(id)],
        Number(id),
        true,
        null,
        '9007199254740991',
        '9007199254740992',
        '9223372036854775807',
        '9223372036854775808',
        '1'.repeat(40),
      ]) {
        const token = jwt.sign({ sub, ver: version } as any, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600 });
        assertUnauthorized(await me(token), `sub ${JSON.stringify(sub)}`);
      }
    });
    test('wrong scheme', async () => {
      assertUnauthorized(await meWithAuth(`Basic ${alice.token}`), 'Basic');
      assertUnauthorized(await meWithAuth(`Basic ${Buffer.from('user:pass').toString('base64')}`), 'Basic user:pass');
      assertUnauthorized(await meWithAuth(`Token ${alice.token}`), 'Token');
      assertUnauthorized(await meWithAuth(alice.token), 'no scheme');
    });
    test('anything after the token, or a separator other than spaces → 401', async () => {
      assertUnauthorized(await meWithAuth(`Bearer ${alice.token} trailing-garbage`), 'trailing text');
      assertUnauthorized(await meWithAuth(`Bearer ${alice.token} ${alice.token}`), 'two tokens');
      assertUnauthorized(await meWithAuth(`Bearer ${alice.token}, Basic dXNlcjpwYXNz`), 'a second credential');
      assertUnauthorized(await meWithAuth(`Bearer\t${alice.token}`), 'a tab after the scheme');
      assertUnauthorized(await meWithAuth(`Bearer${alice.token}`), 'no space after the scheme');
      assertUnauthorized(await meWithAuth(`Bearerx ${alice.token}`), 'a longer scheme');
      assertUnauthorized(await meWithAuth(`x Bearer ${alice.token}`), 'text before the scheme');
    });
    test('the scheme in any case, several spaces, and whitespace around the value are accepted', async () => {
      for (const authorization of [`bearer ${alice.token}`, `BEARER ${alice.token}`, `bEaReR ${alice.token}`, `Bearer    ${alice.token}`]) {
        const answer = await meWithAuth(authorization);
        assert.equal(answer.status, 200, `${authorization.slice(0, 12)}…: ${answer.text}`);
      }
      // fetch trims header values itself: the spaces and tab must reach the server as written.
      const raw = await rawHttp(app.baseUrl, [`GET /users/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization:  Bearer ${alice.token} \t \r\n\r\n`]);
      assert.equal(raw.status, 200, raw.text);
      assert.equal(raw.body.id, alice.user.id);
    });
    test('the token in the query string is not accepted', async () => {
      assertUnauthorized(await app.request('GET', `/users/me?access_token=${alice.token}`), 'query');
    });
    test('after all that the real tokens still work', async () => {
      assert.equal((await me(alice.token)).status, 200);
      assert.equal((await me(bob.token)).status, 200);
    });
  });

  describe('PATCH /users/me', () => {
    let token: string;
    let id: number;
    before(async () => {
      const l = await login({ nickName: 'Patchy', gender: 1, country: 'China', province: 'Guangdong', city: 'Shenzhen', avatarUrl: 'https://example.com/p.png' });
      token = l.token;
      id = l.user.id;
    });

    const patch = (body: unknown) => app.request('PATCH', '/users/me', { token, body });
    /** The fake WeChat's verdict on a pending avatar comes back asynchronously: let it land before the next test. */
    const verdictLanded = async () => {
      for (const deadline = Date.now() + 15_000; (await me(token)).body.avatarPending;) {
        assert.ok(Date.now() < deadline, 'the image check verdict never came');
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    /**
     * Runs `look` while the fake WeChat holds its image verdicts back (they are delivered afterwards):
     * what the app stored before the verdict can be read however fast the verdict would come.
     */
    const beforeVerdict = async (look: () => Promise<void>) => {
      const deliver = app.wechat.onMediaVerdict;
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      app.wechat.onMediaVerdict = async (push) => {
        await released;
        await deliver?.(push);
      };
      try {
        await look();
      } finally {
        app.wechat.onMediaVerdict = deliver;
        release();
      }
    };

    const updates: [field: string, column: keyof UserRow, value: unknown][] = [
      ['nickname', 'nickname', 'New Nick 新昵称'],
      ['gender', 'gender', 2],
      ['gender', 'gender', 0],
      ['country', 'country', 'Iceland'],
      ['province', 'province', 'Höfuðborgarsvæðið'],
      ['city', 'city', 'Reykjavík'],
    ];
    for (const [field, column, value] of updates) {
      test(`${field} = ${JSON.stringify(value)}: response and row updated, other fields kept`, async () => {
        const before = await me(token);
        const answer = await patch({ [field]: value });
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(Object.keys(answer.body).sort(), USER_FIELDS);
        assert.equal(answer.body[field], value);
        for (const other of USER_FIELDS.filter((k) => k !== field && k !== 'updatedAt')) {
          assert.deepEqual(answer.body[other], before.body[other], `${other} changed by a PATCH of ${field}`);
        }
        assert.ok(Date.parse(answer.body.updatedAt) >= Date.parse(before.body.updatedAt));
        assert.equal((await row(id))[column], value);
        assert.deepEqual((await me(token)).body, answer.body);
      });
    }

    test("avatarUrl: answered pending, the approved avatar kept until WeChat's image check decides", async () => {
      const before = await me(token);
      const value = 'https://cdn.example.com/avatars/42.png?size=132';
      await beforeVerdict(async () => {
        const answer = await patch({ avatarUrl: value });
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual([answer.body.avatarUrl, answer.body.avatarPending], [before.body.avatarUrl, true]);
        assert.equal((await row(id)).avatar_url, before.body.avatarUrl);
        assert.equal(((await row(id)) as UserRow & { avatar_pending_url: string }).avatar_pending_url, value);
      });
      await verdictLanded();
    });

    test('several fields at once', async () => {
      const answer = await patch({ nickname: 'Multi', city: 'Chengdu', gender: 1 });
      assert.equal(answer.status, 200, answer.text);
      const r = await row(id);
      assert.deepEqual([r.nickname, r.city, r.gender], ['Multi', 'Chengdu', 1]);
    });

    test('boundaries that are allowed: nickname of 64, avatarUrl of 500, city of 100', async () => {
      const nickname = 'n'.repeat(64);
      const avatarUrl = 'https://example.com/' + 'a'.repeat(500 - 'https://example.com/'.length);
      assert.equal(avatarUrl.length, 500);
      await beforeVerdict(async () => {
        const answer = await patch({ nickname, avatarUrl, city: 'c'.repeat(100) });
        assert.equal(answer.status, 200, answer.text);
        const r = await row(id);
        assert.equal(r.nickname, nickname);
        assert.equal((r as UserRow & { avatar_pending_url: string }).avatar_pending_url, avatarUrl);
        assert.equal(r.city, 'c'.repeat(100));
      });
      await verdictLanded();
    });

    test('validation errors name the field and change nothing', async () => {
      const snapshot = await row(id);
      const cases: [body: object, field: string, label: string][] = [
        [{ nickname: 'n'.repeat(65) }, 'nickname', 'nickname > 64'],
        [{ nickname: 42 }, 'nickname', 'nickname not a string'],
        [{ avatarUrl: 'http://example.com/a.png' }, 'avatarUrl', 'avatarUrl http'],
        [{ avatarUrl: 'https://example.com/' + 'a'.repeat(481) }, 'avatarUrl', 'avatarUrl > 500'],
        [{ avatarUrl: 'javascript:alert(1)' }, 'avatarUrl', 'avatarUrl javascript:'],
        [{ avatarUrl: 'not a url' }, 'avatarUrl', 'avatarUrl not a URL'],
        [{ avatarUrl: 'https://user:pw@example.com/a.png' }, 'avatarUrl', 'avatarUrl with a user name and password'],
        [{ avatarUrl: 'https://user@example.com/a.png' }, 'avatarUrl', 'avatarUrl with a user name'],
        [{ avatarUrl: 'https://127.0.0.1:8443/a.png' }, 'avatarUrl', 'avatarUrl on an IPv4 address'],
        [{ avatarUrl: 'https://169.254.169.254/latest' }, 'avatarUrl', 'avatarUrl on a link-local address'],
        [{ avatarUrl: 'https://[::1]/a.png' }, 'avatarUrl', 'avatarUrl on an IPv6 address'],
        [{ avatarUrl: 'https://localhost/a.png' }, 'avatarUrl', 'avatarUrl on localhost'],
        [{ gender: 3 }, 'gender', 'gender 3'],
        [{ gender: -1 }, 'gender', 'gender -1'],
        [{ gender: '1' }, 'gender', 'gender "1"'],
        [{ gender: 1.5 }, 'gender', 'gender 1.5'],
        [{ country: 'x'.repeat(101) }, 'country', 'country > 100'],
        [{ province: 'x'.repeat(101) }, 'province', 'province > 100'],
        [{ city: 'x'.repeat(101) }, 'city', 'city > 100'],
        [{ mobile: '13800138000' }, 'mobile', 'mobile is not patchable'],
        [{ unionId: 'u' }, 'unionId', 'unionId is not patchable'],
        [{ id: 1 }, 'id', 'id is not patchable'],
        [{ favouriteColour: 'blue' }, 'favouriteColour', 'unknown field'],
        [{ nickname: 'ok', extra: 1 }, 'extra', 'valid field + unknown field'],
      ];
      for (const [body, field, label] of cases) {
        assert.equal(JSON.stringify(body).length < 1000, true);
        assertValidationFailed(await patch(body), field, label);
      }
      const after = await row(id);
      assert.deepEqual(after, snapshot, 'a rejected PATCH changed the row');
    });

    test('an empty object → 200, unchanged', async () => {
      const snapshot = await row(id);
      const before = await me(token);
      const answer = await patch({});
      assert.equal(answer.status, 200, answer.text);
      for (const key of USER_FIELDS.filter((k) => k !== 'updatedAt')) assert.deepEqual(answer.body[key], before.body[key], key);
      const after = await row(id);
      for (const key of ['nickname', 'avatar_url', 'gender', 'country', 'province', 'city', 'mobile', 'union_id', 'open_id', 'token_version'] as const) {
        assert.deepEqual(after[key], snapshot[key], key);
      }
    });

    test('no body at all → 200, unchanged', async () => {
      const before = await me(token);
      const answer = await app.request('PATCH', '/users/me', { token });
      assert.equal(answer.status, 200, answer.text);
      for (const key of USER_FIELDS.filter((k) => k !== 'updatedAt')) assert.deepEqual(answer.body[key], before.body[key], key);
    });

    test('a profile-less login afterwards keeps the patched profile', async () => {
      const before = (await me(token)).body;
      assert.equal(before.nickname, 'n'.repeat(64));
      const again = await login({ openId: before.openId }, 'code');
      assert.equal(again.user.id, id);
      for (const key of USER_FIELDS.filter((k) => k !== 'updatedAt')) assert.deepEqual(again.user[key], before[key], key);
    });
  });

  describe('POST /auth/logout', () => {
    test('204; the old token → 401; a new login gives a working token', async () => {
      const first = await login({ nickName: 'Leaver' });
      const out = await app.request('POST', '/auth/logout', { token: first.token });
      assert.equal(out.status, 204, out.text);
      assert.equal(out.text, '');
      assertUnauthorized(await me(first.token), 'token after logout');
      assertUnauthorized(await app.request('POST', '/auth/logout', { token: first.token }), 'logout twice');
      assertUnauthorized(await app.request('PATCH', '/users/me', { token: first.token, body: { nickname: 'x' } }), 'PATCH after logout');

      const second = await login({ openId: first.user.openId }, 'code');
      assert.equal(second.user.id, first.user.id);
      assert.notEqual(second.token, first.token);
      const answer = await me(second.token);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.nickname, 'Leaver', 'logout does not touch the profile');
      assertUnauthorized(await me(first.token), 'old token after a new login');
    });

    test('logout with token A also kills token B issued earlier to the same user', async () => {
      const b = await login({ nickName: 'Multi-device' });
      const { openId, id } = b.user;
      // A second device, a little later (a different iat, so a different token).
      await nextSecond();
      const a = await login({ openId }, 'code');
      assert.equal(a.user.id, id);
      assert.notEqual(a.token, b.token);
      assert.equal((await me(b.token)).status, 200);
      assert.equal((await me(a.token)).status, 200);

      const before = (await row(id)).token_version;
      const out = await app.request('POST', '/auth/logout', { token: a.token });
      assert.equal(out.status, 204);
      assertUnauthorized(await me(a.token), 'token A');
      assertUnauthorized(await me(b.token), 'token B (earlier, other device)');
      assert.ok((await row(id)).token_version > before, 'token_version was not bumped in the table');
    });

    test("logout of one user leaves another user's token working", async () => {
      const u1 = await login({ nickName: 'One' });
      const u2 = await login({ nickName: 'Two' });
      assert.equal((await app.request('POST', '/auth/logout', { token: u1.token })).status, 204);
      assertUnauthorized(await me(u1.token), 'u1');
      const answer = await me(u2.token);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.nickname, 'Two');
    });
  });

  describe('routes without a body (POST /auth/logout, DELETE /users/me)', () => {
    const json = { 'content-type': 'application/json' };
    const routes = [
      ['POST', '/auth/logout'],
      ['DELETE', '/users/me'],
    ] as const;

    for (const [method, path] of routes) {
      test(`${method} ${path}: unknown fields or a body that is no object → 400 VALIDATION_FAILED, nothing done`, async () => {
        const user = await login({ nickName: 'Body Tester' });
        const before = await row(user.user.id);
        for (const [rawBody, field] of [
          ['{"x":1}', 'x'],
          ['{"x":1,"all":true}', 'all'],
        ]) {
          const answer = await app.request(method, path, { token: user.token, rawBody, headers: json });
          assertValidationFailed(answer, field, `${method} ${path} ${rawBody}`);
          assert.match(answer.body.message, new RegExp(`property ${field} should not exist`));
        }
        for (const rawBody of ['[]', '[1]', '"x"', '5', 'true']) {
          const answer = await app.request(method, path, { token: user.token, rawBody, headers: json });
          assert.equal(answer.status, 400, `${method} ${path} ${rawBody}: ${answer.text}`);
          assert.equal(answer.body.code, 'VALIDATION_FAILED', `${method} ${path} ${rawBody}`);
          assert.equal(answer.body.message, 'request body must be a JSON object');
        }
        assert.deepEqual(await row(user.user.id), before, 'a refused request changed the row');
        assert.equal((await me(user.token)).status, 200, 'the token still works');
        // The token is checked first, as on every guarded route.
        assertUnauthorized(await app.request(method, path, { rawBody: '{"x":1}', headers: json }), `${method} ${path} without a token`);
      });

      for (const [label, options] of [
        ['no body', {}],
        ['an empty body with content-type application/json', { rawBody: '', headers: json }],
        ['{}', { body: {} }],
        ['null', { rawBody: 'null', headers: json }],
      ] as const) {
        test(`${method} ${path} with ${label} → 204`, async () => {
          const user = await login({ nickName: 'Body Tester' });
          const answer = await app.request(method, path, { token: user.token, ...options });
          assert.equal(answer.status, 204, answer.text);
          assertUnauthorized(await me(user.token), `${method} ${path} done`);
        });
      }
    }
  });

  describe('DELETE /users/me', () => {
    test('soft-deletes, clears personal data, revokes every token; a later login reactivates the same id, empty', async () => {
      const earlier = await login({ nickName: 'Doomed', unionId: 'uDoomed-union', gender: 1, country: 'China', province: 'Beijing', city: 'Beijing', avatarUrl: 'https://example.com/d.png' });
      const { id, openId } = earlier.user;
      await nextSecond();
      const current = await login({ openId, unionId: 'uDoomed-union', nickName: 'Doomed', gender: 1, city: 'Beijing' });
      assert.equal(current.user.id, id);
      assert.notEqual(current.token, earlier.token);

      // Give the user a mobile, so clearing it is observable.
      const { code } = app.wechat.issuePhoneCode({ phoneNumber: '13912345678' });
      const phone = await app.request('POST', '/wechat/phone', { token: current.token, body: { code } });
      assert.equal(phone.status, 200, phone.text);
      const full = await row(id);
      assert.match(full.mobile ?? '', /^v1\./, 'stored encrypted');
      assert.equal(full.union_id, 'uDoomed-union');
      assert.equal(full.nickname, 'Doomed');
      assert.equal(full.deleted_at, null);

      const del = await app.request('DELETE', '/users/me', { token: current.token });
      assert.equal(del.status, 204, del.text);
      assert.equal(del.text, '');

      const gone = await row(id);
      assert.ok(gone.deleted_at instanceof Date, 'deleted_at is not set');
      assert.ok(Math.abs(gone.deleted_at.getTime() - Date.now()) < 60_000);
      for (const column of ['nickname', 'avatar_url', 'gender', 'country', 'province', 'city', 'mobile', 'union_id'] as const) {
        assert.equal(gone[column], null, `${column} not cleared`);
      }
      assert.equal(gone.open_id, openId, 'the openid stays, so the account can be reactivated');

      assertUnauthorized(await me(current.token), 'the token used to delete');
      assertUnauthorized(await me(earlier.token), 'an earlier token');
      assertUnauthorized(await app.request('DELETE', '/users/me', { token: current.token }), 'delete twice');
      assertUnauthorized(await app.request('PATCH', '/users/me', { token: current.token, body: { nickname: 'Zombie' } }), 'PATCH after delete');
      assertUnauthorized(await app.request('POST', '/auth/logout', { token: current.token }), 'logout after delete');
      assert.equal((await row(id)).nickname, null, 'a PATCH with a revoked token wrote to the row');

      // A code-only login of the same openid: the same account, empty.
      const back = await login({ openId }, 'code');
      assert.equal(back.user.id, id, 'reactivation must reuse the same id');
      assert.equal(back.user.openId, openId);
      for (const key of ['unionId', 'nickname', 'avatarUrl', 'gender', 'country', 'province', 'city', 'mobile']) {
        assert.equal(back.user[key], null, `${key} survived the deletion: ${JSON.stringify(back.user)}`);
      }
      const revived = await row(id);
      assert.equal(revived.deleted_at, null);
      assert.equal(revived.mobile, null);
      const rows = await app.db.query('SELECT id FROM wechat_user WHERE open_id = $1', [openId]);
      assert.equal(rows.length, 1, 'one row per openid');

      const meAgain = await me(back.token);
      assert.equal(meAgain.status, 200, meAgain.text);
      assert.equal(meAgain.body.id, id);
      assert.equal(meAgain.body.nickname, null);

      // Tokens from before the deletion stay dead after the reactivation.
      assertUnauthorized(await me(current.token), 'pre-delete token after reactivation');
      assertUnauthorized(await me(earlier.token), 'earlier pre-delete token after reactivation');
      // And a token forged with the pre-delete version, even correctly signed, too.
      const oldVer = jwt.sign({ sub: String(id), ver: full.token_version }, TEST_JWT_SECRET, { ...OURS, algorithm: 'HS256', expiresIn: 600 });
      assertUnauthorized(await me(oldVer), 'pre-delete version');
    });
  });

  describe('isolation between users', () => {
    test("two users never see or change each other's data", async () => {
      const a = await login({ nickName: 'Ann', unionId: 'uAnn', city: 'Xiamen' });
      const b = await login({ nickName: 'Ben', unionId: 'uBen', city: 'Dalian' });
      assert.notEqual(a.user.id, b.user.id);

      const meA = await me(a.token);
      const meB = await me(b.token);
      assert.equal(meA.body.id, a.user.id);
      assert.equal(meA.body.nickname, 'Ann');
      assert.equal(meB.body.id, b.user.id);
      assert.equal(meB.body.nickname, 'Ben');
      assert.ok(!meA.text.includes('Ben') && !meA.text.includes('uBen') && !meA.text.includes(b.user.openId));
      assert.ok(!meB.text.includes('Ann') && !meB.text.includes('uAnn') && !meB.text.includes(a.user.openId));

      const patched = await app.request('PATCH', '/users/me', { token: a.token, body: { nickname: 'Ann2' } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.id, a.user.id);
      assert.equal((await row(b.user.id)).nickname, 'Ben');
      assert.equal((await me(b.token)).body.nickname, 'Ben');

      assert.equal((await app.request('DELETE', '/users/me', { token: a.token })).status, 204);
      const stillB = await me(b.token);
      assert.equal(stillB.status, 200);
      assert.equal(stillB.body.nickname, 'Ben');
      assert.equal((await row(b.user.id)).deleted_at, null);
      assert.equal((await row(b.user.id)).union_id, 'uBen');
    });
  });
});
