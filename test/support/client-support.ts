import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
export { startSandboxApp, type SandboxApp } from './test-app';

export type ClientPackage = typeof import('../../client/src');
export type SandboxWxModule = typeof import('../../scripts/sandbox-wx');

/** The repository root: the folder above this compiled file that holds client/package.json. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'client', 'package.json')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('repository root not found above ' + __dirname);
  }
}

/** Where `npm test` built the client with its own tsconfig (the ES2017 output that ships). */
export function clientDist(): string {
  const dir = process.env.CLIENT_DIST;
  if (!dir || !existsSync(join(dir, 'index.js'))) throw new Error('CLIENT_DIST is not set or not built: run the tests with `npm test`');
  return dir;
}

/** The shipped client, as a mini program would load it. */
export function loadClient(): ClientPackage {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built CommonJS file, found at run time
  return require(clientDist()) as ClientPackage;
}

/** A real image in a temporary file, as `<button open-type="chooseAvatar">` hands one to the page. */
export async function tempImage(dir: string, color = '#1e8cc8'): Promise<string> {
  const path = join(dir, `tmp_${Math.random().toString(36).slice(2)}.png`);
  writeFileSync(
    path,
    await sharp({ create: { width: 96, height: 96, channels: 3, background: color } })
      .png()
      .toBuffer(),
  );
  return path;
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The Node stand-in for `wx` that `npm run demo` uses too. */
export function loadSandboxWx(): SandboxWxModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain script of the repository, found at run time
  return require(join(repoRoot(), 'scripts', 'sandbox-wx.js')) as SandboxWxModule;
}
