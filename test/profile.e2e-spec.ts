/**
 * Today's profile flow end to end: avatar uploads as wx.uploadFile sends them (multipart, field
 * `file`), re-encoded images served by GET /avatars/{id}, WeChat's image check (media_check_async,
 * its verdict pushed back) and text check (msg_sec_check) played by the fake WeChat over real HTTP,
 * and the rows that result. Every image is made here with sharp.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import sharp from 'sharp';
import { freeLoopbackPort } from '../src/common/system';
import { MEDIA_CHECK_ASYNC_PATH, MSG_SEC_CHECK_PATH } from '../src/sandbox/wechat-simulator';
import { readAnswer, startTestApp, type HttpAnswer, type TestApp } from './support/test-app';

const MAX_BYTES = 300_000;

/** A real image: a colour field with a yellow diagonal (colour `red` makes the sandbox judge it risky). */
async function image(format: 'png' | 'jpeg' | 'webp' | 'gif', opts: { width?: number; height?: number; color?: string } = {}): Promise<Buffer> {
  const width = opts.width ?? 800;
  const height = opts.height ?? 600;
  const stripe = Buffer.from(`<svg width="${width}" height="${height}"><path d="M0 0 L${width} ${height}" stroke="yellow" stroke-width="30"/></svg>`);
  return sharp({ create: { width, height, channels: 3, background: opts.color ?? '#1e8cc8' } })
    .composite([{ input: stripe }])
    [format]()
    .toBuffer();
}

/** Random noise: incompressible, to make uploads of an exact size. */
async function noisePng(side: number): Promise<Buffer> {
  const raw = Buffer.alloc(side * side * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

function assertError(res: HttpAnswer, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(res.body ?? {}).sort(), ['code', 'message', 'statusCode'], res.text);
  assert.equal(res.body.code, code, res.text);
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${debugLog()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let debugLog = () => '';

describe('avatar upload, image and text checks', () => {
  let app: TestApp;
  let publicBase: string;
  let seq = 0;

  before(async () => {
    const port = await freeLoopbackPort();
    publicBase = `http://127.0.0.1:${port}`;
    // With a push Token and EncodingAESKey, the fake WeChat's verdicts arrive as real safe-mode pushes.
    app = await startTestApp({
      env: {
        PORT: String(port),
        PUBLIC_BASE_URL: publicBase,
        AVATAR_MAX_BYTES: String(MAX_BYTES),
        WECHAT_PUSH_TOKEN: 'ProfileToken42',
        WECHAT_PUSH_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      },
    });
    debugLog = () =>
      '\n' +
      app.logLines
        .filter((l) => /verdict|image check|"level":50|"level":40/.test(l))
        .slice(-8)
        .join('');
  });
  after(async () => {
    await app?.close();
  });
  beforeEach(() => app.wechat.reset());

  async function newUser(): Promise<{ token: string; id: number; openId: string }> {
    const openId = `oProfile${process.pid}x${Date.now().toString(36)}x${++seq}`;
    const res = await app.login({ openId }, 'code');
    assert.equal(res.status, 200, res.text);
    return { token: res.body.token, id: res.body.user.id, openId };
  }

  /** What wx.uploadFile sends: multipart/form-data, the file under `name` (here `file`), plus formData fields. */
  async function upload(token: string | undefined, bytes: Buffer, opts: { method?: 'POST' | 'PUT'; field?: string; type?: string; fields?: Record<string, string> } = {}): Promise<HttpAnswer> {
    const form = new FormData();
    for (const [k, v] of Object.entries(opts.fields ?? {})) form.append(k, v);
    form.append(opts.field ?? 'file', new Blob([bytes], { type: opts.type ?? 'image/png' }), 'tmp_7c1f0a.png');
    return readAnswer(await fetch(`${app.baseUrl}/users/me/avatar`, { method: opts.method ?? 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: form }));
  }

  const me = async (token: string) => (await app.request('GET', '/users/me', { token })).body;
  const settled = (token: string) => eventually('the image verdict', async () => ((await me(token)).avatarPending ? undefined : me(token)));
  const checksOf = (userId: number) =>
    app.db.query<{ kind: string; trace_id: string; verdict: string; label: string | null; media_url: string | null; decided_at: Date | null }>(
      'SELECT kind, trace_id, verdict, label, media_url, decided_at FROM content_check WHERE user_id = $1 ORDER BY id',
      [userId],
    );
  const imagesOf = async (userId: number) => (await app.db.query<{ id: string }>('SELECT id FROM avatar_image WHERE user_id = $1', [userId])).map((r) => r.id);

  test("every answer that carries the owner's User (mobile number included) tells caches not to keep it", async () => {
    const user = await newUser();
    const answers: [string, HttpAnswer, number][] = [
      ['GET /users/me', await app.request('GET', '/users/me', { token: user.token }), 200],
      ['PATCH /users/me', await app.request('PATCH', '/users/me', { token: user.token, body: { city: 'Hangzhou' } }), 200],
      ['POST /users/me/avatar', await upload(user.token, await image('png')), 202],
      ['PUT /users/me/avatar', await upload(user.token, await image('jpeg'), { method: 'PUT', type: 'image/jpeg' }), 202],
    ];
    for (const [name, res, status] of answers) {
      assert.equal(res.status, status, `${name}: ${res.text}`);
      assert.equal(res.headers.get('cache-control'), 'no-store', name);
    }
    await settled(user.token);
  });

  describe('PUT|POST /users/me/avatar', () => {
    test('wx.uploadFile (POST) → 202 pending, the image check gets its URL, the pass verdict makes it the avatar', async () => {
      const user = await newUser();
      const res = await upload(user.token, await image('png'), { fields: { user: 'test' } });
      assert.equal(res.status, 202, res.text);
      assert.equal(res.body.avatarPending, true);
      assert.equal(res.body.avatarUrl, null, 'avatarUrl is the last approved one: none yet');

      const [call] = app.wechat.requests.filter((r) => r.path === MEDIA_CHECK_ASYNC_PATH);
      assert.ok(call, 'media_check_async was called');
      assert.ok(call.query.access_token);
      const body = call.body as Record<string, unknown>;
      assert.match(String(body.media_url), new RegExp(`^${publicBase}/avatars/[A-Za-z0-9_-]{22}$`));
      assert.deepEqual({ ...body, media_url: 'x' }, { media_url: 'x', media_type: 2, version: 2, scene: 1, openid: user.openId });

      const done = await settled(user.token);
      assert.equal(done.avatarUrl, body.media_url);
      const [check] = await checksOf(user.id);
      assert.deepEqual([check.kind, check.verdict, check.label, check.media_url], ['avatar', 'pass', '100', body.media_url]);
      assert.equal(check.trace_id, app.wechat.mediaVerdicts.at(-1)!.trace_id);
      assert.ok(check.decided_at);

      const served = await fetch(done.avatarUrl);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get('content-type'), 'image/jpeg');
      assert.equal(served.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      const etag = served.headers.get('etag')!;
      assert.match(etag, /^"[\w-]+"$/);
      const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 640, 480]);

      const again = await fetch(done.avatarUrl, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get('etag'), etag);
      assert.equal((await again.arrayBuffer()).byteLength, 0);
      assert.equal((await fetch(done.avatarUrl, { headers: { 'if-none-match': '"other"' } })).status, 200);
    });

    for (const format of ['jpeg', 'webp', 'gif'] as const) {
      test(`PUT with a ${format.toUpperCase()} → 202, stored as a JPEG of at most 640×640`, async () => {
        const user = await newUser();
        const res = await upload(user.token, await image(format, { width: 300, height: 900 }), { method: 'PUT', type: `image/${format}` });
        assert.equal(res.status, 202, res.text);
        const done = await settled(user.token);
        const meta = await sharp(Buffer.from(await (await fetch(done.avatarUrl)).arrayBuffer())).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 213, 640]);
      });
    }

    test('EXIF and GPS of a photo are not in the stored or served image', async () => {
      const user = await newUser();
      const photo = await sharp(await image('jpeg'))
        .withExif({ IFD0: { Make: 'LeakyPhone', Model: 'X1' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '39/1 54/1 2700/100', GPSLongitudeRef: 'E', GPSLongitude: '116/1 23/1 2900/100' } })
        .jpeg()
        .toBuffer();
      assert.ok((await sharp(photo).metadata()).exif?.includes(Buffer.from('LeakyPhone')));
      assert.equal((await upload(user.token, photo, { type: 'image/jpeg' })).status, 202);
      const done = await settled(user.token);
      const served = Buffer.from(await (await fetch(done.avatarUrl)).arrayBuffer());
      const meta = await sharp(served).metadata();
      assert.equal(meta.exif, undefined);
      assert.equal(meta.xmp, undefined);
      assert.ok(!served.includes(Buffer.from('LeakyPhone')));
      const [row] = await app.db.query<{ data: Buffer }>('SELECT data FROM avatar_image WHERE user_id = $1', [user.id]);
      assert.ok(!row.data.includes(Buffer.from('LeakyPhone')) && !row.data.includes(Buffer.from('Exif')));
    });

    test('a risky image (mostly red) is deleted and the previous avatar stays', async () => {
      const user = await newUser();
      assert.equal((await upload(user.token, await image('png'))).status, 202);
      const first = await settled(user.token);
      assert.ok(first.avatarUrl);

      const res = await upload(user.token, await image('png', { color: '#ff0000' }));
      assert.equal(res.status, 202, res.text);
      assert.equal(res.body.avatarPending, true);
      assert.equal(res.body.avatarUrl, first.avatarUrl, 'the approved avatar shows while the new one waits');
      const pendingUrl = (app.wechat.requests.filter((r) => r.path === MEDIA_CHECK_ASYNC_PATH).at(-1)!.body as { media_url: string }).media_url;

      const done = await settled(user.token);
      assert.equal(done.avatarUrl, first.avatarUrl);
      assert.equal(done.avatarPending, false);
      assertError(await readAnswer(await fetch(pendingUrl)), 404, 'NOT_FOUND');
      assert.equal((await fetch(first.avatarUrl)).status, 200);
      const checks = await checksOf(user.id);
      assert.deepEqual(
        checks.map((c) => [c.verdict, c.label]),
        [
          ['pass', '100'],
          ['risky', '20002'],
        ],
      );
      assert.equal((await imagesOf(user.id)).length, 1, 'only the approved image is stored');
    });

    test('review counts as passing (mostly green)', async () => {
      const user = await newUser();
      assert.equal((await upload(user.token, await image('png', { color: '#00ff00' }))).status, 202);
      const done = await settled(user.token);
      assert.ok(done.avatarUrl);
      assert.deepEqual(
        (await checksOf(user.id)).map((c) => c.verdict),
        ['review'],
      );
    });

    test('a newer upload replaces the approved one: the old image goes', async () => {
      const user = await newUser();
      await upload(user.token, await image('png'));
      const first = await settled(user.token);
      await upload(user.token, await image('jpeg', { color: '#3040a0' }), { type: 'image/jpeg' });
      const second = await settled(user.token);
      assert.notEqual(second.avatarUrl, first.avatarUrl);
      assert.equal((await fetch(first.avatarUrl)).status, 404);
      assert.equal((await fetch(second.avatarUrl)).status, 200);
    });

    test('a verdict WeChat pushes again changes nothing', async () => {
      const user = await newUser();
      await upload(user.token, await image('png'));
      const done = await settled(user.token);
      const push = app.wechat.mediaVerdicts.at(-1)!;
      await app.wechat.onMediaVerdict!({ ...push, result: { suggest: 'risky', label: '20002' } });
      const after = await me(user.token);
      assert.equal(after.avatarUrl, done.avatarUrl);
      assert.deepEqual(
        (await checksOf(user.id)).map((c) => c.verdict),
        ['pass'],
      );
    });

    test('a 5000×5000 image, a non-image and an SVG → 400 INVALID_IMAGE, nothing stored, no check', async () => {
      const user = await newUser();
      const bomb = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#fff' } })
        .png({ compressionLevel: 9 })
        .toBuffer();
      assert.ok(bomb.length < MAX_BYTES);
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="blue"/></svg>');
      for (const [bytes, type] of [
        [bomb, 'image/png'],
        [Buffer.from('%PDF-1.4 not an image at all'), 'image/jpeg'],
        [svg, 'image/svg+xml'],
      ] as const) {
        const res = await upload(user.token, bytes, { type });
        assertError(res, 400, 'INVALID_IMAGE');
      }
      assert.equal(app.wechat.countRequests(MEDIA_CHECK_ASYNC_PATH), 0);
      assert.deepEqual(await imagesOf(user.id), []);
      const after = await me(user.token);
      assert.equal(after.avatarPending, false);
    });

    test('over AVATAR_MAX_BYTES → 413 PAYLOAD_TOO_LARGE (streamed past the cap, and declared far past it)', async () => {
      const user = await newUser();
      const justOver = await noisePng(320);
      assert.ok(justOver.length > MAX_BYTES && justOver.length < MAX_BYTES + 64 * 1024, `${justOver.length}`);
      assertError(await upload(user.token, justOver), 413, 'PAYLOAD_TOO_LARGE');
      assertError(await upload(user.token, await noisePng(420)), 413, 'PAYLOAD_TOO_LARGE');
      assert.deepEqual(await imagesOf(user.id), []);
      assert.equal(app.wechat.countRequests(MEDIA_CHECK_ASYNC_PATH), 0);
    });

    test('the wrong field, no file, JSON, a raw image body → 400/415; no token → 401', async () => {
      const user = await newUser();
      const png = await image('png', { width: 50, height: 50 });
      assertError(await upload(user.token, png, { field: 'avatar' }), 400, 'VALIDATION_FAILED');
      const onlyFields = new FormData();
      onlyFields.append('user', 'test');
      assertError(await readAnswer(await fetch(`${app.baseUrl}/users/me/avatar`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: onlyFields })), 400, 'VALIDATION_FAILED');
      assertError(await app.request('PUT', '/users/me/avatar', { token: user.token, body: { file: 'x' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assertError(
        await readAnswer(await fetch(`${app.baseUrl}/users/me/avatar`, { method: 'PUT', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'image/png' }, body: png })),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      assertError(await upload(undefined, png), 401, 'UNAUTHORIZED');
    });

    test('multipart anywhere else is 415, as any body that is not JSON', async () => {
      const user = await newUser();
      const form = new FormData();
      form.append('code', 'abc');
      assertError(await readAnswer(await fetch(`${app.baseUrl}/wechat/login`, { method: 'POST', body: form })), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assertError(await readAnswer(await fetch(`${app.baseUrl}/users/me`, { method: 'PATCH', headers: { authorization: `Bearer ${user.token}` }, body: form })), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    test('the image check cannot start (WeChat HTTP 500) → 503, the image is not kept, nothing pending', async () => {
      const user = await newUser();
      app.wechat.fail(MEDIA_CHECK_ASYNC_PATH, { kind: 'http500' }, 1);
      assertError(await upload(user.token, await image('png')), 503, 'WECHAT_UNAVAILABLE');
      assert.deepEqual(await imagesOf(user.id), []);
      assert.equal((await me(user.token)).avatarPending, false);
      assert.deepEqual(await checksOf(user.id), []);
    });
  });

  describe('GET /avatars/{id}', () => {
    test('unknown and malformed ids → 404 NOT_FOUND (JSON), public (no token needed)', async () => {
      assertError(await app.request('GET', '/avatars/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'NOT_FOUND');
      assertError(await app.request('GET', '/avatars/..%2F..%2Fetc'), 404, 'NOT_FOUND');
      assertError(await app.request('GET', `/avatars/${'x'.repeat(300)}`), 404, 'NOT_FOUND');
    });

    test('a deleted account takes its pictures with it', async () => {
      const user = await newUser();
      await upload(user.token, await image('png'));
      const done = await settled(user.token);
      assert.equal((await fetch(done.avatarUrl)).status, 200, 'served (and so cached) before');
      assert.equal((await app.request('DELETE', '/users/me', { token: user.token })).status, 204);
      assert.deepEqual(await imagesOf(user.id), []);
      // Deleted by a trigger: instances hear of it through PostgreSQL NOTIFY, a moment later.
      await eventually('the image to be gone', async () => ((await fetch(done.avatarUrl)).status === 404 ? true : undefined));
    });
  });

  describe('PATCH /users/me with content checks', () => {
    test('a nickname passes msg_sec_check (v2, scene 1, the openid) and is stored; the check is kept', async () => {
      const user = await newUser();
      const res = await app.request('PATCH', '/users/me', { token: user.token, body: { nickname: '小明 Ming' } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.nickname, '小明 Ming');
      const [call] = app.wechat.requests.filter((r) => r.path === MSG_SEC_CHECK_PATH);
      assert.deepEqual(call.body, { content: '小明 Ming', version: 2, scene: 1, openid: user.openId });
      assert.ok(call.query.access_token);
      const [check] = await checksOf(user.id);
      assert.deepEqual([check.kind, check.verdict, check.label], ['nickname', 'pass', '100']);
      assert.match(check.trace_id, /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
    });

    test('a risky nickname → 400 CONTENT_RISKY naming the label; nothing of the PATCH is stored', async () => {
      const user = await newUser();
      await app.request('PATCH', '/users/me', { token: user.token, body: { nickname: 'Fine', city: 'Hangzhou' } });
      const res = await app.request('PATCH', '/users/me', { token: user.token, body: { nickname: 'so risky', city: 'Elsewhere' } });
      assertError(res, 400, 'CONTENT_RISKY');
      assert.match(res.body.message, /20001/);
      const after = await me(user.token);
      assert.deepEqual([after.nickname, after.city], ['Fine', 'Hangzhou']);
      assert.deepEqual(
        (await checksOf(user.id)).map((c) => c.verdict),
        ['pass', 'risky'],
      );
    });

    test('review is stored', async () => {
      const user = await newUser();
      const res = await app.request('PATCH', '/users/me', { token: user.token, body: { nickname: 'needs review' } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.nickname, 'needs review');
    });

    test('the text check fails upstream (HTTP 500, no answer, an odd answer) → 503, nothing stored', async () => {
      const user = await newUser();
      for (const fault of [{ kind: 'http500' }, { kind: 'hang' }, { kind: 'html' }, { errcode: 40003 }] as const) {
        app.wechat.fail(MSG_SEC_CHECK_PATH, fault, 1);
        assertError(await app.request('PATCH', '/users/me', { token: user.token, body: { nickname: 'Anything', city: 'X' } }), 503, 'WECHAT_UNAVAILABLE');
      }
      const after = await me(user.token);
      assert.deepEqual([after.nickname, after.city], [null, null]);
    });

    test('an unchanged nickname and other fields need no check', async () => {
      const user = await newUser();
      await app.request('PATCH', '/users/me', { token: user.token, body: { nickname: 'Same' } });
      app.wechat.reset();
      const res = await app.request('PATCH', '/users/me', { token: user.token, body: { nickname: 'Same', gender: 2 } });
      assert.equal(res.status, 200, res.text);
      assert.equal(app.wechat.countRequests(MSG_SEC_CHECK_PATH), 0);
    });

    test('a new avatarUrl goes through the image check: pending, then the avatar; a risky one is refused later', async () => {
      const user = await newUser();
      const good = await image('png');
      const bad = await image('png', { color: '#ff0000' });
      app.wechat.fetchMedia = async (url) => (url.endsWith('/good.png') ? good : url.endsWith('/bad.png') ? bad : undefined);
      const res = await app.request('PATCH', '/users/me', { token: user.token, body: { avatarUrl: 'https://cdn.example.test/good.png', city: 'Suzhou' } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.avatarUrl, res.body.avatarPending, res.body.city], [null, true, 'Suzhou']);
      const call = app.wechat.requests.find((r) => r.path === MEDIA_CHECK_ASYNC_PATH)!;
      assert.deepEqual(call.body, { media_url: 'https://cdn.example.test/good.png', media_type: 2, version: 2, scene: 1, openid: user.openId });
      assert.equal((await settled(user.token)).avatarUrl, 'https://cdn.example.test/good.png');

      await app.request('PATCH', '/users/me', { token: user.token, body: { avatarUrl: 'https://cdn.example.test/bad.png' } });
      const done = await settled(user.token);
      assert.equal(done.avatarUrl, 'https://cdn.example.test/good.png');
      assert.deepEqual(
        (await checksOf(user.id)).map((c) => [c.kind, c.verdict, c.media_url]),
        [
          ['avatar', 'pass', 'https://cdn.example.test/good.png'],
          ['avatar', 'risky', 'https://cdn.example.test/bad.png'],
        ],
      );
    });
  });
});

describe('avatar upload in the OpenAPI document', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app?.close();
  });

  test('PUT and POST /users/me/avatar are file uploads (multipart, `file` binary); GET /avatars/{id} is public', async () => {
    const doc = (await app.request('GET', '/docs-json')).body;
    for (const method of ['put', 'post']) {
      const op = doc.paths['/users/me/avatar'][method];
      const schema = op.requestBody.content['multipart/form-data'].schema;
      assert.deepEqual(schema.required, ['file']);
      assert.equal(schema.properties.file.type, 'string');
      assert.equal(schema.properties.file.format, 'binary');
      assert.ok(op.responses['202'] && op.responses['400'] && op.responses['413'] && op.responses['415']);
      assert.ok(
        op.security?.some((r: object) => 'bearer' in r),
        `${method} needs the bearer token`,
      );
    }
    const get = doc.paths['/avatars/{id}'].get;
    assert.ok(get.responses['200'].content['image/jpeg']);
    assert.ok(get.responses['304'] && get.responses['404']);
    assert.ok(!get.security || get.security.length === 0, 'public: no bearer');
    assert.ok(doc.components.schemas.UserDto.properties.avatarPending && doc.components.schemas.UserDto.properties.hasMobile);
  });
});
