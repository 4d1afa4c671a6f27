// The lit-companion:// deep-link transport, sealed answers and readDeepLinkResult, with fake
// browser pages (an EventTarget with location, history, sessionStorage and localStorage).
//
// Answers are sealed here by a small HPKE seal (RFC 9180 base mode, X25519 / HKDF-SHA256 /
// AES-128-GCM) written with node:crypto, independent of the client's WebCrypto open; both are
// pinned to the RFC's published vector (Appendix A.1.1), which is what makes the client's open
// agree with the companion's Rust seal (the e2e suites check that directly).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import {
  createCipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
} from 'node:crypto';

import {
  requestSessionSigs,
  listGrants,
  readDeepLinkResult,
  buildDeepLink,
  openSealedAnswer,
  hpkeOpen,
  CompanionError,
} from '../index.js';

const VECTOR = JSON.parse(readFileSync(new URL('./fixtures/rfc9180-a1-1.json', import.meta.url), 'utf8'));
const INFO = Buffer.from('lit-companion deep link v1');

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

// ---------------------------------------------------------------------------------------------
// HPKE seal (RFC 9180 §6.1, base mode) with node:crypto: the mirror of the client's open.

const hex = (h) => Buffer.from(h, 'hex');
const x25519Private = (raw) =>
  createPrivateKey({ key: Buffer.concat([hex('302e020100300506032b656e04220420'), raw]), format: 'der', type: 'pkcs8' });
const x25519Public = (raw) =>
  createPublicKey({ key: Buffer.concat([hex('302a300506032b656e032100'), raw]), format: 'der', type: 'spki' });
const rawPublic = (key) => (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'der', type: 'spki' }).subarray(-32);
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
const i2osp2 = (n) => Buffer.from([n >> 8, n & 0xff]);
const KEM_ID = Buffer.concat([Buffer.from('KEM'), i2osp2(0x20)]);
const HPKE_ID = Buffer.concat([Buffer.from('HPKE'), i2osp2(0x20), i2osp2(1), i2osp2(1)]);
const extract = (id, salt, label, ikm) => hmac(salt, Buffer.concat([Buffer.from('HPKE-v1'), id, Buffer.from(label), ikm]));
const expand = (id, prk, label, info, L) =>
  hmac(prk, Buffer.concat([i2osp2(L), Buffer.from('HPKE-v1'), id, Buffer.from(label), info, Buffer.from([1])])).subarray(0, L);

/** enc ‖ ciphertext for `pkR` (32 raw bytes); `skE` (32 raw bytes) fixes the ephemeral key. */
function seal(pkR, info, aad, plaintext, skE) {
  const ephemeral = skE ? x25519Private(skE) : generateKeyPairSync('x25519').privateKey;
  const enc = rawPublic(ephemeral);
  const dh = diffieHellman({ privateKey: ephemeral, publicKey: x25519Public(pkR) });
  const shared = expand(KEM_ID, extract(KEM_ID, Buffer.alloc(0), 'eae_prk', dh), 'shared_secret', Buffer.concat([enc, pkR]), 32);
  const context = Buffer.concat([
    Buffer.from([0]),
    extract(HPKE_ID, Buffer.alloc(0), 'psk_id_hash', Buffer.alloc(0)),
    extract(HPKE_ID, Buffer.alloc(0), 'info_hash', info),
  ]);
  const secret = extract(HPKE_ID, shared, 'secret', Buffer.alloc(0));
  const cipher = createCipheriv('aes-128-gcm', expand(HPKE_ID, secret, 'key', context, 16), expand(HPKE_ID, secret, 'base_nonce', context, 12));
  cipher.setAAD(aad);
  return Buffer.concat([enc, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** The fragment value the companion would send for `envelope`, sealed to a link's pk and nonce. */
function sealedAnswer(link, envelope) {
  const url = new URL(link);
  const pk = Buffer.from(url.searchParams.get('pk'), 'base64url');
  const nonce = url.searchParams.get('nonce');
  return seal(pk, INFO, Buffer.from(nonce), Buffer.from(JSON.stringify(envelope))).toString('base64url');
}

// ---------------------------------------------------------------------------------------------
// Fake pages

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
  constructor(href, sessionStorage = new FakeStorage()) {
    super();
    this.url = new URL(href);
    this.assigned = [];
    this.sessionStorage = sessionStorage;
    this.localStorage = new FakeStorage();
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

const unb64url = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
const tick = () => new Promise((r) => setTimeout(r, 0));
const stored = (page = window) => JSON.parse(page.sessionStorage.getItem('litCompanion:deeplink') || '{}');

// Every pending deep-link call listens on a BroadcastChannel: abort them all after each test.
let controllers;
const ask = (opts = {}) => {
  const c = new AbortController();
  controllers.push(c);
  return requestSessionSigs(params(), { transports: ['deeplink'], timeoutMs: Infinity, signal: c.signal, ...opts });
};

beforeEach(() => {
  controllers = [];
  globalThis.window = new FakePage('https://app.example.com/mint?step=2#top');
});
afterEach(() => {
  for (const c of controllers) c.abort();
  delete globalThis.window;
});

/** The link the page was sent to (waits for the key pair to be made). */
async function openedLink(page = window) {
  for (let i = 0; i < 100 && page.assigned.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(page.assigned.length, 1);
  const url = new URL(page.assigned[0]);
  assert.equal(url.protocol, 'lit-companion:');
  assert.equal(url.host, 'session');
  return page.assigned[0];
}

// ---------------------------------------------------------------------------------------------
// HPKE against the RFC

const vectorKey = () => ({
  kty: 'OKP',
  crv: 'X25519',
  d: hex(VECTOR.skRm).toString('base64url'),
  x: hex(VECTOR.pkRm).toString('base64url'),
});

test('RFC 9180 A.1.1: hpkeOpen gives the published plaintext, and the test seal the published ciphertext', async () => {
  const sealed = new Uint8Array(Buffer.concat([hex(VECTOR.enc), hex(VECTOR.ct)]));
  const pt = await hpkeOpen(vectorKey(), sealed, hex(VECTOR.info), hex(VECTOR.aad));
  assert.equal(Buffer.from(pt).toString('hex'), VECTOR.pt);
  assert.equal(Buffer.from(pt).toString(), 'Beauty is truth, truth beauty');
  // The seal used by the tests below, with the vector's ephemeral key, is byte for byte the RFC's.
  assert.equal(rawPublic(x25519Private(hex(VECTOR.skRm))).toString('hex'), VECTOR.pkRm);
  const mine = seal(hex(VECTOR.pkRm), hex(VECTOR.info), hex(VECTOR.aad), hex(VECTOR.pt), hex(VECTOR.skEm));
  assert.equal(mine.toString('hex'), VECTOR.enc + VECTOR.ct);
  // Another aad (sequence 1's), another info, one flipped bit: it does not open.
  const flipped = sealed.slice();
  flipped[40] ^= 1;
  for (const [s, info, aad] of [
    [sealed, hex(VECTOR.info), Buffer.from('Count-1')],
    [sealed, Buffer.from('lit-companion deep link v1'), hex(VECTOR.aad)],
    [flipped, hex(VECTOR.info), hex(VECTOR.aad)],
  ]) {
    await assert.rejects(hpkeOpen(vectorKey(), s, new Uint8Array(info), new Uint8Array(aad)), { code: 4400, name: 'bad_request' });
  }
});

test('RFC 9180 §7.1.4: an enc of low order (all-zero DH output) is refused', async () => {
  const sealed = new Uint8Array(32 + 16); // enc = the zero point
  await assert.rejects(hpkeOpen(vectorKey(), sealed, new Uint8Array(0), new Uint8Array(0)), { code: 4400 });
});

// ---------------------------------------------------------------------------------------------
// Links

test('the link carries the envelope, origin, callback, nonce, a 10-minute exp and pk; the key waits in sessionStorage', async () => {
  const before = Math.floor(Date.now() / 1000);
  ask().catch(() => {});
  const url = new URL(await openedLink());
  assert.deepEqual([...url.searchParams.keys()], ['req', 'origin', 'callback', 'nonce', 'exp', 'pk']);
  const env = unb64url(url.searchParams.get('req'));
  assert.match(url.searchParams.get('req'), /^[A-Za-z0-9_-]+$/);
  assert.equal(env.v, 1);
  assert.equal(env.method, 'getSessionSigs');
  assert.deepEqual(env.params, params());
  assert.equal(url.searchParams.get('origin'), 'https://app.example.com');
  assert.equal(url.searchParams.get('callback'), 'https://app.example.com/mint?step=2');
  assert.match(url.searchParams.get('nonce'), /^[0-9a-f]{32}$/);
  const exp = Number(url.searchParams.get('exp'));
  assert.ok(exp >= before + 600 && exp <= before + 602, `exp ${exp}`);
  const pk = url.searchParams.get('pk');
  assert.match(pk, /^[A-Za-z0-9_-]{43}$/, 'base64url without padding');
  assert.equal(Buffer.from(pk, 'base64url').length, 32);

  const records = stored();
  assert.deepEqual(Object.keys(records), [env.id]);
  const r = records[env.id];
  assert.equal(r.method, 'getSessionSigs');
  assert.equal(r.nonce, url.searchParams.get('nonce'));
  assert.equal(r.exp, exp);
  assert.equal(r.key.kty, 'OKP');
  assert.equal(r.key.crv, 'X25519');
  assert.equal(r.key.x, pk, 'the kept private key belongs to pk');
  assert.equal(window.localStorage.map.size, 0, 'nothing in localStorage');
});

test('buildDeepLink resolves { url, nonce, key }; openSealedAnswer opens what is sealed to pk with that nonce only', async () => {
  const envelope = { v: 1, id: 'built-1', method: 'getSessionSigs', params: params() };
  const { url, nonce, key } = await buildDeepLink(envelope);
  assert.equal(new URL(url).searchParams.get('nonce'), nonce);
  assert.equal(stored()['built-1'].nonce, nonce);
  const answer = { v: 1, id: 'built-1', result: RESULT };
  const value = sealedAnswer(url, answer);
  assert.deepEqual(await openSealedAnswer(key, nonce, value), answer);
  await assert.rejects(openSealedAnswer(key, 'another-nonce-0000', value), { code: 4400 });
  const other = await buildDeepLink({ ...envelope, id: 'built-2' });
  await assert.rejects(openSealedAnswer(other.key, nonce, value), { code: 4400 }, 'another key');
  await assert.rejects(openSealedAnswer(key, nonce, '***'), { code: 5000, name: 'internal' });
  await assert.rejects(openSealedAnswer(key, nonce, value.slice(0, 40)), { code: 5000 }, 'shorter than enc and a tag');
  const notJson = seal(Buffer.from(key.x, 'base64url'), INFO, Buffer.from(nonce), Buffer.from('not json')).toString('base64url');
  await assert.rejects(openSealedAnswer(key, nonce, notJson), { code: 5000 });
  await assert.rejects(openSealedAnswer({ kty: 'RSA' }, nonce, value), { code: 4400 });
  await assert.rejects(buildDeepLink('not an envelope'), { code: 4400 });
});

test('lapsed records are dropped from sessionStorage', async () => {
  const { key, nonce } = await buildDeepLink({ v: 1, id: 'old', method: 'getSessionSigs' });
  const records = stored();
  records.old.exp = Math.floor(Date.now() / 1000) - 1;
  window.sessionStorage.setItem('litCompanion:deeplink', JSON.stringify(records));
  await buildDeepLink({ v: 1, id: 'new', method: 'getSessionSigs' });
  assert.deepEqual(Object.keys(stored()), ['new']);
  assert.ok(key && nonce);
});

// ---------------------------------------------------------------------------------------------
// Answers

test('an answer that comes back to the same document (hashchange) settles the call', async () => {
  const pending = ask();
  const link = await openedLink();
  const env = unb64url(new URL(link).searchParams.get('req'));
  window.location.hash = `#litCompanion=${sealedAnswer(link, { v: 1, id: env.id, result: RESULT })}`;
  window.dispatchEvent(new Event('hashchange'));
  assert.deepEqual(await pending, RESULT);
  assert.equal(window.location.href, 'https://app.example.com/mint?step=2');
  assert.equal(window.sessionStorage.getItem('litCompanion:deeplink'), null, 'the key is gone once used');
});

test('hashchange: an answer this call cannot open stays in the address for readDeepLinkResult', async () => {
  const pending = ask();
  const link = await openedLink();
  const { url: otherLink } = await buildDeepLink({ v: 1, id: 'other', method: 'getSessionSigs' });
  const value = sealedAnswer(otherLink, { v: 1, id: 'other', result: RESULT });
  window.location.hash = `#litCompanion=${value}`;
  window.dispatchEvent(new Event('hashchange'));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(window.location.hash, `#litCompanion=${value}`);
  assert.deepEqual(await readDeepLinkResult(), RESULT, 'the stored key of the other request opens it');
  let settled = false;
  pending.then(() => (settled = true), () => (settled = true));
  await tick();
  assert.equal(settled, false, 'the first call still waits');
  assert.ok(link);
});

test('readDeepLinkResult on the reloaded tab: opens with the key kept in sessionStorage, once, and clears the fragment', async () => {
  ask().catch(() => {});
  const link = await openedLink();
  const env = unb64url(new URL(link).searchParams.get('req'));
  // The tab reloads on callback#litCompanion=…; its sessionStorage survives.
  const storage = window.sessionStorage;
  globalThis.window = new FakePage(
    `https://app.example.com/mint?step=2#litCompanion=${sealedAnswer(link, { v: 1, id: env.id, result: RESULT })}`,
    storage,
  );
  assert.deepEqual(await readDeepLinkResult(), RESULT);
  assert.equal(window.location.href, 'https://app.example.com/mint?step=2');
  assert.equal(await readDeepLinkResult(), null);
  assert.equal(storage.getItem('litCompanion:deeplink'), null);
});

test('readDeepLinkResult: an error answer throws its CompanionError; the pending call rejects with it too', async () => {
  const pending = ask();
  const link = await openedLink();
  const env = unb64url(new URL(link).searchParams.get('req'));
  const answer = { v: 1, id: env.id, error: { code: 4001, name: 'user_rejected', message: 'no' } };
  window.location.hash = `other=1&litCompanion=${sealedAnswer(link, answer)}`;
  await assert.rejects(readDeepLinkResult(), (e) => e instanceof CompanionError && e.code === 4001 && e.name === 'user_rejected');
  assert.equal(window.location.hash, '#other=1');
  await assert.rejects(pending, { code: 4001, message: 'no' });
});

test('an answer with another id than the request it opens for → 5000', async () => {
  await buildDeepLink({ v: 1, id: 'mine', method: 'getSessionSigs' }).then(({ url }) => {
    window.location.hash = `#litCompanion=${sealedAnswer(url, { v: 1, id: 'swapped', result: RESULT })}`;
  });
  await assert.rejects(readDeepLinkResult(), { code: 5000, message: /different request/ });
});

test('a new tab (empty sessionStorage) forwards the sealed answer to the tab that asked, over BroadcastChannel', async () => {
  const asking = window;
  const pending = ask();
  const link = await openedLink(asking);
  const env = unb64url(new URL(link).searchParams.get('req'));
  const value = sealedAnswer(link, { v: 1, id: env.id, result: RESULT });
  // The OS opens the callback in a new tab: another page, its own copy of the client.
  const other = await import('../index.js?tab=new');
  globalThis.window = new FakePage(`https://app.example.com/mint?step=2#litCompanion=${value}`);
  assert.deepEqual(await other.readDeepLinkResult(), { forwarded: true });
  assert.equal(window.location.href, 'https://app.example.com/mint?step=2', 'the new tab clears its address');
  assert.deepEqual(await pending, RESULT);
  assert.equal(asking.sessionStorage.getItem('litCompanion:deeplink'), null, "the asking tab's key is gone");
  assert.equal(asking.url.hash, '#top', "the asking tab's address is untouched");
});

test('an answer no tab can open → 4400 after the forward finds no taker; no fragment → null; malformed → 5000', async () => {
  assert.equal(await readDeepLinkResult(), null);
  // Sealed to a key this browser never made (or the asking tab was closed).
  const { publicKey } = generateKeyPairSync('x25519');
  const stranger = seal(rawPublic(publicKey), INFO, Buffer.from('nonce-0123456789abcdef'), Buffer.from('{"v":1,"id":"x","result":{}}'));
  window.location.hash = `#litCompanion=${stranger.toString('base64url')}`;
  await assert.rejects(readDeepLinkResult({ forwardTimeoutMs: 50 }), { code: 4400, name: 'bad_request', message: /no tab of this site/ });
  assert.equal(window.location.hash, '');
  window.location.hash = '#litCompanion=***';
  await assert.rejects(readDeepLinkResult(), { code: 5000, name: 'internal' });
  window.location.hash = `#litCompanion=${Buffer.from('not sealed').toString('base64url')}`;
  await assert.rejects(readDeepLinkResult(), { code: 5000 });
  // allowUnsolicited made sense for plain answers only: sealed ones open with this tab's key or not at all.
  await assert.rejects(readDeepLinkResult({ allowUnsolicited: true }), { code: 4400, message: /allowUnsolicited is gone/ });
});

test('deep links carry only getSessionSigs: listGrants has no transport → 4900', async () => {
  await assert.rejects(listGrants({ transports: ['deeplink'] }), { code: 4900, name: 'disconnected' });
  assert.equal(window.assigned.length, 0);
});

test('without WebCrypto X25519 the deep link is unavailable (nothing sent) → 4900 saying why', async () => {
  crypto.subtle.generateKey = async () => {
    throw new DOMException('Unrecognized name.', 'NotSupportedError');
  };
  try {
    await assert.rejects(ask(), { code: 4900, message: /X25519/ });
  } finally {
    delete crypto.subtle.generateKey;
  }
  assert.equal(window.assigned.length, 0);
  assert.equal(window.sessionStorage.getItem('litCompanion:deeplink'), null);
});

test('in a browser page without extension or companion HTTP, the default order ends at the deep link', async () => {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  const controller = new AbortController();
  const pending = requestSessionSigs(params(), { port, extensionTimeoutMs: 10, signal: controller.signal });
  await openedLink();
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  assert.equal(Object.keys(stored()).length, 1, 'the key stays for a reload of this tab');
});

test('the deep-link promise honours abort and timeout', async () => {
  await assert.rejects(requestSessionSigs(params(), { transports: ['deeplink'], timeoutMs: 30 }), {
    code: 4408,
    name: 'request_expired',
  });
});
