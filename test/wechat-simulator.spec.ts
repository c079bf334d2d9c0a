import { createDecipheriv, createHash, createHmac } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CHECK_SESSION_PATH,
  JSCODE2SESSION_PATH,
  PHONE_NUMBER_PATH,
  STABLE_TOKEN_PATH,
  TOKEN_PATH,
  WechatSimulator,
  hmacSha256Hex,
  isHang,
  parsePhoneNumber,
  type SimResponse,
} from '../src/sandbox/wechat-simulator';
import { startWechatSimulatorServer } from '../src/sandbox/wechat-simulator.server';
import { FaultyWechatSimulator } from './support/faulty-wechat-simulator';
import { PLACEHOLDER_AVATAR_URL, PLACEHOLDER_NICKNAME } from '../src/wechat/wechat-login.service';

const APP_ID = 'wx1234567890abcdef';
const SECRET = 'sim-secret-0123456789abcdef0123456';

type Json = Record<string, any>;

function newSim(extra: Partial<ConstructorParameters<typeof WechatSimulator>[0]> = {}): FaultyWechatSimulator {
  return new FaultyWechatSimulator({ appId: APP_ID, secret: SECRET, ...extra });
}

function parse(res: SimResponse): Json {
  return JSON.parse(res.body) as Json;
}

async function exchange(sim: WechatSimulator, code: string, secret = SECRET): Promise<Json> {
  const res = await sim.handle({
    method: 'GET',
    path: JSCODE2SESSION_PATH,
    query: { appid: APP_ID, secret, js_code: code, grant_type: 'authorization_code' },
    body: undefined,
  });
  return parse(res);
}

async function stableToken(sim: WechatSimulator, forceRefresh = false): Promise<Json> {
  const res = await sim.handle({
    method: 'POST',
    path: STABLE_TOKEN_PATH,
    query: {},
    body: { grant_type: 'client_credential', appid: APP_ID, secret: SECRET, force_refresh: forceRefresh },
  });
  return parse(res);
}

async function phoneNumber(sim: WechatSimulator, accessToken: string | undefined, code: string): Promise<Json> {
  const query: Record<string, string> = accessToken === undefined ? {} : { access_token: accessToken };
  return parse(await sim.handle({ method: 'POST', path: PHONE_NUMBER_PATH, query, body: { code } }));
}

async function checkSession(sim: WechatSimulator, accessToken: string, openid: string, sessionKey: string): Promise<Json> {
  const query = { access_token: accessToken, openid, signature: hmacSha256Hex(sessionKey, ''), sig_method: 'hmac_sha256' };
  return parse(await sim.handle({ method: 'GET', path: CHECK_SESSION_PATH, query, body: undefined }));
}

/** Decrypts like the app must: AES-128-CBC, key = base64-decoded session_key, PKCS#7. */
function decrypt(sessionKey: string, encryptedData: string, iv: string): Json {
  const decipher = createDecipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), Buffer.from(iv, 'base64'));
  const plain = Buffer.concat([decipher.update(Buffer.from(encryptedData, 'base64')), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as Json;
}

function sha1(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

describe('helpers', () => {
  test('hmacSha256Hex matches WeChat checksession documented vector', () => {
    assert.equal(hmacSha256Hex('o0q0otL8aEzpcZL/FT9WsQ==', '{"foo":"bar"}'), '654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b');
  });

  test('parsePhoneNumber', () => {
    assert.deepEqual(parsePhoneNumber(), { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' });
    assert.deepEqual(parsePhoneNumber('+1 5551234567'), {
      phoneNumber: '+1 5551234567',
      purePhoneNumber: '5551234567',
      countryCode: '1',
    });
    assert.deepEqual(parsePhoneNumber('+86 13900001111'), {
      phoneNumber: '13900001111',
      purePhoneNumber: '13900001111',
      countryCode: '86',
    });
    assert.deepEqual(parsePhoneNumber('15551234567'), {
      phoneNumber: '15551234567',
      purePhoneNumber: '15551234567',
      countryCode: '86',
    });
  });
});

describe('login codes and jscode2session', () => {
  test('session_key verifies the signature and decrypts encryptedData', async () => {
    const sim = newSim();
    const issued = sim.issueLoginCode({ nickName: '小明', gender: 1, city: 'Shenzhen', province: 'Guangdong', country: 'China' });
    assert.match(issued.openId, /^o[A-Za-z0-9_-]{27}$/);
    assert.equal(sim.currentSessionKey(issued.openId), undefined, 'a key becomes current only once exchanged');

    const res = await sim.handle({
      method: 'GET',
      path: JSCODE2SESSION_PATH,
      query: { appid: APP_ID, secret: SECRET, js_code: issued.code, grant_type: 'authorization_code' },
      body: undefined,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers?.['content-type'], 'text/plain', 'WeChat really sends jscode2session as text/plain');
    const body = parse(res);
    assert.deepEqual(Object.keys(body).sort(), ['openid', 'session_key']);
    assert.equal(body.openid, issued.openId);
    assert.equal(body.session_key.length, 24);
    assert.equal(Buffer.from(body.session_key, 'base64').length, 16);
    assert.equal(sim.currentSessionKey(issued.openId), body.session_key);

    assert.equal(issued.signature, sha1(issued.rawData + body.session_key));
    const profile = JSON.parse(issued.rawData) as Json;
    assert.deepEqual(profile, {
      nickName: '小明',
      gender: 1,
      language: 'zh_CN',
      city: 'Shenzhen',
      province: 'Guangdong',
      country: 'China',
      avatarUrl: PLACEHOLDER_AVATAR_URL,
    });

    const decrypted = decrypt(body.session_key, issued.encryptedData, issued.iv);
    assert.equal(decrypted.openId, issued.openId);
    assert.equal(decrypted.nickName, '小明');
    assert.equal(decrypted.unionId, undefined);
    assert.equal(decrypted.watermark.appid, APP_ID);
    assert.equal(typeof decrypted.watermark.timestamp, 'number');
  });

  test('defaults and unionid', async () => {
    const sim = newSim();
    const issued = sim.issueLoginCode({ openId: 'oFixedOpenId000000000000000', unionId: 'oUnion000000000000000000000' });
    assert.deepEqual(JSON.parse(issued.rawData), {
      nickName: PLACEHOLDER_NICKNAME,
      gender: 0,
      language: 'zh_CN',
      city: '',
      province: '',
      country: '',
      avatarUrl: PLACEHOLDER_AVATAR_URL,
    });
    const body = await exchange(sim, issued.code);
    assert.equal(body.openid, 'oFixedOpenId000000000000000');
    assert.equal(body.unionid, 'oUnion000000000000000000000');
    assert.equal(decrypt(body.session_key, issued.encryptedData, issued.iv).unionId, 'oUnion000000000000000000000');
  });

  test('each login gives the openid a new session_key', async () => {
    const sim = newSim();
    const first = sim.issueLoginCode();
    const second = sim.issueLoginCode({ openId: first.openId });
    const a = await exchange(sim, first.code);
    const b = await exchange(sim, second.code);
    assert.equal(a.openid, b.openid);
    assert.notEqual(a.session_key, b.session_key);
    assert.equal(sim.currentSessionKey(first.openId), b.session_key);
  });

  test('a code works once', async () => {
    const sim = newSim();
    const { code } = sim.issueLoginCode();
    assert.ok((await exchange(sim, code)).session_key);
    const again = await exchange(sim, code);
    assert.equal(again.errcode, 40163);
    assert.match(again.errmsg, /^code been used/);
  });

  test('a code expires after codeTtlMs', async () => {
    let now = 1_700_000_000_000;
    const sim = newSim({ now: () => now, codeTtlMs: 60_000 });
    const fresh = sim.issueLoginCode();
    const stale = sim.issueLoginCode();
    now += 59_999;
    assert.ok((await exchange(sim, fresh.code)).session_key);
    now += 1;
    assert.equal((await exchange(sim, stale.code)).errcode, 40029);
  });

  test('unknown code, wrong appid, wrong secret, missing code', async () => {
    const sim = newSim();
    const { code } = sim.issueLoginCode();
    assert.equal((await exchange(sim, 'no-such-code')).errcode, 40029);
    const wrongSecret = await exchange(sim, code, 'nope');
    assert.equal(wrongSecret.errcode, 40125);
    assert.match(wrongSecret.errmsg, /^invalid appsecret/);
    const wrongApp = parse(
      await sim.handle({
        method: 'GET',
        path: JSCODE2SESSION_PATH,
        query: { appid: 'wxother', secret: SECRET, js_code: code, grant_type: 'authorization_code' },
        body: undefined,
      }),
    );
    assert.equal(wrongApp.errcode, 40013);
    const missing = parse(
      await sim.handle({
        method: 'GET',
        path: JSCODE2SESSION_PATH,
        query: { appid: APP_ID, secret: SECRET, grant_type: 'authorization_code' },
        body: undefined,
      }),
    );
    assert.equal(missing.errcode, 41008);
    // None of the failures spent the code.
    assert.ok((await exchange(sim, code)).session_key);
  });

  test('encryptForSession and encryptPhoneForSession use the current session_key', async () => {
    const sim = newSim({ now: () => 1_700_000_000_000 });
    const issued = sim.issueLoginCode();
    assert.throws(() => sim.encryptForSession(issued.openId, { a: 1 }), /no session_key/);
    const { session_key } = await exchange(sim, issued.code);

    const custom = sim.encryptForSession(issued.openId, { hello: 'world' });
    assert.deepEqual(decrypt(session_key, custom.encryptedData, custom.iv), {
      hello: 'world',
      watermark: { appid: APP_ID, timestamp: 1_700_000_000 },
    });
    const phone = sim.encryptPhoneForSession(issued.openId, '+1 5551234567');
    assert.deepEqual(decrypt(session_key, phone.encryptedData, phone.iv), {
      phoneNumber: '+1 5551234567',
      purePhoneNumber: '5551234567',
      countryCode: '1',
      watermark: { appid: APP_ID, timestamp: 1_700_000_000 },
    });
  });
});

describe('access tokens', () => {
  test('stable_token caches until force_refresh, which invalidates the previous token', async () => {
    let now = 1_700_000_000_000;
    const sim = newSim({ now: () => now });
    const first = await stableToken(sim);
    assert.equal(first.expires_in, 7200);
    assert.ok(first.access_token.length > 100);

    now += 100_000;
    const cached = await stableToken(sim);
    assert.equal(cached.access_token, first.access_token);
    assert.equal(cached.expires_in, 7100);
    assert.equal(sim.accessTokensIssued, 1);
    assert.equal(sim.countRequests(STABLE_TOKEN_PATH), 2);

    const forced = await stableToken(sim, true);
    assert.notEqual(forced.access_token, first.access_token);
    assert.equal(forced.expires_in, 7200);
    assert.equal(sim.forcedRefreshes, 1);
    const { code } = sim.issuePhoneCode();
    assert.equal((await phoneNumber(sim, first.access_token, code)).errcode, 40001);
    assert.equal((await stableToken(sim)).access_token, forced.access_token);
    assert.equal((await phoneNumber(sim, forced.access_token, code)).errcode, 0);
  });

  test('expired token answers 42001 and stable_token issues a new one', async () => {
    let now = 1_700_000_000_000;
    const sim = newSim({ now: () => now, accessTokenTtlSeconds: 60 });
    const first = await stableToken(sim);
    now += 60_000;
    const { code } = sim.issuePhoneCode();
    assert.equal((await phoneNumber(sim, first.access_token, code)).errcode, 42001);
    const next = await stableToken(sim);
    assert.notEqual(next.access_token, first.access_token);
    assert.equal((await phoneNumber(sim, next.access_token, code)).errcode, 0);
  });

  test('revokeAccessTokens → 40001, missing token → 41001, unknown → 40001', async () => {
    const sim = newSim();
    const { access_token } = await stableToken(sim);
    const { code } = sim.issuePhoneCode();
    assert.equal((await phoneNumber(sim, undefined, code)).errcode, 41001);
    assert.equal((await phoneNumber(sim, 'garbage', code)).errcode, 40001);
    sim.revokeAccessTokens();
    assert.equal((await phoneNumber(sim, access_token, code)).errcode, 40001);
    const renewed = await stableToken(sim);
    assert.notEqual(renewed.access_token, access_token);
    assert.equal((await phoneNumber(sim, renewed.access_token, code)).errcode, 0);
  });

  test('expireAccessTokens → 42001', async () => {
    const sim = newSim();
    const { access_token } = await stableToken(sim);
    sim.expireAccessTokens();
    const { code } = sim.issuePhoneCode();
    assert.equal((await phoneNumber(sim, access_token, code)).errcode, 42001);
  });

  test('stable_token rejects bad credentials and bodies', async () => {
    const sim = newSim();
    const call = async (body: unknown) => parse(await sim.handle({ method: 'POST', path: STABLE_TOKEN_PATH, query: {}, body }));
    assert.equal((await call({ grant_type: 'client_credential', appid: APP_ID, secret: 'x' })).errcode, 40125);
    assert.equal((await call({ grant_type: 'client_credential', appid: 'wxother', secret: SECRET })).errcode, 40013);
    assert.equal((await call({ grant_type: 'password', appid: APP_ID, secret: SECRET })).errcode, 40002);
    assert.equal((await call('not json')).errcode, 47001);
    const wrongMethod = parse(await sim.handle({ method: 'GET', path: STABLE_TOKEN_PATH, query: {}, body: undefined }));
    assert.equal(wrongMethod.errcode, 43002);
  });

  test('/cgi-bin/token issues a new token each time', async () => {
    const sim = newSim();
    const query = { grant_type: 'client_credential', appid: APP_ID, secret: SECRET };
    const a = parse(await sim.handle({ method: 'GET', path: TOKEN_PATH, query, body: undefined }));
    const b = parse(await sim.handle({ method: 'GET', path: TOKEN_PATH, query, body: undefined }));
    assert.notEqual(a.access_token, b.access_token);
    assert.equal(a.expires_in, 7200);
    assert.equal(sim.accessTokensIssued, 2);
  });

  test('tokenDelayMs delays token routes', async () => {
    const sim = newSim({ tokenDelayMs: 50 });
    const started = Date.now();
    const [a, b] = await Promise.all([stableToken(sim), stableToken(sim)]);
    assert.ok(Date.now() - started >= 45);
    assert.equal(a.access_token, b.access_token);
    assert.equal(sim.countRequests(STABLE_TOKEN_PATH), 2);
  });
});

describe('phone numbers', () => {
  test('getuserphonenumber answers phone_info once per code', async () => {
    const sim = newSim({ now: () => 1_700_000_000_000 });
    const { access_token } = await stableToken(sim);
    const { code } = sim.issuePhoneCode();
    const body = await phoneNumber(sim, access_token, code);
    assert.deepEqual(body, {
      errcode: 0,
      errmsg: 'ok',
      phone_info: {
        phoneNumber: '13800138000',
        purePhoneNumber: '13800138000',
        countryCode: '86',
        watermark: { timestamp: 1_700_000_000, appid: APP_ID },
      },
    });
    assert.equal((await phoneNumber(sim, access_token, code)).errcode, 40163);
    assert.equal((await phoneNumber(sim, access_token, 'bogus')).errcode, 40029);

    const foreign = sim.issuePhoneCode({ phoneNumber: '+1 5551234567' });
    const info = (await phoneNumber(sim, access_token, foreign.code)).phone_info;
    assert.equal(info.phoneNumber, '+1 5551234567');
    assert.equal(info.purePhoneNumber, '5551234567');
    assert.equal(info.countryCode, '1');
  });

  test('phone codes expire', async () => {
    let now = 1_700_000_000_000;
    const sim = newSim({ now: () => now });
    const { access_token } = await stableToken(sim);
    const { code } = sim.issuePhoneCode();
    now += 5 * 60_000;
    assert.equal((await phoneNumber(sim, access_token, code)).errcode, 40029);
  });
});

describe('checksession', () => {
  test('valid for the current session_key only', async () => {
    const sim = newSim();
    const { access_token } = await stableToken(sim);
    const first = sim.issueLoginCode();
    const old = await exchange(sim, first.code);
    assert.deepEqual(await checkSession(sim, access_token, first.openId, old.session_key), { errcode: 0, errmsg: 'ok' });

    const second = sim.issueLoginCode({ openId: first.openId });
    const current = await exchange(sim, second.code);
    assert.equal((await checkSession(sim, access_token, first.openId, old.session_key)).errcode, 87009);
    assert.equal((await checkSession(sim, access_token, first.openId, current.session_key)).errcode, 0);

    sim.expireSession(first.openId);
    assert.equal((await checkSession(sim, access_token, first.openId, current.session_key)).errcode, 87009);
  });

  test('signature is keyed by the session_key text, not its decoded bytes', async () => {
    const sim = newSim();
    const { access_token } = await stableToken(sim);
    const issued = sim.issueLoginCode();
    const { session_key } = await exchange(sim, issued.code);
    const decodedKeySig = createHmac('sha256', Buffer.from(session_key, 'base64')).update('').digest('hex');
    const query = { access_token, openid: issued.openId, signature: decodedKeySig, sig_method: 'hmac_sha256' };
    const res = parse(await sim.handle({ method: 'GET', path: CHECK_SESSION_PATH, query, body: undefined }));
    assert.equal(res.errcode, 87009);
  });

  test('checks the access token', async () => {
    const sim = newSim();
    const issued = sim.issueLoginCode();
    const { session_key } = await exchange(sim, issued.code);
    assert.equal((await checkSession(sim, 'garbage', issued.openId, session_key)).errcode, 40001);
  });
});

describe('faults and test controls', () => {
  test('errcode fault once, then success; the code is not spent', async () => {
    const sim = newSim();
    const { code } = sim.issueLoginCode();
    sim.fail(JSCODE2SESSION_PATH, { errcode: -1, errmsg: 'system error' }, 1);
    assert.deepEqual(await exchange(sim, code), { errcode: -1, errmsg: 'system error' });
    assert.ok((await exchange(sim, code)).session_key);
    assert.equal(sim.countRequests(JSCODE2SESSION_PATH), 2);
    assert.equal(sim.requests.length, 2);
    assert.equal(sim.requests[0].query.js_code, code);
  });

  test('faults apply in order and for `times` requests', async () => {
    const sim = newSim();
    sim.fail(STABLE_TOKEN_PATH, { errcode: 45011 }, 2);
    sim.fail(STABLE_TOKEN_PATH, { kind: 'http500' }, 1);
    assert.equal((await stableToken(sim)).errcode, 45011);
    assert.match((await stableToken(sim)).errmsg, /^api minute-quota/);
    const res = await sim.handle({ method: 'POST', path: STABLE_TOKEN_PATH, query: {}, body: {} });
    assert.equal(res.status, 500);
    assert.ok((await stableToken(sim)).access_token);
  });

  test('html and http500 faults', async () => {
    const sim = newSim();
    sim.fail(JSCODE2SESSION_PATH, { kind: 'html' }, 1);
    const html = await sim.handle({ method: 'GET', path: JSCODE2SESSION_PATH, query: {}, body: undefined });
    assert.equal(html.status, 200);
    assert.match(html.headers?.['content-type'] ?? '', /^text\/html/);
    assert.throws(() => JSON.parse(html.body));

    sim.fail(JSCODE2SESSION_PATH, { kind: 'http500' });
    for (let i = 0; i < 3; i++) {
      const res = await sim.handle({ method: 'GET', path: JSCODE2SESSION_PATH, query: {}, body: undefined });
      assert.equal(res.status, 500);
    }
    sim.clearFaults();
    const { code } = sim.issueLoginCode();
    assert.ok((await exchange(sim, code)).session_key);
  });

  test('delay fault answers normally after the delay; hang resolves to the HANG marker', async () => {
    const sim = newSim();
    const { code } = sim.issueLoginCode();
    sim.fail(JSCODE2SESSION_PATH, { kind: 'delay', ms: 40 }, 1);
    const started = Date.now();
    assert.ok((await exchange(sim, code)).session_key);
    assert.ok(Date.now() - started >= 35);

    sim.fail(CHECK_SESSION_PATH, { kind: 'hang' }, 1);
    const res = await sim.handle({ method: 'GET', path: CHECK_SESSION_PATH, query: {}, body: undefined });
    assert.ok(isHang(res));
  });

  test('reset clears requests, counters and faults but keeps sessions', async () => {
    const sim = newSim();
    const issued = sim.issueLoginCode();
    await exchange(sim, issued.code);
    sim.fail(JSCODE2SESSION_PATH, { kind: 'html' });
    sim.reset();
    assert.equal(sim.requests.length, 0);
    assert.equal(sim.countRequests(JSCODE2SESSION_PATH), 0);
    assert.ok(sim.currentSessionKey(issued.openId));
    const { code } = sim.issueLoginCode();
    assert.ok((await exchange(sim, code)).session_key);
  });

  test('unknown path → 404 JSON', async () => {
    const sim = newSim();
    const res = await sim.handle({ method: 'GET', path: '/nope', query: {}, body: undefined });
    assert.equal(res.status, 404);
    assert.equal(parse(res).errcode, -1);
  });
});

describe('HTTP server', () => {
  test('login and phone flow through fetch', async () => {
    const sim = newSim();
    const server = await startWechatSimulatorServer(sim);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const issued = sim.issueLoginCode({ nickName: 'Ann' });
      const params = new URLSearchParams({ appid: APP_ID, secret: SECRET, js_code: issued.code, grant_type: 'authorization_code' });
      const res = await fetch(`${server.url}/sns/jscode2session?${params}`);
      assert.equal(res.status, 200);
      const session = (await res.json()) as Json;
      assert.equal(session.openid, issued.openId);
      assert.equal(issued.signature, sha1(issued.rawData + session.session_key));

      const tokenRes = await fetch(`${server.url}/cgi-bin/stable_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credential', appid: APP_ID, secret: SECRET, force_refresh: false }),
      });
      const { access_token } = (await tokenRes.json()) as Json;
      assert.ok(access_token);

      const { code } = sim.issuePhoneCode();
      const phoneRes = await fetch(`${server.url}/wxa/business/getuserphonenumber?access_token=${encodeURIComponent(access_token)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      const phone = (await phoneRes.json()) as Json;
      assert.equal(phone.errcode, 0);
      assert.equal(phone.phone_info.purePhoneNumber, '13800138000');

      const badJson = await fetch(`${server.url}/cgi-bin/stable_token`, { method: 'POST', body: '{oops' });
      assert.equal(((await badJson.json()) as Json).errcode, 47001);

      const notFound = await fetch(`${server.url}/nope`);
      assert.equal(notFound.status, 404);
      await notFound.arrayBuffer();

      assert.deepEqual(
        sim.requests.map((r) => `${r.method} ${r.path}`),
        ['GET /sns/jscode2session', 'POST /cgi-bin/stable_token', 'POST /wxa/business/getuserphonenumber', 'POST /cgi-bin/stable_token', 'GET /nope'],
      );
      assert.deepEqual(sim.requests[2].body, { code });
    } finally {
      await server.close();
    }
  });

  test('keep-alive connections are reused', async () => {
    const sim = newSim();
    const server = await startWechatSimulatorServer(sim);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ reused: boolean; status: number }>((resolve, reject) => {
        const req = httpRequest(`${server.url}/cgi-bin/token?grant_type=client_credential&appid=${APP_ID}&secret=${SECRET}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ reused: req.reusedSocket, status: res.statusCode ?? 0 }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const first = await get();
      const second = await get();
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(second.reused, true);
    } finally {
      agent.destroy();
      await server.close();
    }
  });

  test('bodies over 64 KiB get 413', async () => {
    const sim = newSim();
    const server = await startWechatSimulatorServer(sim);
    try {
      const res = await fetch(`${server.url}/cgi-bin/stable_token`, { method: 'POST', body: 'x'.repeat(65 * 1024) });
      assert.equal(res.status, 413);
      await res.arrayBuffer();
      assert.equal(sim.requests.length, 0);
    } finally {
      await server.close();
    }
  });

  test('errcode, html and http500 faults over HTTP', async () => {
    const sim = newSim();
    const server = await startWechatSimulatorServer(sim);
    try {
      sim.fail(TOKEN_PATH, { errcode: -1 }, 1);
      sim.fail(TOKEN_PATH, { kind: 'html' }, 1);
      sim.fail(TOKEN_PATH, { kind: 'http500' }, 1);
      const url = `${server.url}/cgi-bin/token?grant_type=client_credential&appid=${APP_ID}&secret=${SECRET}`;
      const busy = await fetch(url);
      assert.equal(((await busy.json()) as Json).errcode, -1);
      const html = await fetch(url);
      assert.equal(html.status, 200);
      assert.match(await html.text(), /^<html>/);
      const failed = await fetch(url);
      assert.equal(failed.status, 500);
      await failed.arrayBuffer();
      const ok = await fetch(url);
      assert.ok(((await ok.json()) as Json).access_token);
    } finally {
      await server.close();
    }
  });

  test('hang: the client times out and close() returns promptly', async () => {
    const sim = newSim();
    const server = await startWechatSimulatorServer(sim);
    sim.fail(JSCODE2SESSION_PATH, { kind: 'hang' });
    const pending = fetch(`${server.url}/sns/jscode2session?js_code=x`, { signal: AbortSignal.timeout(150) });
    await assert.rejects(pending, (err: Error) => err.name === 'TimeoutError');

    // A second hanging request still open when we close.
    const stillOpen = fetch(`${server.url}/sns/jscode2session?js_code=y`).catch((err: unknown) => err);
    while (sim.countRequests(JSCODE2SESSION_PATH) < 2) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 10_000, 'close() must not wait for hanging requests (which would hang for ever)');
    assert.ok((await stillOpen) instanceof Error);
    await server.close(); // idempotent
  });
});
