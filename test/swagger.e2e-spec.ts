import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningApp } from '../src/bootstrap';
import { type SandboxApp, startSandboxApp, startTestApp, type TestApp } from './support/test-app';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, any>>;
  components: { schemas?: Record<string, any>; securitySchemes?: Record<string, any> };
  security?: Record<string, string[]>[];
  servers?: unknown[];
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

/**
 * Resolves `#/components/schemas/X` references, and merges an `allOf` into one schema (later parts
 * narrow a property of earlier ones, as a route's error codes narrow the shared ErrorResponse).
 */
function resolve(doc: Doc, schema: any): any {
  if (schema?.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    return resolve(doc, doc.components.schemas?.[name]);
  }
  if (Array.isArray(schema?.allOf)) {
    const parts = schema.allOf.map((part: any) => resolve(doc, part));
    const properties: Record<string, any> = {};
    for (const part of parts) for (const [name, prop] of Object.entries<any>(part?.properties ?? {})) properties[name] = { ...properties[name], ...prop };
    return { ...schema, allOf: undefined, properties, required: [...new Set(parts.flatMap((p: any) => p?.required ?? []))] };
  }
  return schema;
}

/** Every operation of the document, with its method and path. */
function operations(doc: Doc): { method: string; path: string; op: any }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })));
}

/** Whether a schema is the shared ErrorResponse: a reference to it, or an `allOf` that starts with one. */
function isErrorResponse(schema: any): boolean {
  return schema?.$ref === '#/components/schemas/ErrorResponse' || schema?.allOf?.[0]?.$ref === '#/components/schemas/ErrorResponse';
}

/** The routes anyone may call (`@Public()`), in sandbox mode (where every route is mounted). */
const PUBLIC_ROUTES = [
  'post /wechat/login',
  'get /avatars/{id}',
  'get /health',
  'get /wechat/push',
  'post /wechat/push',
  'get /wechat/push/{appId}',
  'post /wechat/push/{appId}',
  'post /sandbox/wx-login',
  'post /sandbox/phone-code',
  'post /sandbox/push',
];

/** Every error response of the document refers to the one ErrorResponse schema (both documents: with credentials, in sandbox mode). */
function assertSharedErrorResponse(doc: Doc): void {
  const shared = doc.components.schemas?.ErrorResponse;
  assert.ok(shared, 'components.schemas.ErrorResponse is missing');
  assert.deepEqual([...(shared.required ?? [])].sort(), ['code', 'message', 'statusCode']);
  assert.equal(shared.properties.statusCode.type, 'integer');
  assert.equal(shared.properties.code.type, 'string');
  assert.equal(shared.properties.message.type, 'string');
  for (const [name, prop] of Object.entries<any>(shared.properties)) {
    assert.ok(prop.description, `ErrorResponse.${name} has no description`);
    assert.ok(prop.example !== undefined, `ErrorResponse.${name} has no example`);
  }
  for (const { method, path, op } of operations(doc)) {
    const name = `${method.toUpperCase()} ${path}`;
    for (const [status, response] of Object.entries<any>(op.responses ?? {})) {
      if (!/^[45]\d\d$/.test(status)) continue;
      const schema = response.content?.['application/json']?.schema;
      assert.ok(isErrorResponse(schema), `${name} ${status} does not refer to ErrorResponse: ${JSON.stringify(response.content)}`);
    }
  }
}

/** Public operations say `security: []`, guarded ones need the bearer token; no empty `servers` list. */
function assertSecurity(doc: Doc, bearerNames: string[]): void {
  for (const { method, path, op } of operations(doc)) {
    const name = `${method.toUpperCase()} ${path}`;
    const isPublic = PUBLIC_ROUTES.includes(`${method} ${path}`);
    if (isPublic) assert.deepEqual(op.security, [], `${name} is public but says security ${JSON.stringify(op.security)}`);
    else
      assert.ok(
        effectiveSecurity(doc, op).some((req) => bearerNames.some((n) => n in req)),
        `${name} is guarded but does not declare bearer`,
      );
  }
  assert.ok(doc.servers === undefined || doc.servers.length > 0, `servers is an empty list: ${JSON.stringify(doc.servers)}`);
}

/** The security requirements that apply to an operation: its own, else the document's. */
function effectiveSecurity(doc: Doc, op: any): Record<string, string[]>[] {
  return op.security ?? doc.security ?? [];
}

describe('OpenAPI documentation (credentials configured: no sandbox)', () => {
  let app: TestApp;
  let doc: Doc;
  let bearerNames: string[];

  before(async () => {
    app = await startTestApp();
    const res = await app.request('GET', '/docs-json');
    assert.equal(res.status, 200, res.text);
    doc = res.body;
    bearerNames = Object.entries(doc.components?.securitySchemes ?? {})
      .filter(([, s]) => s.type === 'http' && String(s.scheme).toLowerCase() === 'bearer')
      .map(([name]) => name);
  });
  after(async () => {
    await app?.close();
  });

  test('GET /docs serves the Swagger UI as HTML without a token', async () => {
    const res = await app.request('GET', '/docs');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.text, /swagger/i);
  });

  test('GET /docs-json is an OpenAPI 3 document served as JSON', async () => {
    const res = await app.request('GET', '/docs-json');
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.match(doc.openapi, /^3\./);
    assert.equal(typeof doc.paths, 'object');
  });

  test('lists every route of the API', () => {
    const expected: [string, string][] = [
      ['post', '/wechat/login'],
      ['get', '/users/me'],
      ['patch', '/users/me'],
      ['delete', '/users/me'],
      ['post', '/auth/logout'],
      ['get', '/health'],
    ];
    for (const [method, path] of expected) {
      assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is missing; documented: ${Object.keys(doc.paths).join(', ')}`);
    }
  });

  test('WechatLoginRequest: code is required, every property has a description and an example', () => {
    const schema = doc.components.schemas?.WechatLoginRequest;
    assert.ok(schema, 'components.schemas.WechatLoginRequest is missing');
    assert.ok(Array.isArray(schema.required) && schema.required.includes('code'), `required: ${JSON.stringify(schema.required)}`);
    for (const optional of ['rawData', 'signature', 'encryptedData', 'iv']) {
      assert.ok(schema.properties?.[optional], `${optional} is not documented`);
      assert.ok(!schema.required.includes(optional), `${optional} must be optional`);
    }
    for (const [name, prop] of Object.entries<any>(schema.properties)) {
      assert.ok(typeof prop.description === 'string' && prop.description.length > 0, `WechatLoginRequest.${name} has no description`);
      assert.ok(prop.example !== undefined, `WechatLoginRequest.${name} has no example`);
    }
    // The login route takes this schema as its body.
    const body = doc.paths['/wechat/login'].post.requestBody?.content?.['application/json']?.schema;
    assert.equal(body?.$ref, '#/components/schemas/WechatLoginRequest');
  });

  test('a bearer security scheme exists', () => {
    assert.ok(bearerNames.length > 0, `no http bearer scheme in ${JSON.stringify(doc.components.securitySchemes)}`);
  });

  test('guarded operations declare the bearer scheme', () => {
    const guarded: [string, string][] = [
      ['get', '/users/me'],
      ['patch', '/users/me'],
      ['delete', '/users/me'],
      ['post', '/auth/logout'],
    ];
    for (const [method, path] of guarded) {
      const security = effectiveSecurity(doc, doc.paths[path][method]);
      assert.ok(
        security.some((req) => bearerNames.some((n) => n in req)),
        `${method.toUpperCase()} ${path} does not declare bearer: ${JSON.stringify(security)}`,
      );
    }
  });

  test('public operations do not declare bearer (GET /health, POST /wechat/login, and the document default)', () => {
    for (const [method, path] of [
      ['get', '/health'],
      ['post', '/wechat/login'],
    ]) {
      const security = effectiveSecurity(doc, doc.paths[path][method]);
      // Either no requirement at all, or an explicit empty alternative `{}` that makes it optional.
      const needsBearer = security.length > 0 && !security.some((req) => Object.keys(req).length === 0);
      assert.equal(needsBearer, false, `${method.toUpperCase()} ${path} is marked as needing a token: ${JSON.stringify(security)}`);
    }
  });

  test('every error response refers to the one ErrorResponse schema', () => {
    assertSharedErrorResponse(doc);
  });

  test('public operations say security: [], guarded ones bearer; no empty servers list', () => {
    assertSecurity(doc, bearerNames);
  });

  test('GET /health really answers without a token (matches its documentation)', async () => {
    const res = await app.request('GET', '/health');
    assert.equal(res.status, 200);
  });

  test('POST /wechat/login documents 400, 401, 403, 429, 502 and 503 with an error body schema', () => {
    const responses = doc.paths['/wechat/login'].post.responses ?? {};
    assert.ok(responses['200'], 'the 200 answer is not documented');
    for (const status of ['400', '401', '403', '429', '502', '503']) {
      const r = responses[status];
      assert.ok(r, `${status} is not documented; documented: ${Object.keys(responses).join(', ')}`);
      const schema = resolve(doc, r.content?.['application/json']?.schema);
      assert.ok(schema, `${status} has no application/json schema`);
      for (const field of ['statusCode', 'code', 'message']) assert.ok(schema.properties?.[field], `${status} schema lacks ${field}`);
    }
    // Codes are where the contract puts them.
    const codes = (status: string) => resolve(doc, responses[status].content['application/json'].schema).properties.code.enum ?? [];
    assert.ok(codes('401').includes('WECHAT_CODE_INVALID'));
    assert.ok(codes('401').includes('SIGNATURE_MISMATCH'));
    assert.ok(codes('403').includes('WECHAT_USER_BLOCKED'));
    assert.ok(codes('429').includes('WECHAT_RATE_LIMITED'));
    assert.ok(codes('502').includes('WECHAT_BAD_RESPONSE'));
    assert.ok(codes('503').includes('WECHAT_UNAVAILABLE'));
    assert.ok(codes('400').includes('VALIDATION_FAILED'));
    assert.ok(codes('400').includes('DECRYPT_FAILED'));
  });

  test("the login's documented 400 example is the answer a too-long code really gets", async () => {
    const example = doc.paths['/wechat/login'].post.responses['400'].content['application/json'].example;
    const res = await app.request('POST', '/wechat/login', { body: { code: 'c'.repeat(129) } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.body, example);
    assert.equal(doc.components.schemas?.ErrorResponse.properties.message.example, example.message);
  });

  test('guarded operations document their 401', () => {
    for (const [method, path] of [
      ['get', '/users/me'],
      ['patch', '/users/me'],
      ['delete', '/users/me'],
      ['post', '/auth/logout'],
    ]) {
      const r = doc.paths[path][method].responses?.['401'];
      assert.ok(r, `${method.toUpperCase()} ${path} does not document 401`);
      const schema = resolve(doc, r.content?.['application/json']?.schema);
      assert.ok(schema?.properties?.code, `${method.toUpperCase()} ${path} 401 has no error schema`);
    }
  });

  test('GET /health documents its 503', () => {
    assert.ok(doc.paths['/health'].get.responses?.['503'], 'GET /health does not document 503');
  });

  test('every operation documents at least one error response', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const errors = Object.keys(op.responses ?? {}).filter((s) => /^[45]\d\d$/.test(s));
        assert.ok(errors.length > 0, `${method.toUpperCase()} ${path} documents no error response`);
      }
    }
  });

  test('sandbox routes are absent when WeChat credentials are configured', async () => {
    const sandboxPaths = Object.keys(doc.paths).filter((p) => p.startsWith('/sandbox'));
    assert.deepEqual(sandboxPaths, []);
    const res = await app.request('POST', '/sandbox/wx-login', { body: {} });
    assert.equal(res.status, 404);
    assert.equal(res.body?.code, 'NOT_FOUND');
    const phone = await app.request('POST', '/sandbox/phone-code', { body: {} });
    assert.equal(phone.status, 404);
  });
});

describe('OpenAPI documentation in sandbox mode (no WeChat credentials)', () => {
  let sandbox: SandboxApp;
  let running: RunningApp;
  let baseUrl: string;

  before(async () => {
    sandbox = await startSandboxApp();
    ({ running, baseUrl } = sandbox);
  });
  after(() => sandbox?.close());

  test('the sandbox routes are documented, public, and answer', async () => {
    assert.ok(running.simulator, 'sandbox mode expected');
    const doc = (await (await fetch(`${baseUrl}/docs-json`)).json()) as Doc;
    for (const path of ['/sandbox/wx-login', '/sandbox/phone-code']) {
      const op = doc.paths[path]?.post;
      assert.ok(op, `${path} is not documented in sandbox mode`);
      const security = effectiveSecurity(doc, op);
      assert.ok(security.length === 0 || security.some((r) => Object.keys(r).length === 0), `${path} is marked as needing a token: ${JSON.stringify(security)}`);
    }
    for (const route of PUBLIC_ROUTES) {
      const [method, path] = route.split(' ');
      assert.ok(doc.paths[path]?.[method], `${route} is not documented in sandbox mode`);
    }
    const bearerNames = Object.entries(doc.components?.securitySchemes ?? {})
      .filter(([, s]) => s.type === 'http' && String(s.scheme).toLowerCase() === 'bearer')
      .map(([name]) => name);
    assertSharedErrorResponse(doc);
    assertSecurity(doc, bearerNames);
    const res = await fetch(`${baseUrl}/sandbox/wx-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 200);
    const issued = (await res.json()) as { code?: unknown };
    assert.equal(typeof issued.code, 'string');
  });

  describe('the document in detail (sandbox mode: every route mounted)', () => {
    let doc: Doc;
    before(async () => {
      doc = (await (await fetch(`${baseUrl}/docs-json`)).json()) as Doc;
    });

    test('every schema and every property of it has a description; every property an example or a schema to show', () => {
      for (const [name, schema] of Object.entries<any>(doc.components.schemas ?? {})) {
        assert.ok(typeof schema.description === 'string' && schema.description.length > 0, `schema ${name} has no description`);
        for (const [prop, def] of Object.entries<any>(schema.properties ?? {})) {
          assert.ok(typeof def.description === 'string' && def.description.length > 0, `${name}.${prop} has no description`);
          assert.ok(def.example !== undefined || def.$ref || def.allOf, `${name}.${prop} has no example`);
        }
      }
    });

    test('PATCH /users/me: each field may be null (clears it), and the body may be left out', () => {
      const op = doc.paths['/users/me'].patch;
      assert.equal(op.requestBody.required, false);
      const schema = resolve(doc, op.requestBody.content['application/json'].schema);
      for (const field of ['nickname', 'avatarUrl', 'gender', 'country', 'province', 'city']) assert.equal(schema.properties[field].nullable, true, `${field} is not nullable`);
    });

    test('GET /avatars/{id}: only the image is image/jpeg; its errors are JSON', () => {
      const responses = doc.paths['/avatars/{id}'].get.responses;
      assert.deepEqual(Object.keys(responses['200'].content), ['image/jpeg']);
      for (const status of ['404', '503']) assert.deepEqual(Object.keys(responses[status].content), ['application/json'], status);
    });

    test('response headers: Retry-After on the login 429, ETag and Cache-Control on the avatar, no-store on every answer with a token, a phone number or the User', () => {
      assert.ok(doc.paths['/wechat/login'].post.responses['429'].headers?.['Retry-After'], 'login 429 lacks Retry-After');
      for (const status of ['200', '304']) {
        const headers = doc.paths['/avatars/{id}'].get.responses[status].headers ?? {};
        assert.ok(headers.ETag && headers['Cache-Control'], `avatar ${status} headers: ${JSON.stringify(headers)}`);
      }
      for (const [method, path, status] of [
        ['post', '/wechat/login', '200'],
        ['post', '/wechat/phone', '200'],
        ['get', '/users/me', '200'],
        ['patch', '/users/me', '200'],
        ['put', '/users/me/avatar', '202'],
        ['post', '/users/me/avatar', '202'],
      ]) {
        const header = doc.paths[path][method].responses[status].headers?.['Cache-Control'];
        assert.deepEqual(header?.schema?.enum, ['no-store'], `${method.toUpperCase()} ${path} ${status}: ${JSON.stringify(header)}`);
      }
    });

    test('push routes: every query parameter has a type and a description; XML bodies are XML text', () => {
      for (const [path, item] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/wechat/push'))) {
        for (const method of ['get', 'post']) {
          for (const param of item[method].parameters.filter((p: any) => p.in === 'query')) {
            assert.equal(param.schema?.type, 'string', `${method} ${path} ?${param.name}: ${JSON.stringify(param.schema)}`);
            assert.ok(param.description, `${method} ${path} ?${param.name} has no description`);
          }
        }
        const content = item.post.requestBody.content;
        for (const type of ['text/xml', 'application/xml']) {
          assert.equal(content[type].schema.type, 'string', `${path} ${type}`);
          for (const [name, example] of Object.entries<any>(content[type].examples)) assert.match(example.value, /^<xml>[\s\S]*<\/xml>$/, `${path} ${type} example ${name}`);
        }
        for (const example of Object.values<any>(content['application/json'].examples)) assert.equal(typeof example.value, 'object');
      }
    });

    test('GET /health: 200 and 503 have schemas', () => {
      const responses = doc.paths['/health'].get.responses;
      const ok = resolve(doc, responses['200'].content['application/json'].schema);
      assert.equal(ok.properties.status.type, 'string');
      const down = resolve(doc, responses['503'].content['application/json'].schema);
      for (const field of ['statusCode', 'code', 'message', 'status', 'error']) assert.ok(down.properties[field], `503 lacks ${field}`);
    });

    test('413 and 415 are documented on every route that reads a body (Fastify answers them before any route code)', () => {
      for (const { method, path, op } of operations(doc)) {
        if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
        for (const status of ['413', '415']) assert.ok(op.responses[status], `${method.toUpperCase()} ${path} does not document ${status}`);
      }
    });

    test('POST /wechat/phone takes exactly one of { code } and { encryptedData, iv }', () => {
      const schema = doc.paths['/wechat/phone'].post.requestBody.content['application/json'].schema;
      assert.deepEqual(
        schema.oneOf?.map((s: any) => s.required),
        [['code'], ['encryptedData', 'iv']],
      );
      const fields = resolve(doc, schema);
      for (const field of ['code', 'encryptedData', 'iv']) assert.ok(fields.properties[field]?.description, field);
    });
  });

  test('the bodies the document says fail do fail as documented: 413 and 415 on a route that takes no body', async () => {
    const big = await fetch(`${baseUrl}/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'a'.repeat(70_000) }) });
    assert.equal(big.status, 413);
    const text = await fetch(`${baseUrl}/auth/logout`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(text.status, 415);
  });
});
