'use strict';
// The ceiling of this stack on this machine: bare Fastify answering a small JSON object.
const fastify = require('fastify')({ logger: false });
fastify.get('/', async () => ({ hello: 'world' }));
fastify.listen({ port: 0, host: '127.0.0.1' }).then(() => {
  process.send?.({ ready: true, port: fastify.server.address().port });
});
process.on('SIGTERM', () => fastify.close().then(() => process.exit(0)));
