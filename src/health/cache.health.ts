import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppCache } from '../cache/app-cache';

/** The cache answers a write and a read (always true for the memory cache; Redis may be away). */
@Injectable()
export class CacheHealthIndicator {
  constructor(
    private readonly cache: AppCache,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async isHealthy(key = 'cache') {
    const check = this.indicator.check(key);
    try {
      return (await this.cache.ping()) ? check.up() : check.down({ message: 'read back a different value' });
    } catch {
      return check.down({ message: 'unreachable' });
    }
  }
}
