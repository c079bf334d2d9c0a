import type { FastifyInstance } from 'fastify';
import { answerAndClose } from './client-error-handler';
import { forgetResponse, noteResponse } from './responses-in-flight';

/**
 * REQUEST_TIMEOUT_MS for the body. Node's `requestTimeout` (set on the server, checked every
 * connectionsCheckingInterval) bounds the arrival of the headers, but a request handed to the
 * application is no longer watched by it while its body trickles in, so a body dripped a byte a
 * second would hold its socket for as long as the client likes. From the moment the headers are
 * in, the body gets the same time; then 408 REQUEST_TIMEOUT and the connection is closed.
 * A body already received with its headers (the usual case) costs nothing here.
 *
 * The 408 goes straight to the socket, so it must not cut into another answer: on a kept-alive
 * connection it is sent between two answers, never while one is being written. These hooks keep
 * the record of that (see responses-in-flight.ts), which Node's own parser errors use too.
 */
export function registerBodyTimeout(fastify: FastifyInstance, timeoutMs: number): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const raw = request.raw;
    // Which answer the connection is waiting for: a 408 (here or for the next request's headers)
    // may be written only between two answers.
    noteResponse(raw.socket, reply.raw);
    const length = raw.headers['content-length'];
    const hasBody = (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
    if (hasBody && !raw.complete) {
      const timer = setTimeout(() => {
        if (raw.complete) return;
        // Refused before its body was read (429, 413): that answer is this request's; nothing may follow it.
        if (reply.raw.headersSent) raw.socket.destroy();
        else answerAndClose(raw.socket, 'REQUEST_TIMEOUT', 'The request was not received in full in time');
      }, timeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      raw.once('end', clear);
      raw.once('close', clear);
    }
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    forgetResponse(request.raw.socket, reply.raw);
    done();
  });
}
