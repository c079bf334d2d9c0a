import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectJwtSettings } from '../config/config.module';
import type { JwtSettings } from '../config/configuration';
import { DatabaseNotifications } from '../database/database-notifications';
import { WechatUserRepository } from './wechat-user.repository';

const POLL_EVERY_MS = 1000;
/** Notified by a trigger on every raised `token_version`, as `<id>:<token_version>`. */
const REVOKED_CHANNEL = 'wechat_user_revoked';
/** Revocations committed late (a transaction that began before its neighbours) are still seen. */
const OVERLAP_MS = 10_000;
/** ~50 bytes each: bounded so an instance's memory stays small whatever the revocation rate. */
const MAX_TRACKED = 200_000;

/**
 * The lowest token version each recently revoked user still accepts, followed from the database by
 * every instance. The shared cache answers token checks quickly, but a cache can lose or roll back a
 * value (Redis restarted from an older snapshot, a write that failed after the database committed);
 * this floor, taken from the database itself, keeps a revoked token refused whatever the cache holds.
 * It covers the tokens' lifetime at start; then every revocation is notified to every instance at
 * commit, and a poll once a second covers the times the notifications' connection is down.
 */
@Injectable()
export class TokenRevocations implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TokenRevocations.name);
  private readonly floor = new Map<number, number>();
  private since: Date;
  private timer?: NodeJS.Timeout;
  private lastFailureLogged = 0;

  constructor(
    private readonly users: WechatUserRepository,
    @InjectJwtSettings() jwt: JwtSettings,
    notifications: DatabaseNotifications,
  ) {
    this.since = new Date(Date.now() - jwt.expiresInSeconds * 1000);
    notifications.subscribe(REVOKED_CHANNEL, (payload) => {
      // Undefined: some may have been missed while the connection was down; the poll reads them.
      if (payload === undefined) return void this.poll().catch((err) => this.failed(err));
      const [id, version] = payload.split(':').map(Number);
      if (Number.isSafeInteger(id) && Number.isSafeInteger(version)) this.record(id, version);
    });
  }

  /** The lowest version a token of this user may carry, if a revocation of theirs is known here. */
  minimumVersion(userId: number): number | undefined {
    return this.floor.get(userId);
  }

  /** A revocation this instance made or learnt of: tokens below `tokenVersion` are refused from now on. */
  record(userId: number, tokenVersion: number): void {
    const held = this.floor.get(userId);
    if (held !== undefined && held >= tokenVersion) return;
    this.floor.delete(userId); // re-inserted last: the oldest revocations make room first
    if (this.floor.size >= MAX_TRACKED) this.floor.delete(this.floor.keys().next().value!);
    this.floor.set(userId, tokenVersion);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.poll().catch((err) => this.failed(err));
    this.timer = setInterval(() => void this.poll().catch((err) => this.failed(err)), POLL_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Reads the revocations since the last poll (with an overlap) and raises the floor. */
  async poll(): Promise<void> {
    const rows = await this.users.revokedSince(this.since, MAX_TRACKED);
    for (let i = rows.length - 1; i >= 0; i--) this.record(rows[i].id, rows[i].tokenVersion);
    if (rows.length > 0) this.since = new Date(Math.max(this.since.getTime(), rows[0].revokedAt.getTime() - OVERLAP_MS));
  }

  private failed(err: unknown): void {
    if (Date.now() - this.lastFailureLogged < 10_000) return;
    this.lastFailureLogged = Date.now();
    this.logger.warn(`could not read token revocations: ${(err as Error)?.message ?? err}`);
  }
}
