import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: any;
  /** Milliseconds from the first byte sent until the server closed the connection. */
  closedAfterMs: number;
  /** The answer after this one on the same connection (read by this one's Content-Length), if any. */
  next?: RawAnswer;
}

/**
 * Speaks HTTP/1.1 over a plain socket, for what fetch cannot send: malformed requests, oversized
 * headers, bodies dripped a byte at a time. `parts` are written in order, `gapMs` apart. Resolves
 * when the server closes the connection (or after `giveUpMs`, with status 0).
 */
export function rawHttp(baseUrl: string, parts: (string | Buffer)[], options: { gapMs?: number; giveUpMs?: number } = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks).toString('utf8'), Date.now() - started));
    };
    const giveUp = setTimeout(finish, options.giveUpMs ?? 10_000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', finish);
    socket.on('error', () => undefined); // a reset after the answer is still an answer
    let i = 0;
    const writeNext = () => {
      if (finished || socket.destroyed || i >= parts.length) return;
      socket.write(parts[i++]);
      if (i < parts.length) timer = setTimeout(writeNext, options.gapMs ?? 0);
    };
    socket.on('connect', writeNext);
  });
}

function parse(raw: string, closedAfterMs: number): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const text = end === -1 ? '' : raw.slice(end + 4);
  const [statusLine, ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  // A kept-alive connection may carry more answers: what follows this one's body is the next.
  const length = Number(headers['content-length']);
  const bytes = Buffer.from(text);
  const rest = end !== -1 && Number.isInteger(length) ? bytes.subarray(length).toString('utf8') : '';
  let body: any;
  try {
    body = JSON.parse(rest ? bytes.subarray(0, length).toString('utf8') : text);
  } catch {
    body = undefined;
  }
  return { status, headers, text, body, closedAfterMs, ...(rest ? { next: parse(rest, closedAfterMs) } : {}) };
}
