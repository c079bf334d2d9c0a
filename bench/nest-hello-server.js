'use strict';
// The framework's own ceiling: a minimal NestJS app on the same Fastify adapter, one route answering
// a small JSON object. What the app adds on top of this is the app's cost; the rest is Nest's.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

// Plain JavaScript has no decorator syntax: apply Nest's decorators as the compiler would.
class HelloController {
  hello() {
    return { hello: 'world' };
  }
}
Get()(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));
Controller()(HelloController);
class HelloModule {}
Module({ controllers: [HelloController] })(HelloModule);

NestFactory.create(HelloModule, new FastifyAdapter(), { logger: false }).then(async (app) => {
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send?.({ ready: true, port: app.getHttpServer().address().port });
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
});
