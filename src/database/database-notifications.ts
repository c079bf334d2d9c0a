import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Client } from 'pg';

const RECONNECT_MS = 2000;
/**
 * A connection that falls silent (a dropped network path: no reset ever arrives) would otherwise look
 * live while notifications are lost: it must answer a statement this often, within HEARTBEAT_MS too.
 */
const HEARTBEAT_MS = 1000;
/** A goodbye the server never acknowledges must not hold the shutdown. */
const END_WAIT_MS = 1000;
const CHANNEL = /^[a-z_]+$/;

/** A notification's payload, or undefined when notifications may have been missed (connection lost or made anew). */
export type NotificationHandler = (payload: string | undefined) => void;

/**
 * PostgreSQL `NOTIFY`s reach this instance at once, whichever instance (or SQL) caused them: one
 * `LISTEN` connection of its own for every channel, fed by triggers. While that connection is down,
 * `live` is false and whatever a channel would have said is unknown: handlers hear `undefined` when
 * it goes down and again when it is back. A connection that stops answering counts as down within
 * two heartbeats.
 */
@Injectable()
export class DatabaseNotifications implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DatabaseNotifications.name);
  private readonly handlers = new Map<string, NotificationHandler[]>();
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private stopped = false;
  live = false;

  constructor(private readonly url: string) {}

  /** Call from a constructor: the channels are listened to once the application starts. */
  subscribe(channel: string, handler: NotificationHandler): void {
    if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }

  /** Once the migrations have run: a handler may read what the notifications are about. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.handlers.size > 0) await this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.live = false;
    const ended = this.client?.end().catch(() => undefined);
    if (ended) await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, END_WAIT_MS).unref())]);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 3000, keepAlive: true, query_timeout: HEARTBEAT_MS });
    const down = () => {
      if (this.client !== client) return;
      clearInterval(this.heartbeat);
      this.live = false;
      this.client = undefined;
      this.emitMissed();
      client.end().catch(() => undefined);
      if (!this.stopped) this.timer = setTimeout(() => void this.connect(), RECONNECT_MS);
    };
    client.on('error', down);
    client.on('end', down);
    client.on('notification', (msg) => {
      for (const handler of this.handlers.get(msg.channel) ?? []) handler(msg.payload);
    });
    this.client = client;
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
      if (this.client !== client) return;
      // Anything notified while we were not listening is unknown.
      this.emitMissed();
      this.live = true;
      const lost = (err: Error) => {
        if (this.client === client) this.logger.warn({ reason: err.message }, 'database notifications lost their connection: reconnecting');
        down();
      };
      this.heartbeat = setInterval(() => void client.query('SELECT 1').catch(lost), HEARTBEAT_MS).unref();
    } catch (err) {
      this.logger.warn({ reason: (err as Error).message }, 'database notifications unavailable: reconnecting');
      down();
    }
  }

  /** Tells every handler that notifications may have been missed. */
  private emitMissed(): void {
    for (const handlers of this.handlers.values()) for (const handler of handlers) handler(undefined);
  }
}
