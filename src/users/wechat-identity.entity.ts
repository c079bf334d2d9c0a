import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { WechatUser } from './wechat-user.entity';

/**
 * A user's openid in one mini program: the schema TypeORM compares migrations against (`npm run
 * migration:generate` finds no drift). Queries are in WechatIdentityRepository.
 */
@Entity({ name: 'wechat_identity' })
@Index('uq_wechat_identity_app_open_id', ['appId', 'openId'], { unique: true })
export class WechatIdentity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  id: string;

  @Index('idx_wechat_identity_user_id')
  @Column({ name: 'user_id', type: 'bigint' })
  userId: string;

  @ManyToOne(() => WechatUser, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_wechat_identity_user' })
  user?: WechatUser;

  @Column({ name: 'app_id', type: 'varchar', length: 64 })
  appId: string;

  @Column({ name: 'open_id', type: 'varchar', length: 64 })
  openId: string;

  @Index('idx_wechat_identity_union_id', { where: '"union_id" IS NOT NULL' })
  @Column({ name: 'union_id', type: 'varchar', length: 64, nullable: true })
  unionId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_login_at', type: 'timestamptz', default: () => 'now()' })
  lastLoginAt: Date;
}
