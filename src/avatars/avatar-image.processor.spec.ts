import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { AvatarImageProcessor, InvalidImageError } from './avatar-image.processor';

/** A real image made here: a colour field with a diagonal stripe, so it is not trivially compressible. */
export async function makeImage(format: 'png' | 'jpeg' | 'webp' | 'gif', width = 800, height = 600, color = { r: 30, g: 140, b: 200 }): Promise<Buffer> {
  const stripe = Buffer.from(`<svg width="${width}" height="${height}"><path d="M0 0 L${width} ${height}" stroke="yellow" stroke-width="40"/></svg>`);
  return sharp({ create: { width, height, channels: 3, background: color } })
    .composite([{ input: stripe }])
    [format]()
    .toBuffer();
}

describe('AvatarImageProcessor', () => {
  const processor = new AvatarImageProcessor();

  for (const format of ['png', 'jpeg', 'webp', 'gif'] as const) {
    test(`a ${format.toUpperCase()} becomes a JPEG of at most 640×640, aspect kept`, async () => {
      const out = await processor.process(await makeImage(format, 1200, 900));
      assert.equal(out.contentType, 'image/jpeg');
      const meta = await sharp(out.data).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.deepEqual([meta.width, meta.height, out.width, out.height], [640, 480, 640, 480]);
      assert.match(out.etag, /^"[\w-]{32}"$/);
    });
  }

  test('a small image is not enlarged', async () => {
    const out = await processor.process(await makeImage('png', 100, 120));
    assert.deepEqual([out.width, out.height], [100, 120]);
  });

  test('EXIF and GPS are gone, and the EXIF orientation is applied to the pixels first', async () => {
    const withExif = await sharp(await makeImage('jpeg', 400, 200))
      .withMetadata({ orientation: 6 })
      .withExif({ IFD0: { Make: 'SecretPhone', Copyright: 'Someone' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '39/1 54/1 2700/100', GPSLongitudeRef: 'E', GPSLongitude: '116/1 23/1 2900/100' } })
      .jpeg()
      .toBuffer();
    const inMeta = await sharp(withExif).metadata();
    assert.ok(inMeta.exif && inMeta.exif.includes(Buffer.from('SecretPhone')), 'the test input carries EXIF');
    const out = await processor.process(withExif);
    const meta = await sharp(out.data).metadata();
    assert.equal(meta.exif, undefined);
    assert.equal(meta.xmp, undefined);
    assert.equal(meta.icc, undefined);
    assert.equal(meta.orientation, undefined);
    assert.ok(!out.data.includes(Buffer.from('SecretPhone')));
    assert.ok(!out.data.includes(Buffer.from('GPS')));
    // Orientation 6 means "rotate 90°": the stored picture is upright, so portrait.
    assert.deepEqual([out.width, out.height], [200, 400]);
  });

  test('a 5000×5000 image (a few KB of PNG) is refused before decoding: INVALID_IMAGE', async () => {
    const bomb = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#000' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    assert.ok(bomb.length < 200_000);
    await assert.rejects(processor.process(bomb), (err: unknown) => err instanceof InvalidImageError && /5000×5000/.test(err.message));
  });

  test('4096×4096 is still accepted', async () => {
    const big = await sharp({ create: { width: 4096, height: 10, channels: 3, background: '#123' } })
      .png()
      .toBuffer();
    const out = await processor.process(big);
    assert.equal(out.width, 640);
  });

  test('not an image, a truncated image and an SVG are refused: INVALID_IMAGE', async () => {
    const png = await makeImage('png');
    for (const input of [Buffer.from('hello, not an image'), png.subarray(0, 200), Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')]) {
      await assert.rejects(processor.process(input), (err: unknown) => err instanceof InvalidImageError && err.code === 'INVALID_IMAGE');
    }
  });
});
