// @lit-companion/client/storage without a keychain: the package's export, how each answer of
// `lit-companion store` is read, and that a value travels on stdin only. (Against the real
// keychain and the official SDKs: tests/storage in the repository.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  keychainStorage,
  keychainAuthStorage,
  KeychainStorageError,
  KeychainLockedError,
  KeychainUnavailableError,
} from '@lit-companion/client/storage';

const FAKE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/fake-lit-companion');

function fake(t, mode) {
  const dir = mkdtempSync(join(tmpdir(), 'lit-companion-fake-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, FAKE_DIR: dir, FAKE_MODE: mode };
  return {
    env,
    options: { app: 'unit', bin: FAKE, env, check: false, onError: null },
    argv: () => readFileSync(join(dir, 'argv'), 'utf8').trimEnd().split('\n'),
    stdin: () => readFileSync(join(dir, 'stdin'), 'utf8'),
    environment: () => readFileSync(join(dir, 'env'), 'utf8'),
  };
}

test('the subpath export is the storage module', async () => {
  const viaPath = await import('../storage.js');
  assert.equal(keychainStorage, viaPath.keychainStorage);
  assert.equal(typeof keychainAuthStorage, 'function');
});

test('a value goes to stdin, never to argv or the environment; the key comes after --', (t) => {
  const f = fake(t, 'ok');
  const secret = '{"secretKey":"0123456789abcdef"}';
  keychainStorage(f.options).setItem('-key', secret);
  assert.deepEqual(f.argv(), ['store', 'set', '--app', 'unit', '--', '-key']);
  assert.equal(f.stdin(), secret);
  assert.ok(!f.environment().includes('0123456789abcdef'));
});

test('get: the value without the newline the command adds; exit 3 is null', (t) => {
  assert.equal(keychainStorage(fake(t, 'ok-value').options).getItem('k'), 'the value\n');
  assert.equal(keychainStorage(fake(t, 'missing').options).getItem('k'), null);
  const list = fake(t, 'ok-list');
  const s = keychainStorage(list.options);
  assert.equal(s.length, 2);
  assert.equal(s.key(1), 'b');
  assert.deepEqual(list.argv(), ['store', 'list', '--app', 'unit']);
});

test('failures are typed, carry the fix, and reach onError', (t) => {
  const seen = [];
  const locked = fake(t, 'locked');
  const s = keychainStorage({ ...locked.options, onError: (e) => seen.push(e) });
  assert.throws(() => s.getItem('k'), (e) => e instanceof KeychainLockedError && e.code === 'keychain_locked' && /Unlock/.test(e.fix));
  assert.equal(seen.length, 1);
  assert.throws(() => keychainStorage({ ...locked.options, check: true }), KeychainLockedError);
  const unavailable = fake(t, 'unavailable');
  assert.throws(() => keychainStorage({ ...unavailable.options, check: true }), KeychainUnavailableError);
  const strange = fake(t, 'strange');
  assert.throws(() => keychainStorage(strange.options).setItem('k', 'v'),
    (e) => e instanceof KeychainStorageError && e.code === 'keychain_failure' && /something unexpected/.test(e.message));
  assert.throws(() => keychainStorage({ app: 'unit', bin: '/nonexistent/lit-companion', onError: null }),
    (e) => e.code === 'companion_missing');
  assert.throws(() => keychainStorage({ app: 'not valid' }), (e) => e.code === 'invalid_app');
  assert.throws(() => keychainStorage({ ...fake(t, 'old').options, check: true }),
    (e) => e.code === 'companion_missing' && /older than this client/.test(e.message));
});

test('the default onError is a process warning (SDK v7 swallows storage errors)', async (t) => {
  const warned = new Promise((ok) => process.once('warning', ok));
  const s = keychainStorage({ ...fake(t, 'locked').options, onError: undefined });
  assert.throws(() => s.getItem('k'), KeychainLockedError);
  const warning = await warned;
  assert.equal(warning.name, 'KeychainStorageWarning');
  assert.equal(warning.code, 'keychain_locked');
});

test('v8: calls reject with the typed error; a slow keychain times out', async (t) => {
  const locked = fake(t, 'locked');
  const s = keychainAuthStorage({ ...locked.options, networkName: 'naga-dev' });
  await assert.rejects(s.read({ address: '0xA' }), KeychainLockedError);
  assert.deepEqual(locked.argv(), ['store', 'get', '--app', 'unit', '--', 'lit-auth:naga-dev:0xA']);
  const slow = keychainAuthStorage({ ...fake(t, 'hang').options, networkName: 'naga-dev', timeoutMs: 200 });
  await assert.rejects(slow.read({ address: '0xA' }), (e) => e.code === 'keychain_unavailable' && /200 ms/.test(e.message));
  assert.throws(() => keychainAuthStorage({ app: 'unit', networkName: '' }), TypeError);
  const missing = keychainAuthStorage({ app: 'unit', networkName: 'naga-dev', bin: '/nonexistent/lit-companion' });
  await assert.rejects(missing.read({ address: '0xA' }), (e) => e.code === 'companion_missing');
});
