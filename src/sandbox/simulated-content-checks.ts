/**
 * How the sandbox WeChat judges content (its msg_sec_check and media_check_async), so a demo or a
 * test can produce every verdict on purpose:
 *   text:  containing "risky" (any case) → risky, label 20001; containing "review" → review, 21000; else pass, 100.
 *   image: judged by its pixels. More than half of them pure red (R ≥ 200, G ≤ 60, B ≤ 60, which
 *          survives JPEG re-encoding) → risky, label 20002; more than half pure green → review,
 *          label 21000; anything else → pass, 100. An image that cannot be fetched or decoded → risky, 21000.
 */
import sharp from 'sharp';

export type SimSuggest = 'pass' | 'review' | 'risky';
export interface SimVerdict {
  suggest: SimSuggest;
  label: string;
}

export function judgeText(content: string): SimVerdict {
  const text = content.toLowerCase();
  if (text.includes('risky')) return { suggest: 'risky', label: '20001' };
  if (text.includes('review')) return { suggest: 'review', label: '21000' };
  return { suggest: 'pass', label: '100' };
}

/** Share of pixels (0..1) that are pure red and pure green, from a small decoded copy. */
async function colourShares(image: Buffer): Promise<{ red: number; green: number }> {
  const { data, info } = await sharp(image, { limitInputPixels: 4096 * 4096 })
    .resize(64, 64, { fit: 'inside' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let red = 0;
  let green = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (r >= 200 && g <= 60 && b <= 60) red++;
    if (g >= 200 && r <= 60 && b <= 60) green++;
  }
  const pixels = data.length / info.channels;
  return { red: red / pixels, green: green / pixels };
}

export async function judgeImage(image: Buffer): Promise<SimVerdict> {
  try {
    const { red, green } = await colourShares(image);
    if (red > 0.5) return { suggest: 'risky', label: '20002' };
    if (green > 0.5) return { suggest: 'review', label: '21000' };
    return { suggest: 'pass', label: '100' };
  } catch {
    return { suggest: 'risky', label: '21000' };
  }
}

/** Fetches what media_check_async was given, as WeChat's crawler would (10 s, at most 10 MiB). */
export async function fetchMedia(url: string): Promise<Buffer | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) return undefined;
    const body = Buffer.from(await res.arrayBuffer());
    return body.length <= 10 * 1024 * 1024 ? body : undefined;
  } catch {
    return undefined;
  }
}

/** The `wxa_media_check` push WeChat sends with a verdict (JSON form; the XML form has the same names). */
export interface MediaCheckPush {
  ToUserName: string;
  FromUserName: string;
  CreateTime: number;
  MsgType: 'event';
  Event: 'wxa_media_check';
  appid: string;
  trace_id: string;
  version: 2;
  result: { suggest: SimSuggest; label: string };
  detail: { strategy: string; errcode: number; suggest: SimSuggest; label: string; prob: number }[];
}

export function mediaCheckPush(input: { appId: string; openId: string; traceId: string; verdict: SimVerdict; now: number }): MediaCheckPush {
  return {
    ToUserName: 'gh_sandbox00000',
    FromUserName: input.openId,
    CreateTime: Math.floor(input.now / 1000),
    MsgType: 'event',
    Event: 'wxa_media_check',
    appid: input.appId,
    trace_id: input.traceId,
    version: 2,
    result: { ...input.verdict },
    detail: [{ strategy: 'content_model', errcode: 0, suggest: input.verdict.suggest, label: input.verdict.label, prob: 90 }],
  };
}
