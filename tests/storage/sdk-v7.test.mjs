// SDK v7 (@lit-protocol/lit-node-client-nodejs 7.4.0, offline) with
// `storageProvider: { provider: keychainStorage({ app }) }`: the session key lives in the OS keychain
// (a private gnome-keyring per test), survives the process, and never touches a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { PrivateKeyring } from './keyring.mjs';
import { runChild, startChild, assertNoSecretUnderHome } from './harness.mjs';

const APP = 'storage-test-v7';
const SERVICE = `lit-companion.store.${APP}`;

test('two processes get the same session key, from one keychain item and no file', (t) => {
  const keyring = new PrivateKeyring('v7');
  t.after(() => keyring.stop());

  const first = runChild(keyring, ['v7', APP]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.result.publicKey, /^[0-9a-f]{64}$/);
  assert.match(first.result.secretKey, /^[0-9a-f]{128}$/);
  assert.match(first.stderr, /Storage key "lit-session-key" is missing/, 'the first run made the key');
  assert.deepEqual(first.result.reported, []);

  const second = runChild(keyring, ['v7', APP]);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.result.publicKey, first.result.publicKey, 'a process restart finds the same session key');
  assert.equal(second.result.secretKey, first.result.secretKey);
  assert.doesNotMatch(second.stderr, /is missing/, 'the second run found the key');

  // The item, as the platform's own tool sees it: the SDK's JSON, under our service and key.
  assert.deepEqual(keyring.accounts(SERVICE), ['lit-session-key']);
  assert.deepEqual(JSON.parse(keyring.lookup(SERVICE, 'lit-session-key')), {
    publicKey: first.result.publicKey,
    secretKey: first.result.secretKey,
  });

  // Another app is another store: a different key.
  const other = runChild(keyring, ['v7', `${APP}-other`]);
  assert.equal(other.status, 0, other.stderr);
  assert.notEqual(other.result.publicKey, first.result.publicKey);

  const scanned = assertNoSecretUnderHome(keyring, [
    first.result.secretKey,
    first.result.secretKey.slice(0, 64), // the seed alone
    other.result.secretKey,
  ]);
  t.diagnostic(`v7 process: first ${first.ms.toFixed(0)} ms, second ${second.ms.toFixed(0)} ms (SDK import included); ${scanned} files under HOME scanned`);
});

test('a locked keychain: keychainStorage() throws KeychainLockedError before the SDK is built', (t) => {
  const keyring = new PrivateKeyring('v7-locked');
  t.after(() => keyring.stop());
  keyring.lock();
  const run = runChild(keyring, ['v7', APP]);
  assert.equal(run.status, 1);
  const { error } = run.result;
  assert.equal(error.name, 'KeychainLockedError');
  assert.equal(error.code, 'keychain_locked');
  assert.ok(error.typed && error.locked);
  assert.match(error.fix, /Unlock the keychain/);
  assert.match(error.message, /app "storage-test-v7"/);
  assert.equal(run.result.publicKey, undefined, 'no session key was handed out');
  assert.deepEqual(keyring.accounts(SERVICE), [], 'nothing was stored');
});

test('a keychain that locks while the program runs: every failure is typed and reported, not silent', async (t) => {
  const keyring = new PrivateKeyring('v7-midway');
  t.after(() => keyring.stop());
  const child = await startChild(keyring, ['v7-lock', APP]);
  keyring.lock();
  const { status, result } = await child.go();
  assert.equal(status, 0);
  // SDK v7 swallows storage errors in getSessionKey() and carries on with a key in memory;
  // the storage reports each failure through onError (default: a process warning).
  assert.ok(result.reported.length >= 2, JSON.stringify(result.reported));
  for (const e of result.reported) {
    assert.equal(e.code, 'keychain_locked');
    assert.equal(e.name, 'KeychainLockedError');
  }
  // Called directly, the storage throws the typed error.
  assert.equal(result.direct.error.name, 'KeychainLockedError');
  assert.deepEqual(keyring.accounts(SERVICE), [], 'nothing was stored');
});

test('no Secret Service, or no lit-companion: typed errors with the fix', (t) => {
  const keyring = new PrivateKeyring('v7-absent');
  t.after(() => keyring.stop());
  const nobus = runChild(keyring, ['v7', APP], { env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' } });
  assert.equal(nobus.status, 1);
  assert.equal(nobus.result.error.name, 'KeychainUnavailableError');
  assert.equal(nobus.result.error.code, 'keychain_unavailable');
  assert.match(nobus.result.error.fix, /Secret Service/);

  const nobin = runChild(keyring, ['v7', APP], { env: { LIT_COMPANION_BIN: '/nonexistent/lit-companion' } });
  assert.equal(nobin.status, 1);
  assert.equal(nobin.result.error.code, 'companion_missing');
  assert.ok(nobin.result.error.typed);
  assert.match(nobin.result.error.fix, /LIT_COMPANION_BIN/);
});
