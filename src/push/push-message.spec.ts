import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditText, dedupKey, readPushMessage, revokeCodes } from './push-message';

const revoke = (openId: string, revokeInfo: string, createTime = 1700000000) =>
  readPushMessage({
    ToUserName: 'gh_1',
    FromUserName: 'o_push_service',
    CreateTime: createTime,
    MsgType: 'event',
    Event: 'user_authorization_revoke',
    OpenID: openId,
    AppID: 'wx1',
    RevokeInfo: revokeInfo,
  });

describe('push messages', () => {
  test('a retry (same fields, XML strings or JSON numbers) has the same dedup key', () => {
    assert.equal(dedupKey(revoke('oA', '6'), 'wxA'), dedupKey(revoke('oA', '6'), 'wxA'));
    const fromXml = readPushMessage({
      ToUserName: 'gh_1',
      FromUserName: 'o_push_service',
      CreateTime: '1700000000',
      MsgType: 'event',
      Event: 'user_authorization_revoke',
      OpenID: 'oA',
      AppID: 'wx1',
      RevokeInfo: '6',
    });
    assert.equal(dedupKey(fromXml, 'wxA'), dedupKey(revoke('oA', '6'), 'wxA'));
  });

  test('two users, or two revocations, in the same second are different messages', () => {
    assert.notEqual(dedupKey(revoke('oA', '6'), 'wxA'), dedupKey(revoke('oB', '6'), 'wxA'), 'FromUserName is the same push service account for both');
    assert.notEqual(dedupKey(revoke('oA', '6'), 'wxA'), dedupKey(revoke('oA', '8'), 'wxA'));
    assert.notEqual(dedupKey(revoke('oA', '6'), 'wxA'), dedupKey(revoke('oA', '6', 1700000001), 'wxA'));
  });

  test('media check verdicts differ by trace_id; messages with MsgId are keyed by it', () => {
    const check = (traceId: string) => readPushMessage({ ToUserName: 'gh_1', FromUserName: 'oA', CreateTime: 1, MsgType: 'event', Event: 'wxa_media_check', trace_id: traceId });
    assert.notEqual(dedupKey(check('t1'), 'wxA'), dedupKey(check('t2'), 'wxA'));
    const text = (content: string) => readPushMessage({ ToUserName: 'gh_1', FromUserName: 'oA', CreateTime: 1, MsgType: 'text', Content: content, MsgId: '4561255354251345929' });
    assert.equal(dedupKey(text('a'), 'wxA'), dedupKey(text('b'), 'wxA'));
    assert.match(dedupKey(text('a'), 'wxA'), /^[0-9a-f]{64}$/);
    assert.notEqual(dedupKey(text('a'), 'wxA'), dedupKey(text('a'), 'wxB'), 'the same message id in two mini programs is two messages');
    assert.notEqual(dedupKey(revoke('oA', '6'), 'wxA'), dedupKey(revoke('oA', '6'), 'wxB'));
  });

  test('keys are trimmed (WeChat’s own JSON samples write " OpenID")', () => {
    const m = readPushMessage({ ' OpenID': 'oA', ' RevokeInfo': '6,8', Event: 'user_authorization_revoke' });
    assert.equal(m.openId, 'oA');
    assert.deepEqual(revokeCodes(m.revokeInfo), ['6', '8']);
  });

  test('audit text drops control characters and cuts by code points', () => {
    assert.equal(auditText('a\u0000b\nc', 10), 'abc');
    assert.equal(auditText('😀😀😀', 2), '😀😀');
    assert.equal(auditText(undefined, 5), null);
    assert.equal(auditText('\u0000', 5), null);
  });
});
