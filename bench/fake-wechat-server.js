'use strict';
// The fake WeChat server in its own process, plus a control channel (IPC) that hands out login
// codes the way wx.login would, so the load generator can send a fresh code with each login.
const { WechatSimulator } = require('../dist/sandbox/wechat-simulator.js');
const { startWechatSimulatorServer } = require('../dist/sandbox/wechat-simulator.server.js');

const sim = new WechatSimulator({ appId: process.env.BENCH_APPID, secret: process.env.BENCH_SECRET, maxRecordedRequests: 1000, codeTtlMs: 3_600_000 });
startWechatSimulatorServer(sim, { host: '127.0.0.1', port: 0 }).then((server) => {
  process.send({ ready: true, url: server.url });
  process.on('message', (msg) => {
    if (msg.type === 'codes') {
      const logins = [];
      for (let i = 0; i < msg.count; i++) {
        const { code, rawData, signature, encryptedData, iv } = sim.issueLoginCode({ openId: msg.openIds[i % msg.openIds.length], nickName: `Bench ${i % msg.openIds.length}` });
        logins.push({ code, rawData, signature, encryptedData, iv });
      }
      process.send({ type: 'codes', id: msg.id, logins });
    } else if (msg.type === 'bare-codes') {
      // Codes only, each for a new openid `<prefix><i>`: first logins of many distinct users.
      const codes = [];
      for (let i = 0; i < msg.count; i++) codes.push(sim.issueLoginCode({ openId: `${msg.prefix}${i}` }).code);
      process.send({ type: 'bare-codes', id: msg.id, codes });
    }
    // The media_url of every image check so far: the avatar URL the bench loads.
    if (msg.type === 'mediaChecks') {
      const urls = sim.requests.filter((r) => r.path === '/wxa/media_check_async').map((r) => r.body.media_url);
      process.send({ type: 'mediaChecks', id: msg.id, urls });
    }
  });
  process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
});
