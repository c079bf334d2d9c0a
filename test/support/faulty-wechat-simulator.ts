import { setTimeout as sleep } from 'node:timers/promises';
import { HANG, JSON_TYPE, type SimRequest, type SimResponse, WechatSimulator, wxError } from '../../src/sandbox/wechat-simulator';

/**
 * What a WeChat request can go wrong with, for tests: an errcode, a gateway page, HTTP 500, no answer, a
 * delay, an answer held back until the test lets it go (`until` resolves), or the normal answer sent a
 * few bytes at a time (`drip`, every `ms`: a slow link or a stalled proxy that never goes quiet).
 */
export type Fault =
  | { errcode: number; errmsg?: string }
  | { kind: 'html' }
  | { kind: 'http500' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hold'; until: Promise<void> }
  | { kind: 'drip'; ms: number };

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

/**
 * The simulator with fault injection, for tests only: the sandbox never fails on purpose.
 */
export class FaultyWechatSimulator extends WechatSimulator {
  private readonly faults = new Map<string, QueuedFault[]>();

  /**
   * The next `times` requests to `path` get `fault` instead of a normal answer
   * (faults queued for one path apply in order). A faulted request changes no
   * state: a login or phone code stays usable. 'delay' and 'hold' wait, then answer normally.
   */
  fail(path: string, fault: Fault, times = Infinity): void {
    if (!(times >= 1)) throw new Error('times must be >= 1');
    const queue = this.faults.get(path) ?? [];
    queue.push({ fault, remaining: times });
    this.faults.set(path, queue);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Clears recorded requests, counters and faults. Codes, sessions and tokens stay. */
  reset(): void {
    super.reset();
    this.clearFaults();
  }

  protected async intercept(request: SimRequest): Promise<SimResponse | undefined> {
    const fault = this.takeFault(request.path);
    if (fault && 'kind' in fault && fault.kind === 'drip') return { ...(await this.answer(request)), dripMs: fault.ms };
    return fault ? this.applyFault(fault) : undefined;
  }

  private takeFault(path: string): Fault | undefined {
    const queue = this.faults.get(path);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    if (queue.length === 0) this.faults.delete(path);
    return head.fault;
  }

  /** The faulted answer, or undefined when the request should proceed normally ('delay', 'hold'). */
  private async applyFault(fault: Fault): Promise<SimResponse | undefined> {
    if ('errcode' in fault) return wxError(fault.errcode, JSON_TYPE, fault.errmsg);
    switch (fault.kind) {
      case 'html':
        // What a gateway error page looks like: HTTP 200, not JSON.
        return {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: '<html><head><title>系统繁忙</title></head><body><h1>系统繁忙，请稍后再试</h1></body></html>',
        };
      case 'http500':
        return {
          status: 500,
          headers: { 'content-type': 'text/html' },
          body: '<html><head><title>500 Internal Server Error</title></head><body><center><h1>500 Internal Server Error</h1></center></body></html>',
        };
      case 'hang':
        return HANG;
      case 'delay':
        await sleep(fault.ms);
        return undefined;
      case 'hold':
        await fault.until;
        return undefined;
      case 'drip':
        return undefined; // see intercept
    }
  }
}
