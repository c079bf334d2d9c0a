import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { judgeImage, judgeText, mediaCheckPush } from './simulated-content-checks';

const field = (color: string, width = 200, height = 200) => sharp({ create: { width, height, channels: 3, background: color } });

describe('the sandbox content checks', () => {
  test('text: "risky" anywhere (any case) → risky 20001, "review" → review, else pass 100', () => {
    assert.deepEqual(judgeText('so RISKY'), { suggest: 'risky', label: '20001' });
    assert.deepEqual(judgeText('please review me'), { suggest: 'review', label: '21000' });
    assert.deepEqual(judgeText('小明'), { suggest: 'pass', label: '100' });
  });

  test('image: mostly pure red → risky (also after JPEG), mostly green → review, else pass; undecodable → risky', async () => {
    assert.deepEqual(await judgeImage(await field('#ff0000').jpeg({ quality: 60 }).toBuffer()), { suggest: 'risky', label: '20002' });
    assert.deepEqual(await judgeImage(await field('#00ff00').png().toBuffer()), { suggest: 'review', label: '21000' });
    assert.deepEqual(await judgeImage(await field('#1e8cc8').png().toBuffer()), { suggest: 'pass', label: '100' });
    // A red stripe on a blue field is not "predominantly" red.
    const stripe = await field('#1e8cc8')
      .composite([{ input: await field('#ff0000', 200, 60).png().toBuffer(), top: 0, left: 0 }])
      .png()
      .toBuffer();
    assert.equal((await judgeImage(stripe)).suggest, 'pass');
    assert.deepEqual(await judgeImage(Buffer.from('not an image')), { suggest: 'risky', label: '21000' });
  });

  test("the verdict push has WeChat's wxa_media_check shape", () => {
    const push = mediaCheckPush({ appId: 'wxapp', openId: 'oUser', traceId: 't-1', verdict: { suggest: 'pass', label: '100' }, now: 1_700_000_000_000 });
    assert.deepEqual(
      { ...push, detail: undefined },
      {
        ToUserName: push.ToUserName,
        FromUserName: 'oUser',
        CreateTime: 1_700_000_000,
        MsgType: 'event',
        Event: 'wxa_media_check',
        appid: 'wxapp',
        trace_id: 't-1',
        version: 2,
        result: { suggest: 'pass', label: '100' },
        detail: undefined,
      },
    );
    assert.equal(push.detail[0].suggest, 'pass');
  });
});
