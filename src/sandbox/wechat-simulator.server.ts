/**
 * Serves a WechatSimulator over real HTTP (node:http), so the app's WeChat
 * client is exercised end to end: sockets, keep-alive, timeouts, bad bodies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isHang, type SimResponse, type WechatSimulator } from './wechat-simulator';

const MAX_BODY_BYTES = 64 * 1024;
const DRIP_BYTES = 8;
const TOO_LARGE = Symbol('too large');

export interface WechatSimulatorServer {
  /** Base URL to use as WECHAT_API_BASE_URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  port: number;
  /** Stops listening and destroys every connection, hanging ones included. Idempotent. */
  close(): Promise<void>;
  /** Open client connections right now (tests check that clients pool and release sockets). */
  connections(): Promise<number>;
  /** The most connections that were open at once since the start. */
  peakConnections(): number;
}

export async function startWechatSimulatorServer(sim: WechatSimulator, opts: { host?: string; port?: number } = {}): Promise<WechatSimulatorServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => void serve(sim, req, res));
  let open = 0;
  let peak = 0;
  server.on('connection', (socket) => {
    peak = Math.max(peak, ++open);
    socket.once('close', () => open--);
  });
  await listen(server, opts.port ?? 0, host);

  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () => (closing ??= closeServer(server)),
    connections: () => new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    peakConnections: () => peak,
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // close() alone waits for busy sockets; a hanging request would block it forever.
    server.closeAllConnections();
  });
}

async function serve(sim: WechatSimulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.on('error', () => undefined); // the client went away; nothing to do
  try {
    const raw = await readBody(req);
    if (raw === TOO_LARGE) {
      send(res, jsonAnswer(413, { errcode: -1, errmsg: 'request entity too large' }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const answer = await sim.handle({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: parseBody(raw),
    });
    // 'hang': never answer; the socket stays open until the client gives up or close().
    if (isHang(answer)) return;
    send(res, answer);
  } catch {
    send(res, jsonAnswer(500, { errcode: -1, errmsg: 'system error' }));
  }
}

/** Reads the whole body; past the cap the rest is drained and dropped, so the client always gets its 413. */
function readBody(req: IncomingMessage): Promise<string | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? TOO_LARGE : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** JSON when it parses, the raw text when it does not (routes answer 47001), undefined when empty. */
function parseBody(raw: string): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function jsonAnswer(status: number, body: object): SimResponse {
  return { status, headers: { 'content-type': 'application/json; encoding=utf-8' }, body: JSON.stringify(body) };
}

function send(res: ServerResponse, answer: SimResponse): void {
  if (res.destroyed || res.headersSent) return;
  const headers: Record<string, string | number> = {
    ...answer.headers,
    'content-length': Buffer.byteLength(answer.body),
  };
  res.writeHead(answer.status, headers);
  if (!answer.dripMs) return void res.end(answer.body);
  res.flushHeaders();
  const bytes = Buffer.from(answer.body);
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return void clearInterval(timer);
    res.write(bytes.subarray(sent, sent + DRIP_BYTES));
    sent += DRIP_BYTES;
    if (sent >= bytes.length) {
      clearInterval(timer);
      res.end();
    }
  }, answer.dripMs);
  res.on('close', () => clearInterval(timer));
}
