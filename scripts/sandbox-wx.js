'use strict';
/**
 * The mini program's `wx` object, played in Node against the service in sandbox mode: `request` and
 * `uploadFile` speak real HTTP to it, `login` gets its code from `POST /sandbox/wx-login` (as wx.login
 * gets one from WeChat), storage serialises like wx's. One object is one WeChat user on one phone: every
 * login is the same openid. Used by `npm run demo` and by the client library's tests.
 *
 * Behaves as WeChat documents it: request calls `success` for every HTTP status (fail only when no
 * answer came), sends `content-type: application/json` unless told otherwise, puts GET data in the query
 * string, parses a JSON answer; uploadFile is always a multipart/form-data POST and hands back text.
 */
const { randomBytes } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { basename } = require('node:path');

/**
 * @param {{ sandboxUrl: string, openId?: string, onExchange?: (e: object) => void }} options
 */
function createSandboxWx({ sandboxUrl, openId = `oSandbox${randomBytes(9).toString('hex')}`, onExchange = () => undefined }) {
  const sandbox = sandboxUrl.replace(/\/+$/, '');
  const storage = new Map();
  const counts = { login: 0, request: 0, uploadFile: 0 };

  const finish = (opts, ok, result) => {
    if (ok) opts.success?.(result);
    else opts.fail?.(result);
    opts.complete?.(result);
  };
  const failure = (api, err) => ({ errMsg: `${api}:fail ${err?.cause?.code || err?.message || err}` });
  const headersOf = (res) => Object.fromEntries(res.headers.entries());
  const pathOf = (url) => {
    const u = new URL(url);
    return u.pathname + u.search;
  };

  const wx = {
    openId,
    counts,

    login(opts = {}) {
      counts.login += 1;
      fetch(`${sandbox}/sandbox/wx-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ openId }) })
        .then(async (res) => {
          const body = await res.json().catch(() => undefined);
          onExchange({ api: 'login', method: 'POST', path: '/sandbox/wx-login', status: res.status });
          if (res.status !== 200 || typeof body?.code !== 'string') return finish(opts, false, { errMsg: `login:fail sandbox answered ${res.status}` });
          finish(opts, true, { code: body.code, errMsg: 'login:ok' });
        })
        .catch((err) => finish(opts, false, failure('login', err)));
    },

    request(opts) {
      counts.request += 1;
      const method = (opts.method || 'GET').toUpperCase();
      const header = { 'content-type': 'application/json', ...opts.header };
      let url = opts.url;
      let body;
      if (method === 'GET') {
        if (opts.data && typeof opts.data === 'object') {
          const query = new URLSearchParams(Object.entries(opts.data).map(([k, v]) => [k, String(v)])).toString();
          if (query) url += (url.includes('?') ? '&' : '?') + query;
        }
      } else if (opts.data !== undefined) {
        body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data);
      } else {
        body = '';
      }
      fetch(url, { method, headers: header, body })
        .then(async (res) => {
          const text = await res.text();
          let data = text;
          if ((opts.dataType ?? 'json') === 'json') {
            try {
              data = JSON.parse(text);
            } catch {
              data = text;
            }
          }
          onExchange({ api: 'request', method, path: pathOf(url), status: res.status, authorization: findHeader(header, 'authorization'), body: data });
          finish(opts, true, { statusCode: res.status, data, header: headersOf(res), errMsg: 'request:ok' });
        })
        .catch((err) => finish(opts, false, failure('request', err)));
    },

    uploadFile(opts) {
      counts.uploadFile += 1;
      let form;
      try {
        form = new FormData();
        for (const [k, v] of Object.entries(opts.formData || {})) form.append(k, String(v));
        form.append(opts.name, new Blob([readFileSync(opts.filePath)]), basename(opts.filePath));
      } catch (err) {
        queueMicrotask(() => finish(opts, false, failure('uploadFile', err)));
        return;
      }
      // The content-type with its boundary is fetch's to set, as wx.uploadFile sets its own.
      const header = Object.fromEntries(Object.entries(opts.header || {}).filter(([k]) => k.toLowerCase() !== 'content-type'));
      fetch(opts.url, { method: 'POST', headers: header, body: form })
        .then(async (res) => {
          const data = await res.text();
          onExchange({ api: 'uploadFile', method: 'POST', path: pathOf(opts.url), status: res.status, authorization: findHeader(header, 'authorization'), body: data });
          finish(opts, true, { statusCode: res.status, data, errMsg: 'uploadFile:ok' });
        })
        .catch((err) => finish(opts, false, failure('uploadFile', err)));
    },

    // Storage keeps JSON copies, as wx's does; a missing key reads as ''.
    getStorageSync(key) {
      return storage.has(key) ? JSON.parse(storage.get(key)) : '';
    },
    setStorageSync(key, value) {
      storage.set(key, JSON.stringify(value));
    },
    removeStorageSync(key) {
      storage.delete(key);
    },

    /** Not wx: what the getPhoneNumber button hands the page, from the sandbox. */
    async sandboxPhoneCode(phoneNumber) {
      const res = await fetch(`${sandbox}/sandbox/phone-code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber }) });
      onExchange({ api: 'sandbox', method: 'POST', path: '/sandbox/phone-code', status: res.status });
      if (res.status !== 200) throw new Error(`POST /sandbox/phone-code answered ${res.status}: ${await res.text()}`);
      return (await res.json()).code;
    },
  };
  return wx;
}

function findHeader(header, name) {
  for (const [k, v] of Object.entries(header)) if (k.toLowerCase() === name) return v;
  return undefined;
}

module.exports = { createSandboxWx };
