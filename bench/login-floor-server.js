'use strict';
// The login's floor: what the design card's own stack costs for the work every login must do, and
// nothing else. A minimal NestJS-on-Fastify app whose POST /wechat/login validates the app's own
// WechatLoginRequest with the app's own ValidationPipe, asks WeChat for the session (undici),
// runs the app's login statement (pg, prepared), and signs a token (JwtService). No signature check,
// decryption, session key, cache, guard, hooks or log line: the app's CPU per login above this
// floor's is what those cost.
require('reflect-metadata');
const { Body, Controller, HttpCode, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { JwtService } = require('@nestjs/jwt');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { createSecretKey, randomBytes } = require('node:crypto');
const { Pool } = require('undici');
const { createValidationPipe } = require('../dist/common/validation/validation-pipe.js');
const { Sql } = require('../dist/database/sql.js');
const { WechatUserRepository } = require('../dist/users/wechat-user.repository.js');
const { WechatLoginRequest } = require('../dist/wechat/dto/wechat-login.request.js');

const { BENCH_APPID: appId, BENCH_SECRET: secret, WECHAT_API_BASE_URL: wechatUrl, DATABASE_URL: databaseUrl } = process.env;
const wechat = new Pool(wechatUrl, { connections: 16 });
const sql = new Sql({ connectionString: databaseUrl, max: 10 });
const users = new WechatUserRepository(sql);
const jwt = new JwtService({ secret: createSecretKey(randomBytes(32)), signOptions: { algorithm: 'HS256' } });

// Plain JavaScript has no decorator syntax: apply Nest's decorators as the compiler would.
class LoginController {
  async login(body) {
    const res = await wechat.request({ method: 'GET', path: `/sns/jscode2session?appid=${appId}&secret=${secret}&js_code=${encodeURIComponent(body.code)}&grant_type=authorization_code` });
    const session = await res.body.json();
    // The bench logs in known users only: the statement finds their identity.
    const record = await users.login(sql, appId, session.openid, session.unionid, {});
    const token = jwt.sign({ sub: String(record.user.id), ver: record.tokenVersion, app: appId }, { expiresIn: 604_800, issuer: 'bench', audience: 'bench' });
    return { token, tokenType: 'Bearer', expiresIn: 604_800, user: record.user };
  }
}
Reflect.defineMetadata('design:paramtypes', [WechatLoginRequest], LoginController.prototype, 'login');
Body()(LoginController.prototype, 'login', 0);
const login = Object.getOwnPropertyDescriptor(LoginController.prototype, 'login');
HttpCode(200)(LoginController.prototype, 'login', login);
Post('login')(LoginController.prototype, 'login', login);
Controller('wechat')(LoginController);
class FloorModule {}
Module({ controllers: [LoginController] })(FloorModule);

NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false }).then(async (app) => {
  app.useGlobalPipes(createValidationPipe());
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send?.({ ready: true, port: app.getHttpServer().address().port });
  process.on('SIGTERM', () =>
    app
      .close()
      .then(() => sql.onApplicationShutdown())
      .then(() => process.exit(0)),
  );
});
