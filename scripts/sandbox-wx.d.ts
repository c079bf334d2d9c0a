import type { Platform } from '../client/src';

/** One HTTP exchange the fake wx made, as the demo prints it and tests count it. */
export interface WxExchange {
  api: 'login' | 'request' | 'uploadFile' | 'sandbox';
  method: string;
  /** Path and query on the service. */
  path: string;
  status: number;
  /** The Authorization header sent, if any. */
  authorization?: string;
  body?: unknown;
}

export interface SandboxWx extends Platform {
  readonly openId: string;
  readonly counts: { login: number; request: number; uploadFile: number };
  sandboxPhoneCode(phoneNumber?: string): Promise<string>;
}

export function createSandboxWx(options: { sandboxUrl: string; openId?: string; onExchange?: (exchange: WxExchange) => void }): SandboxWx;
