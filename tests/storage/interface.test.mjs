// The two adapters' contracts against the real keychain (a private gnome-keyring): Web Storage
// semantics for SDK v7, every LitAuthStorageProvider method for SDK v8, values byte for byte,
// namespacing by app and network, and the cost of one call.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PrivateKeyring } from './keyring.mjs';
import {
  keychainStorage,
  keychainAuthStorage,
  KeychainStorageError,
  MAX_VALUE_BYTES,
} from '../../clients/js/storage.js';

const keyring = new PrivateKeyring('interface');
test.after(() => keyring.stop());
const env = keyring.env;

test('Web Storage semantics (SDK v7 storageProvider)', () => {
  const s = keychainStorage({ app: 'web-storage', env });
  assert.equal(s.length, 0);
  assert.equal(s.getItem('lit-session-key'), null);
  assert.equal(s.key(0), null);

  const values = {
    'lit-session-key': '{"publicKey":"ab","secretKey":"cd"}',
    'trailing-newline': 'line\n',
    'two-newlines': '\n\n',
    empty: '',
    unicode: 'ключ — 鍵 🔑',
    '-looks-like-an-option': 'still a key',
    'lit-auth:naga-dev:0xAbC': 'colons are fine',
  };
  for (const [k, v] of Object.entries(values)) s.setItem(k, v);
  for (const [k, v] of Object.entries(values)) assert.equal(s.getItem(k), v, k);
  assert.equal(s.length, Object.keys(values).length);
  const sorted = Object.keys(values).sort();
  assert.deepEqual(sorted.map((_, i) => s.key(i)), sorted);
  assert.equal(s.key(sorted.length), null);
  assert.equal(s.key(-1), null);

  s.setItem('number', 42); // Web Storage stores strings
  assert.equal(s.getItem('number'), '42');
  s.setItem('number', 'replaced');
  assert.equal(s.getItem('number'), 'replaced');

  s.removeItem('number');
  s.removeItem('number'); // removing a missing key is not an error
  assert.equal(s.getItem('number'), null);

  // Another app shares nothing.
  const other = keychainStorage({ app: 'web-storage-2', env });
  assert.equal(other.getItem('lit-session-key'), null);
  assert.equal(other.length, 0);

  s.clear();
  assert.equal(s.length, 0);
  assert.deepEqual(keyring.accounts('lit-companion.store.web-storage'), []);
});

test('large values round-trip; oversized ones are a typed error', () => {
  const s = keychainStorage({ app: 'sizes', env, onError: null });
  const big = 'x'.repeat(256 * 1024) + '\n';
  s.setItem('big', big);
  assert.equal(s.getItem('big'), big);
  assert.throws(() => s.setItem('too-big', 'y'.repeat(MAX_VALUE_BYTES + 1)), (e) => e instanceof KeychainStorageError && e.code === 'too_large');
  assert.throws(() => keychainStorage({ app: 'no spaces', env }), (e) => e.code === 'invalid_app');
  assert.throws(() => s.setItem('', 'v'), (e) => e instanceof KeychainStorageError && e.code === 'invalid_key');
});

test('every LitAuthStorageProvider method (SDK v8), namespaced by network', async () => {
  const naga = keychainAuthStorage({ app: 'auth-storage', networkName: 'naga-dev', env });
  const other = keychainAuthStorage({ app: 'auth-storage', networkName: 'naga-test', env });
  assert.deepEqual(naga.config, { appName: 'auth-storage', networkName: 'naga-dev', storage: 'os-keychain' });
  const address = '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23';
  const authData = { sessionKey: { keyPair: { publicKey: 'aa', secretKey: 'bb' }, expiresAt: '2030-01-01T00:00:00.000Z' }, authMethodType: 1 };

  assert.equal(await naga.read({ address }), null);
  await naga.write({ address, authData });
  assert.deepEqual(await naga.read({ address }), authData);
  assert.equal(await other.read({ address }), null, 'another network sees nothing');

  const authSig = JSON.stringify({ sig: '0x01', derivedVia: 'web3.eth.personal.sign', signedMessage: 'm\nn', address });
  assert.equal(await naga.readInnerDelegationAuthSig({ publicKey: address }), null);
  await naga.writeInnerDelegationAuthSig({ publicKey: address, authSig });
  assert.equal(await naga.readInnerDelegationAuthSig({ publicKey: address }), authSig);

  await naga.writePKPTokens({ authMethodType: 1n, authMethodId: '0xid', tokenIds: ['1', '2'] });
  assert.deepEqual(await naga.readPKPTokens({ authMethodType: 1, authMethodId: '0xid' }), ['1', '2']);
  const pkps = [{ tokenId: '1', publicKey: '0x04aa', ethAddress: address }];
  await naga.writePKPs({ authMethodType: 1, authMethodId: '0xid', pkps });
  assert.deepEqual(await naga.readPKPs({ authMethodType: 1, authMethodId: '0xid' }), pkps);
  await naga.writePKPDetails({ tokenId: '1', publicKey: '0x04aa', ethAddress: address });
  assert.deepEqual(await naga.readPKPDetails({ tokenId: '1' }), { publicKey: '0x04aa', ethAddress: address });
  assert.equal(await naga.readPKPDetails({ tokenId: '2' }), null);
  await naga.writePKPTokensByAddress({ ownerAddress: address, tokenIds: ['7'] });
  assert.deepEqual(await naga.readPKPTokensByAddress({ ownerAddress: address }), ['7']);

  // All of it is in the same store as keychainStorage({ app }).
  const sync = keychainStorage({ app: 'auth-storage', env });
  assert.equal(sync.length, 6);
  assert.deepEqual(JSON.parse(sync.getItem(`lit-auth:naga-dev:${address}`)), authData);

  // Concurrent calls do not step on each other.
  await Promise.all([...Array(8).keys()].map((i) => naga.writePKPDetails({ tokenId: `c${i}`, publicKey: `p${i}`, ethAddress: address })));
  const read = await Promise.all([...Array(8).keys()].map((i) => naga.readPKPDetails({ tokenId: `c${i}` })));
  assert.deepEqual(read.map((d) => d.publicKey), [...Array(8).keys()].map((i) => `p${i}`));
  sync.clear();
});

test('the cost of one call', (t) => {
  const s = keychainStorage({ app: 'timing', env });
  const n = 20;
  const time = (f) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(i);
    return Number(process.hrtime.bigint() - started) / 1e6 / n;
  };
  const value = JSON.stringify({ publicKey: 'a'.repeat(64), secretKey: 'b'.repeat(128) });
  const set = time((i) => s.setItem(`k${i}`, value));
  const get = time((i) => assert.equal(s.getItem(`k${i}`), value));
  const miss = time((i) => assert.equal(s.getItem(`missing${i}`), null));
  const length = time(() => assert.equal(s.length, n));
  t.diagnostic(`per call: setItem ${set.toFixed(1)} ms, getItem ${get.toFixed(1)} ms, getItem (missing) ${miss.toFixed(1)} ms, length ${length.toFixed(1)} ms`);
  // Generous bounds (a debug build on a busy 2-core machine); they catch a hang or a retry loop.
  for (const ms of [set, get, miss, length]) assert.ok(ms < 1000, `${ms} ms per call`);
  s.clear();
});
