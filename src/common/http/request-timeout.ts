import type { FastifyInstance } from 'fastify';
import { answerAndClose } from './client-error-handler';

/**
 * REQUEST_TIMEOUT_MS for the body. Node's `requestTimeout` (set on the server, checked every
 * connectionsCheckingInterval) bounds the arrival of the headers, but a request handed to the
 * application is no longer watched by it while its body trickles in, so a body dripped a byte a
 * second would hold its socket for as long as the client likes. From the moment the headers are
 * in, the body gets the same time; then 408 REQUEST_TIMEOUT and the connection is closed.
 * A body already received with its headers (the usual case) costs nothing here.
 */
export function registerBodyTimeout(fastify: FastifyInstance, timeoutMs: number): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw;
    const length = raw.headers['content-length'];
    const hasBody = (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
    if (hasBody && !raw.complete) {
      const timer = setTimeout(() => {
        if (!raw.complete) answerAndClose(raw.socket, 'REQUEST_TIMEOUT', 'The request was not received in full in time');
      }, timeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      raw.once('end', clear);
      raw.once('close', clear);
    }
    done();
  });
}
