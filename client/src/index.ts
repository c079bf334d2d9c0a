export { createClient, DEFAULT_STORAGE_KEY, AVATAR_PATH, type Client, type ClientOptions, type StoredSession } from './client';
export { ApiError, isApiError, type ErrorCode, type ServiceErrorCode, type ClientErrorCode } from './errors';
export type { Platform, PlatformFailure, PlatformResponse } from './platform';
export type { User, LoginResult, ProfilePatch, PhoneNumber, RequestOptions, HttpMethod } from './types';
