import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

/** The channel the `avatar_image` delete trigger notifies, with the image id as payload. */
export const AVATAR_DELETED_CHANNEL = 'avatar_image_deleted';
const RECONNECT_MS = 2000;
/**
 * A connection that falls silent (a dropped network path: no reset ever arrives) would otherwise look
 * live while notifications are lost: it must answer a statement this often, within HEARTBEAT_MS too.
 */
const HEARTBEAT_MS = 1000;
/** A goodbye the server never acknowledges must not hold the shutdown. */
const END_WAIT_MS = 1000;

/**
 * Tells this instance at once when any instance deletes an avatar (a rejected, replaced or
 * account's image): PostgreSQL LISTEN on its own connection, fed by a trigger on every delete,
 * whichever code path (or SQL) did it. While the connection is down, `live` is false and no
 * cached image may be trusted; a connection that stops answering counts as down within two heartbeats.
 */
@Injectable()
export class AvatarDeletions implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AvatarDeletions.name);
  private readonly handlers: ((id: string | undefined) => void)[] = [];
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private stopped = false;
  live = false;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** `id` is undefined when notifications may have been missed: forget everything. */
  onDeleted(handler: (id: string | undefined) => void): void {
    this.handlers.push(handler);
  }

  async onModuleInit(): Promise<void> {
    await this.connect();
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
    const options = this.db.options as { url?: string };
    const client = new Client({ connectionString: options.url, connectionTimeoutMillis: 3000, keepAlive: true, query_timeout: HEARTBEAT_MS });
    const down = () => {
      if (this.client !== client) return;
      clearInterval(this.heartbeat);
      this.live = false;
      this.client = undefined;
      this.emit(undefined);
      client.end().catch(() => undefined);
      if (!this.stopped) this.timer = setTimeout(() => void this.connect(), RECONNECT_MS);
    };
    client.on('error', down);
    client.on('end', down);
    client.on('notification', (msg) => this.emit(msg.payload));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${AVATAR_DELETED_CHANNEL}`);
      if (this.client !== client) return;
      // Anything deleted while we were not listening is unknown: start from nothing.
      this.emit(undefined);
      this.live = true;
      const lost = (err: Error) => {
        if (this.client === client) this.logger.warn({ reason: err.message }, 'avatar deletion listener lost its connection: reconnecting');
        down();
      };
      this.heartbeat = setInterval(() => void client.query('SELECT 1').catch(lost), HEARTBEAT_MS).unref();
    } catch (err) {
      this.logger.warn({ reason: (err as Error).message }, 'avatar deletion listener unavailable: serving avatars without the in-memory cache');
      down();
    }
  }

  private emit(id: string | undefined): void {
    for (const handler of this.handlers) handler(id);
  }
}
