// Extension discovery (window.litCompanion, announce events) and the extension transport, with a
// minimal fake `window` (an EventTarget).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import { detectExtension, requestSessionSigs, listGrants, CompanionError } from '../index.js';

const INFO = { name: 'Lit Companion', version: '0.1.0', protocol: [1] };
const RESULT = {
  sessionSigs: { 'https://node1.example:7470': { sig: 'ab', derivedVia: 'litSessionSignViaNacl', signedMessage: '{}', address: 'cd', algo: 'ed25519' } },
  wallet: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A',
  sessionKey: 'cd'.repeat(32),
  expiration: '2030-01-01T00:00:00.000Z',
  reused: true,
};
const params = () => ({
  network: 'datil-dev',
  resourceAbilityRequests: [{ resource: { resource: '*', resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }],
  nodeUrls: ['https://node1.example:7470'],
});

/** A fake extension: answers discovery requests (after `delay` ms) with `detail`. */
function installAnnouncer(detail, delay = 0) {
  let asked = 0;
  window.addEventListener('litCompanion:requestProvider', () => {
    asked++;
    const announce = () => window.dispatchEvent(new CustomEvent('litCompanion:announceProvider', { detail }));
    if (delay) setTimeout(announce, delay);
    else announce();
  });
  return () => asked;
}

function provider(answer) {
  const calls = [];
  return {
    calls,
    request: async (envelope) => {
      calls.push(envelope);
      return answer(envelope);
    },
  };
}

beforeEach(() => {
  globalThis.window = new EventTarget();
});
afterEach(() => {
  delete globalThis.window;
});

test('window.litCompanion is used directly, without events', async () => {
  const p = provider(() => null);
  window.litCompanion = { info: INFO, request: p.request };
  const asked = installAnnouncer({ info: INFO, provider: provider(() => null) });
  const found = await detectExtension();
  assert.equal(found.provider, window.litCompanion);
  assert.deepEqual(found.info, INFO);
  assert.equal(asked(), 0);
});

test('window.litCompanion may also be { info, provider }', async () => {
  const p = provider(() => null);
  window.litCompanion = { info: INFO, provider: p };
  const found = await detectExtension();
  assert.equal(found.provider, p);
});

test('announce: requestProvider is dispatched and the announced { info, provider } resolves', async () => {
  const p = provider(() => null);
  const asked = installAnnouncer({ info: INFO, provider: p });
  const found = await detectExtension();
  assert.equal(asked(), 1);
  assert.deepEqual(found, { info: INFO, provider: p });
});

test('a late announcement within the timeout is accepted', async () => {
  const p = provider(() => null);
  installAnnouncer({ info: INFO, provider: p }, 40);
  const found = await detectExtension(500);
  assert.equal(found.provider, p);
});

test('nothing announces → null after timeoutMs', async () => {
  const started = Date.now();
  assert.equal(await detectExtension(80), null);
  assert.ok(Date.now() - started >= 75);
});

test('announcements for another protocol version, or without request(), are ignored', async () => {
  installAnnouncer({ info: { ...INFO, protocol: [2] }, provider: provider(() => null) });
  installAnnouncer({ info: INFO, provider: { notRequest() {} } });
  installAnnouncer('garbage');
  assert.equal(await detectExtension(50), null);
});

test('the first valid announcement wins and listeners are removed afterwards', async () => {
  const first = provider(() => null);
  const second = provider(() => null);
  installAnnouncer({ info: INFO, provider: first });
  installAnnouncer({ info: INFO, provider: second });
  assert.equal((await detectExtension()).provider, first);
  // A later stray announcement must not throw or leak into anything.
  window.dispatchEvent(new CustomEvent('litCompanion:announceProvider', { detail: { info: INFO, provider: second } }));
});

test('requestSessionSigs through the extension: the provider gets the v1 envelope; its result resolves', async () => {
  const p = provider((env) => ({ v: 1, id: env.id, result: RESULT }));
  installAnnouncer({ info: INFO, provider: p });
  const out = await requestSessionSigs(params(), { transports: ['extension'] });
  assert.deepEqual(out, RESULT);
  assert.equal(p.calls.length, 1);
  const [env] = p.calls;
  assert.equal(env.v, 1);
  assert.equal(env.method, 'getSessionSigs');
  assert.equal(typeof env.id, 'string');
  assert.deepEqual(env.params, params());
});

test('listGrants through the extension', async () => {
  const p = provider((env) => ({ v: 1, id: env.id, result: { grants: [] } }));
  window.litCompanion = p;
  assert.deepEqual(await listGrants({ transports: ['extension'] }), { grants: [] });
  assert.equal(p.calls[0].method, 'listGrants');
});

test('extension error envelopes map to CompanionError', async () => {
  for (const [code, name] of [
    [4001, 'user_rejected'],
    [4601, 'no_wallet'],
    [4900, 'disconnected'],
  ]) {
    window.litCompanion = provider((env) => ({ v: 1, id: env.id, error: { code, name, message: 'm' } }));
    await assert.rejects(requestSessionSigs(params(), { transports: ['extension'] }), (e) => {
      assert.ok(e instanceof CompanionError);
      assert.equal(e.code, code);
      assert.equal(e.name, name);
      return true;
    });
  }
});

test('a provider that throws an EIP-1193-style { code } error maps it; anything else is 5000', async () => {
  window.litCompanion = provider(() => {
    throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
  });
  await assert.rejects(requestSessionSigs(params(), { transports: ['extension'] }), { code: 4001, name: 'user_rejected' });
  window.litCompanion = provider(() => {
    throw new Error('port closed');
  });
  await assert.rejects(requestSessionSigs(params(), { transports: ['extension'] }), { code: 5000, name: 'internal' });
  window.litCompanion = provider(() => 'not an envelope');
  await assert.rejects(requestSessionSigs(params(), { transports: ['extension'] }), { code: 5000 });
  window.litCompanion = provider((env) => ({ v: 1, id: 'someone-else', result: RESULT }));
  await assert.rejects(requestSessionSigs(params(), { transports: ['extension'] }), { code: 5000 });
});

test('no extension and no other transport → 4900', async () => {
  await assert.rejects(
    requestSessionSigs(params(), { transports: ['extension'], extensionTimeoutMs: 10 }),
    (e) => e instanceof CompanionError && e.code === 4900 && /Start Lit Companion/.test(e.message),
  );
});

test('abort and timeout while the extension waits for the user', async () => {
  window.litCompanion = provider(() => new Promise(() => {}));
  const controller = new AbortController();
  const pending = requestSessionSigs(params(), { transports: ['extension'], signal: controller.signal });
  setTimeout(() => controller.abort(), 30);
  await assert.rejects(pending, { name: 'AbortError' });
  await assert.rejects(requestSessionSigs(params(), { transports: ['extension'], timeoutMs: 50 }), {
    code: 4408,
    name: 'request_expired',
  });
});
