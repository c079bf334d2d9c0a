import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const CURRENT = Symbol('response in flight');
const EARLIER = Symbol('earlier response in flight');

/**
 * The response of the latest request on a connection until it has gone out, and the one before it
 * while that is still unfinished (only a pipelining client has two).
 */
type TrackedSocket = Socket & { [CURRENT]?: ServerResponse; [EARLIER]?: ServerResponse };

/** A request reached Fastify on this socket; `response` is its answer-to-be. */
export function noteResponse(socket: Socket, response: ServerResponse): void {
  const tracked = socket as TrackedSocket;
  tracked[EARLIER] = tracked[CURRENT];
  tracked[CURRENT] = response;
}

/** `response` has gone out; forgotten so an idle kept-alive socket holds no finished exchange. */
export function forgetResponse(socket: Socket, response: ServerResponse): void {
  const tracked = socket as TrackedSocket;
  if (tracked[CURRENT] === response) tracked[CURRENT] = tracked[EARLIER] = undefined;
}

/**
 * Whether an answer written straight to the socket now would land inside another response, or be
 * read as the answer to an earlier request whose response is still pending. Node's own record of
 * this is internal; ours is kept by the hooks of registerBodyTimeout. A request whose body is still
 * arriving may be answered (its answer is the one pending) as long as nothing of that answer went
 * out and no earlier response is still being written.
 */
export function responseInProgress(socket: Socket): boolean {
  const tracked = socket as TrackedSocket;
  const current = tracked[CURRENT];
  if (current === undefined || current.writableFinished) return false;
  if (current.req.complete || current.headersSent) return true;
  const earlier = tracked[EARLIER];
  return earlier !== undefined && !earlier.writableFinished;
}
