// SDK v8 (@lit-protocol/auth 8.2.3, offline): the AuthManager with
// `storage: keychainAuthStorage({ app, networkName })`. Its EOA path reads the cached auth data
// (session key pair) and the cached delegation AuthSig from storage, and writes them when
// missing; here that store is the OS keychain (a private gnome-keyring per test).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PrivateKeyring } from './keyring.mjs';
import { runChild, assertNoSecretUnderHome } from './harness.mjs';

const APP = 'storage-test-v8';
const SERVICE = `lit-companion.store.${APP}`;

test('a second process finds the stored auth context: same session key, same AuthSig, no new signature', (t) => {
  const keyring = new PrivateKeyring('v8');
  t.after(() => keyring.stop());

  const first = runChild(keyring, ['v8', APP, 'naga-dev']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.result.secretKey, /^[0-9a-f]{64}$/);
  assert.equal(first.result.signs, 1, 'the first run asked the wallet');
  assert.equal(first.result.authSig.address, first.result.address);
  assert.match(first.result.authSig.signedMessage, new RegExp(`lit:session:${first.result.publicKey}`));

  const second = runChild(keyring, ['v8', APP, 'naga-dev']);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.result.publicKey, first.result.publicKey);
  assert.equal(second.result.secretKey, first.result.secretKey);
  assert.deepEqual(second.result.authSig, first.result.authSig);
  assert.equal(second.result.signs, 0, 'the second run found everything in the keychain');

  // The items, as secret-tool sees them.
  const address = first.result.address;
  const authKey = `lit-auth:naga-dev:${address}`;
  const delegationKey = `lit-auth-inner-delegation:naga-dev:${address}`;
  assert.deepEqual(keyring.accounts(SERVICE), [delegationKey, authKey].sort());
  const authData = JSON.parse(keyring.lookup(SERVICE, authKey));
  assert.deepEqual(authData.sessionKey.keyPair, { publicKey: first.result.publicKey, secretKey: first.result.secretKey });
  assert.deepEqual(JSON.parse(keyring.lookup(SERVICE, delegationKey)), first.result.authSig);

  // Another network is another cache: a fresh session key.
  const otherNetwork = runChild(keyring, ['v8', APP, 'naga-test']);
  assert.equal(otherNetwork.status, 0, otherNetwork.stderr);
  assert.notEqual(otherNetwork.result.publicKey, first.result.publicKey);
  assert.equal(otherNetwork.result.signs, 1);

  const scanned = assertNoSecretUnderHome(keyring, [first.result.secretKey, otherNetwork.result.secretKey]);
  t.diagnostic(`v8 process: first ${first.ms.toFixed(0)} ms, second ${second.ms.toFixed(0)} ms (SDK import included); ${scanned} files under HOME scanned`);
});

test('a locked keychain: the AuthManager rejects with KeychainLockedError and the wallet is never asked', (t) => {
  const keyring = new PrivateKeyring('v8-locked');
  t.after(() => keyring.stop());
  keyring.lock();
  const run = runChild(keyring, ['v8', APP, 'naga-dev']);
  assert.equal(run.status, 1);
  const { error } = run.result;
  assert.equal(error.name, 'KeychainLockedError');
  assert.equal(error.code, 'keychain_locked');
  assert.ok(error.typed && error.locked);
  assert.match(error.fix, /Unlock the keychain/);
  assert.equal(run.result.signs, 0);
  assert.deepEqual(keyring.accounts(SERVICE), []);
});

test('no Secret Service: the AuthManager rejects with KeychainUnavailableError', (t) => {
  const keyring = new PrivateKeyring('v8-absent');
  t.after(() => keyring.stop());
  const run = runChild(keyring, ['v8', APP, 'naga-dev'], { env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' } });
  assert.equal(run.status, 1);
  assert.equal(run.result.error.name, 'KeychainUnavailableError');
  assert.ok(run.result.error.unavailable);
  assert.equal(run.result.signs, 0);
});
