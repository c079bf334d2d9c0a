import { ApiError } from './errors';

/** What `fail` callbacks receive on every platform. */
export interface PlatformFailure {
  errMsg?: string;
}

export interface PlatformResponse {
  statusCode: number;
  /** Parsed JSON when the body was JSON (`dataType: 'json'`), otherwise the text. */
  data: unknown;
  header?: Record<string, string>;
}

/**
 * The part of `wx` the client uses. Taro (`Taro`) and uni-app (`uni`) offer the same callback-style
 * API, so any of them can be passed as the platform.
 */
export interface Platform {
  login(options: { success(result: { code?: string }): void; fail(failure: PlatformFailure): void }): unknown;
  request(options: {
    url: string;
    method: string;
    data?: unknown;
    header?: Record<string, string>;
    dataType?: string;
    success(result: PlatformResponse): void;
    fail(failure: PlatformFailure): void;
  }): unknown;
  /** Always a `multipart/form-data` POST: WeChat's `wx.uploadFile` has no method option. */
  uploadFile(options: {
    url: string;
    filePath: string;
    name: string;
    header?: Record<string, string>;
    formData?: Record<string, string>;
    success(result: { statusCode: number; data: unknown }): void;
    fail(failure: PlatformFailure): void;
  }): unknown;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): unknown;
  removeStorageSync(key: string): unknown;
}

// The mini program's global; absent under Taro/uni-app builds for other targets and in Node.
declare const wx: Platform | undefined;

export function globalPlatform(): Platform | undefined {
  return typeof wx === 'undefined' ? undefined : wx;
}

const failureText = (failure: PlatformFailure | undefined, fallback: string) => (failure && failure.errMsg) || fallback;

export function wxLogin(platform: Platform): Promise<string> {
  return new Promise((resolve, reject) => {
    platform.login({
      success: (result) => {
        if (result && typeof result.code === 'string' && result.code) resolve(result.code);
        else reject(new ApiError('WX_LOGIN_FAILED', 0, 'wx.login gave no code'));
      },
      fail: (failure) => reject(new ApiError('WX_LOGIN_FAILED', 0, failureText(failure, 'wx.login failed'))),
    });
  });
}

export function wxRequest(platform: Platform, options: { url: string; method: string; data?: unknown; header?: Record<string, string> }): Promise<PlatformResponse> {
  return new Promise((resolve, reject) => {
    platform.request({
      url: options.url,
      method: options.method,
      data: options.data,
      header: options.header,
      dataType: 'json',
      success: (result) => resolve(result),
      fail: (failure) => reject(new ApiError('NETWORK_ERROR', 0, failureText(failure, 'request failed'))),
    });
  });
}

export function wxUploadFile(platform: Platform, options: { url: string; filePath: string; name: string; header?: Record<string, string> }): Promise<PlatformResponse> {
  return new Promise((resolve, reject) => {
    platform.uploadFile({
      url: options.url,
      filePath: options.filePath,
      name: options.name,
      header: options.header,
      success: (result) => resolve({ statusCode: result.statusCode, data: result.data }),
      fail: (failure) => reject(new ApiError('NETWORK_ERROR', 0, failureText(failure, 'uploadFile failed'))),
    });
  });
}
