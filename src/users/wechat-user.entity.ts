import { Check, Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * One mini program user, keyed by openid: the schema TypeORM compares migrations against
 * (`npm run migration:generate` finds no drift). Queries are in WechatUserRepository.
 */
@Entity({ name: 'wechat_user' })
@Check('wechat_user_gender_check', '"gender" IN (0, 1, 2)')
export class WechatUser {
  /** 64-bit: every re-login's upsert draws a sequence value. The driver returns it as a string. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  nickname: string | null;

  @Column({ name: 'avatar_url', type: 'varchar', length: 500, nullable: true })
  avatarUrl: string | null;

  /** 0 unknown, 1 male, 2 female. */
  @Column({ type: 'smallint', nullable: true })
  gender: number | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  country: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  province: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  city: string | null;

  /** An AES-256-GCM envelope naming its key (never the number itself). */
  @Column({ type: 'varchar', length: 255, nullable: true })
  mobile: string | null;

  /** Keyed hash of the number, for lookups. */
  @Index('idx_wechat_user_mobile_hash')
  @Column({ name: 'mobile_hash', type: 'varchar', length: 64, nullable: true })
  mobileHash: string | null;

  @Column({ name: 'mobile_verified_at', type: 'timestamptz', nullable: true })
  mobileVerifiedAt: Date | null;

  /** The avatar awaiting WeChat's image check. */
  @Column({ name: 'avatar_pending_url', type: 'varchar', length: 500, nullable: true })
  avatarPendingUrl: string | null;

  @Index('uq_wechat_user_open_id', { unique: true })
  @Column({ name: 'open_id', type: 'varchar', length: 64 })
  openId: string;

  @Index('idx_wechat_user_union_id')
  @Column({ name: 'union_id', type: 'varchar', length: 64, nullable: true })
  unionId: string | null;

  /** Bumped on logout and delete: every token carrying an older version is refused. */
  @Column({ name: 'token_version', type: 'integer', default: 0 })
  tokenVersion: number;

  /** Bumped by a trigger on every UPDATE: caches keep a user only if newer than what they hold. */
  @Column({ type: 'bigint', default: 0 })
  revision: string;

  /** When tokens were last revoked; every instance follows recent revocations from here. */
  @Index('idx_wechat_user_revoked_at', { where: '"revoked_at" IS NOT NULL' })
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
