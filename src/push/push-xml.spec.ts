import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildPushXml, parsePushXml, PushXmlError } from './push-xml';

describe('push XML', () => {
  test('reads CDATA literally, decodes predefined entities in text, keeps nesting and repeats', () => {
    const m = parsePushXml(
      '<xml><A><![CDATA[a&amp;b <c>]]></A><B>x &amp; y &#20320;</B><CreateTime>1409659813</CreateTime>' +
        '<result><suggest><![CDATA[risky]]></suggest><label>20002</label></result><detail><strategy>content_model</strategy></detail><detail><strategy>keyword</strategy></detail></xml>',
    );
    assert.equal(m.A, 'a&amp;b <c>');
    assert.equal(m.B, 'x & y 你');
    assert.equal(m.CreateTime, '1409659813');
    assert.deepEqual(m.result, { suggest: 'risky', label: '20002' });
    assert.deepEqual(m.detail, [{ strategy: 'content_model' }, { strategy: 'keyword' }]);
  });

  test('refuses DOCTYPE and entity declarations (XXE, billion laughs)', () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><Content>&lol3;</Content></xml>';
    assert.throws(() => parsePushXml(bomb), PushXmlError);
    assert.throws(() => parsePushXml('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>'), PushXmlError);
    assert.throws(() => parsePushXml('<!doctype xml><xml><A>1</A></xml>'), PushXmlError);
  });

  test('refuses what is not one well-formed <xml> element', () => {
    for (const bad of ['', 'hello', '<xml><A>1</B></xml>', '<root><A>1</A></root>', '<xml>text</xml>', '<xml><__proto__>1</__proto__></xml>', '<a>'.repeat(50) + '</a>'.repeat(50)]) {
      assert.throws(() => parsePushXml(bad), PushXmlError, JSON.stringify(bad.slice(0, 40)));
    }
  });

  test('builds what it parses (strings as CDATA, numbers bare)', () => {
    const message = { ToUserName: 'gh_1', CreateTime: 1700000000, Content: 'a]]>b <&>', result: { suggest: 'pass', label: 100 } };
    const xml = buildPushXml(message);
    assert.match(xml, /<CreateTime>1700000000<\/CreateTime>/);
    assert.match(xml, /<ToUserName><!\[CDATA\[gh_1\]\]><\/ToUserName>/);
    assert.deepEqual(parsePushXml(xml), { ToUserName: 'gh_1', CreateTime: '1700000000', Content: 'a]]>b <&>', result: { suggest: 'pass', label: '100' } });
  });
});
