import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freeLoopbackPort } from './system';

test('freeLoopbackPort: a port below the ephemeral range that can be listened on', async () => {
  for (let i = 0; i < 5; i++) {
    const port = await freeLoopbackPort();
    assert.ok(port >= 20000 && port <= 32767, `${port}`);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => srv.close(resolve));
  }
});
