import { Injectable } from '@nestjs/common';

/** Wall-clock time for the push freshness rule; its own provider so tests can set the time. */
@Injectable()
export class PushClock {
  nowMs(): number {
    return Date.now();
  }
}
