import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ERROR_STATUS, type ErrorCode } from '../errors/app-error';
import { toErrorBody } from '../errors/error-response';
import { responseInProgress } from './responses-in-flight';

/** What a failure of Node's HTTP parser (or its request timer) means to the client. */
function classify(err: { code?: string }): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return { code: 'REQUEST_TIMEOUT', message: 'The request was not received in full in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'HEADERS_TOO_LARGE', message: 'Request headers are too large' };
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { code: 'VALIDATION_FAILED', message: 'Malformed request: bad chunked transfer encoding' };
    case 'HPE_INVALID_METHOD':
      return { code: 'VALIDATION_FAILED', message: 'Malformed request: unknown method' };
    default:
      return { code: 'VALIDATION_FAILED', message: 'Malformed HTTP request' };
  }
}

function errorJson(statusCode: number, code: ErrorCode, message: string): string {
  return JSON.stringify({ statusCode, code, message });
}

/**
 * Writes a complete error answer straight to the socket, when no response is being written on it
 * (otherwise the peer would read a corrupt stream, or take ours for another request's answer): on a
 * fresh connection, or on a kept-alive one between two answers. Then closes the connection: the rest
 * of the stream cannot be trusted. For failures below Fastify, where no reply object exists.
 */
export function answerAndClose(socket: Socket, code: ErrorCode, message: string): void {
  if (socket.writable && !responseInProgress(socket)) {
    const status = ERROR_STATUS[code];
    const body = errorJson(status, code, message);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'X-Content-Type-Options: nosniff\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}

/**
 * Fastify's `clientErrorHandler`: errors raised by Node below Fastify (a malformed request line,
 * headers over Node's limit, bad chunked encoding, REQUEST_TIMEOUT_MS running out while the
 * headers arrive) get the same `{ statusCode, code, message }` JSON as every other error, then
 * the connection is closed, as Node and Fastify do themselves.
 */
export function createClientErrorHandler(logger: Logger): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // A reset means the client is gone: nothing to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { code, message } = classify(err);
    logger.debug({ err: { code: err.code, message: err.message }, code }, `client error: ${code}`);
    answerAndClose(socket, code, message);
  };
}

/**
 * The answers Node writes itself, bare (no JSON body, no nosniff), made ours:
 * - an HTTP/1.1 request without Host: Node's own check is turned off (the server is created with
 *   `requireHostHeader: false`), and refuseBadHost answers in its place;
 * - an `Expect` other than `100-continue`: Node answers a bare 417 unless the server has a
 *   'checkExpectation' listener. Ours keeps the 417 (the status RFC 9110 gives it) in the JSON shape,
 *   with the code of every other malformed request.
 * - a CONNECT request: Node closes the connection without an answer unless the server has a
 *   'connect' listener. Ours answers 405.
 * Either way the connection is closed, as Node does for a missing Host.
 */
export function takeOverNodeAnswers(server: Server): void {
  // CONNECT (a proxy tunnel): without a listener Node closes the connection without a word.
  server.on('connect', (_request, socket: Socket) => answerAndClose(socket, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported: this service is not a proxy'));
  server.on('checkExpectation', (_request, response) => {
    const body = errorJson(417, 'VALIDATION_FAILED', 'Unsupported Expect header: only "100-continue" is supported');
    response.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
      connection: 'close',
    });
    response.end(body);
  });
}

/**
 * What is wrong with a request's Host header, if anything: HTTP/1.1 requires exactly one (HTTP/1.0
 * has none to give). Node keeps only the first of several, so the raw lines are counted.
 */
export function hostProblem(request: FastifyRequest): string | undefined {
  const raw = request.raw;
  if (raw.headers.host === undefined) return raw.httpVersionMajor === 1 && raw.httpVersionMinor === 1 ? 'an HTTP/1.1 request needs a Host header' : undefined;
  const lines = raw.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < lines.length; i += 2) if (lines[i].length === 4 && lines[i].toLowerCase() === 'host' && ++hosts > 1) return 'more than one Host header';
  return undefined;
}

/** The 400 Node would have written for a missing Host (RFC 9112 asks the same for several), in our shape; the connection is closed. */
export function refuseBadHost(reply: FastifyReply, problem: string): void {
  const body = { statusCode: ERROR_STATUS.VALIDATION_FAILED, code: 'VALIDATION_FAILED', message: `Malformed request: ${problem}` };
  void reply.code(body.statusCode).header('connection', 'close').header('content-type', 'application/json; charset=utf-8').send(body);
}

/**
 * Fastify's `frameworkErrors`: its router refuses a URL that does not decode ('/%zz') or a route
 * parameter over its length before any hook or Nest filter runs; answer those in our shape too.
 */
export function frameworkErrorHandler(error: Error, _request: FastifyRequest, reply: FastifyReply): void {
  const { body } = toErrorBody(error);
  void reply.code(body.statusCode).header('x-content-type-options', 'nosniff').header('content-type', 'application/json; charset=utf-8').send(body);
}
