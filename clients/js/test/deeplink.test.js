// The lit-companion:// deep-link transport and readDeepLinkResult, with a fake browser page
// (an EventTarget with location, history and localStorage).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { requestSessionSigs, listGrants, readDeepLinkResult, CompanionError } from '../index.js';

const RESULT = {
  sessionSigs: { 'https://node1.example:7470': { sig: 'ab', derivedVia: 'litSessionSignViaNacl', signedMessage: '{"é":"✓"}', address: 'cd', algo: 'ed25519' } },
  wallet: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A',
  sessionKey: 'cd'.repeat(32),
  expiration: '2030-01-01T00:00:00.000Z',
  reused: false,
};
const params = () => ({
  network: 'naga',
  resourceAbilityRequests: [{ resource: { resource: '*', resourcePrefix: 'lit-litaction' }, ability: 'lit-action-execution' }],
  statement: 'Sign in to Ünïcode app ✓',
});

class FakeStorage {
  constructor() {
    this.map = new Map();
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}

class FakePage extends EventTarget {
  constructor(href, localStorage = new FakeStorage()) {
    super();
    this.url = new URL(href);
    this.assigned = [];
    this.localStorage = localStorage;
    const page = this;
    this.location = {
      get href() {
        return page.url.href;
      },
      get origin() {
        return page.url.origin;
      },
      get pathname() {
        return page.url.pathname;
      },
      get search() {
        return page.url.search;
      },
      get hash() {
        return page.url.hash;
      },
      set hash(h) {
        page.url.hash = h;
      },
      assign(url) {
        page.assigned.push(url);
      },
    };
    this.history = {
      state: null,
      replaceState(state, _title, url) {
        page.url = new URL(url, page.url);
      },
    };
  }
}

const b64url = (obj) => Buffer.from(JSON.stringify(obj), 'utf8').toString('base64url');
const unb64url = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

beforeEach(() => {
  globalThis.window = new FakePage('https://app.example.com/mint?step=2#top');
});
afterEach(() => {
  delete globalThis.window;
});

function openedLink() {
  assert.equal(window.assigned.length, 1);
  const url = new URL(window.assigned[0]);
  assert.equal(url.protocol, 'lit-companion:');
  assert.equal(url.host, 'session');
  return url;
}

test('the link carries the envelope, origin, callback, nonce and a 5-minute exp', async () => {
  const before = Math.floor(Date.now() / 1000);
  requestSessionSigs(params(), { transports: ['deeplink'], timeoutMs: Infinity }).catch(() => {});
  await new Promise((r) => setTimeout(r, 0));
  const url = openedLink();
  assert.deepEqual([...url.searchParams.keys()], ['req', 'origin', 'callback', 'nonce', 'exp']);
  const env = unb64url(url.searchParams.get('req'));
  assert.match(url.searchParams.get('req'), /^[A-Za-z0-9_-]+$/);
  assert.equal(env.v, 1);
  assert.equal(env.method, 'getSessionSigs');
  assert.deepEqual(env.params, params());
  assert.equal(url.searchParams.get('origin'), 'https://app.example.com');
  assert.equal(url.searchParams.get('callback'), 'https://app.example.com/mint?step=2');
  assert.match(url.searchParams.get('nonce'), /^[0-9a-f]{32}$/);
  const exp = Number(url.searchParams.get('exp'));
  assert.ok(exp >= before + 300 && exp <= before + 302, `exp ${exp}`);
});

test('an answer that comes back to the same document (hashchange) settles the call', async () => {
  const pending = requestSessionSigs(params(), { transports: ['deeplink'] });
  await new Promise((r) => setTimeout(r, 0));
  const env = unb64url(openedLink().searchParams.get('req'));
  window.location.hash = `#litCompanion=${b64url({ v: 1, id: env.id, result: RESULT })}`;
  window.dispatchEvent(new Event('hashchange'));
  assert.deepEqual(await pending, RESULT);
  assert.equal(window.location.href, 'https://app.example.com/mint?step=2');
  assert.equal(window.localStorage.getItem('litCompanion:deeplink'), null);
});

test('readDeepLinkResult on the reloaded page: returns the result once and clears the fragment', async () => {
  requestSessionSigs(params(), { transports: ['deeplink'], timeoutMs: Infinity }).catch(() => {});
  await new Promise((r) => setTimeout(r, 0));
  const env = unb64url(openedLink().searchParams.get('req'));
  // The companion opens callback#litCompanion=… in a new page load; localStorage survives.
  const storage = window.localStorage;
  globalThis.window = new FakePage(
    `https://app.example.com/mint?step=2#litCompanion=${b64url({ v: 1, id: env.id, result: RESULT })}`,
    storage,
  );
  assert.deepEqual(readDeepLinkResult(), RESULT);
  assert.equal(window.location.href, 'https://app.example.com/mint?step=2');
  assert.equal(readDeepLinkResult(), null);
  assert.equal(storage.getItem('litCompanion:deeplink'), null);
});

test('readDeepLinkResult: an error answer throws its CompanionError (and clears the fragment)', async () => {
  requestSessionSigs(params(), { transports: ['deeplink'], timeoutMs: Infinity }).catch(() => {});
  await new Promise((r) => setTimeout(r, 0));
  const env = unb64url(openedLink().searchParams.get('req'));
  window.location.hash = `other=1&litCompanion=${b64url({ v: 1, id: env.id, error: { code: 4001, name: 'user_rejected', message: 'no' } })}`;
  assert.throws(() => readDeepLinkResult(), (e) => e instanceof CompanionError && e.code === 4001 && e.name === 'user_rejected');
  assert.equal(window.location.hash, '#other=1');
});

test('readDeepLinkResult: no fragment → null; unsolicited → 4400 unless allowed; malformed → 5000', () => {
  assert.equal(readDeepLinkResult(), null);
  const forged = `#litCompanion=${b64url({ v: 1, id: 'forged', result: RESULT })}`;
  window.location.hash = forged;
  assert.throws(() => readDeepLinkResult(), { code: 4400, name: 'bad_request' });
  assert.equal(window.location.hash, '');
  window.location.hash = forged;
  assert.deepEqual(readDeepLinkResult({ allowUnsolicited: true }), RESULT);
  window.location.hash = '#litCompanion=***';
  assert.throws(() => readDeepLinkResult(), { code: 5000, name: 'internal' });
  window.location.hash = `#litCompanion=${Buffer.from('not json').toString('base64url')}`;
  assert.throws(() => readDeepLinkResult(), { code: 5000 });
});

test('deep links carry only getSessionSigs: listGrants has no transport → 4900', async () => {
  await assert.rejects(listGrants({ transports: ['deeplink'] }), { code: 4900, name: 'disconnected' });
  assert.equal(window.assigned.length, 0);
});

test('in a browser page without extension or companion HTTP, the default order ends at the deep link', async () => {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  const controller = new AbortController();
  const pending = requestSessionSigs(params(), { port, extensionTimeoutMs: 10, signal: controller.signal });
  for (let i = 0; i < 100 && window.assigned.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  openedLink();
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  assert.equal(window.localStorage.getItem('litCompanion:deeplink') === null, false, 'the record stays for the reload');
});

test('the deep-link promise honours abort and timeout', async () => {
  await assert.rejects(requestSessionSigs(params(), { transports: ['deeplink'], timeoutMs: 30 }), {
    code: 4408,
    name: 'request_expired',
  });
});
