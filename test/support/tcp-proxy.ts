import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of a real server, to play network failures no server process can:
 * `silence()` keeps every connection open but forwards nothing either way (a cable pulled, a firewall
 * dropping packets: no reset ever arrives), and new connections are accepted but silenced too;
 * `restore()` forwards new connections again while the silenced ones stay dead.
 */
export class TcpProxy {
  private silenced = false;
  private readonly pairs = new Set<{ client: Socket; upstream?: Socket; dead: boolean }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.accept(client, target));
    return proxy;
  }

  silence(): void {
    this.silenced = true;
    for (const pair of this.pairs) {
      pair.dead = true;
      pair.client.unpipe();
      pair.upstream?.unpipe();
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  restore(): void {
    this.silenced = false;
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream?.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    client.on('error', () => undefined);
    if (this.silenced) {
      client.pause();
      this.pairs.add({ client, dead: true });
      return;
    }
    const upstream = createConnection(target);
    const pair = { client, upstream, dead: false };
    // A silenced connection tells the client nothing, not even that the server went away.
    upstream.on('error', () => undefined);
    upstream.on('close', () => pair.dead || client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    this.pairs.add(pair);
  }
}
