// One program run of the storage tests: a separate Node process using the official Lit SDK with
// @lit-companion/client/storage, offline. Prints one line `RESULT <json>` on stdout (the SDK logs
// around it); exits 1 when the run failed with an error (described in the result).
//   node child.mjs v7 APP            SDK v7: getSessionKey() through storageProvider
//   node child.mjs v7-lock APP       the same, but waits for "go" on stdin before asking (the test
//                                    locks the keychain meanwhile)
//   node child.mjs v8 APP NETWORK    SDK v8: AuthManager.createEoaAuthContext with keychainAuthStorage
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { once } from 'node:events';

import {
  keychainStorage,
  keychainAuthStorage,
  KeychainStorageError,
  KeychainLockedError,
  KeychainUnavailableError,
} from '../../clients/js/storage.js';
import { root } from './keyring.mjs';

const sdk = createRequire(join(root, 'tests/sdk/package.json'));
const [mode, app, networkName] = process.argv.slice(2);
/** How many times the wallet was asked to sign (v8). */
let signs = 0;

/** A throwaway test wallet (never used anywhere else). */
const WALLET_KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
const NONCE = '0xabababababababababababababababababababababababababababababababab';

function result(value, code = 0) {
  process.stdout.write(`\nRESULT ${JSON.stringify(value)}\n`);
  process.exitCode = code;
}

function describe(e) {
  return {
    name: e?.name,
    code: e?.code,
    fix: e?.fix,
    message: String(e?.message),
    typed: e instanceof KeychainStorageError,
    locked: e instanceof KeychainLockedError,
    unavailable: e instanceof KeychainUnavailableError,
  };
}

async function v7({ waitForGo }) {
  const { LitNodeClientNodeJs } = sdk('@lit-protocol/lit-node-client-nodejs');
  const reported = [];
  // The README's two lines: the import, and the provider.
  const client = new LitNodeClientNodeJs({
    litNetwork: 'datil-dev',
    debug: false,
    storageProvider: { provider: keychainStorage({ app, onError: (e) => reported.push(describe(e)) }) },
  });
  if (waitForGo) {
    process.stdout.write('READY\n');
    process.stdin.setEncoding('utf8');
    await once(process.stdin, 'data');
  }
  const key = client.getSessionKey();
  let direct = null;
  try {
    direct = { value: globalThis.localStorage.getItem('lit-session-key') };
  } catch (e) {
    direct = { error: describe(e) };
  }
  result({ publicKey: key.publicKey, secretKey: key.secretKey, reported, direct });
}

async function v8() {
  const { createAuthManager } = sdk('@lit-protocol/auth');
  const { privateKeyToAccount } = sdk('viem/accounts');
  const wallet = privateKeyToAccount(WALLET_KEY);
  const account = {
    ...wallet,
    signMessage: async (args) => {
      signs += 1;
      return wallet.signMessage(args);
    },
  };
  // Offline: the only thing the EOA path asks of the Lit client is the nonce.
  const litClient = { getContext: async () => ({ latestBlockhash: NONCE }) };
  const authManager = createAuthManager({ storage: keychainAuthStorage({ app, networkName }) });
  const context = await authManager.createEoaAuthContext({
    config: { account },
    authConfig: {
      domain: 'localhost',
      statement: 'storage test',
      resources: [['pkp-signing', '*']],
      expiration: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
      capabilityAuthSigs: [],
    },
    litClient,
  });
  const authSig = await context.authNeededCallback();
  result({
    address: wallet.address,
    publicKey: context.sessionKeyPair.publicKey,
    secretKey: context.sessionKeyPair.secretKey,
    authSig,
    signs,
  });
}

try {
  if (mode === 'v7') await v7({ waitForGo: false });
  else if (mode === 'v7-lock') await v7({ waitForGo: true });
  else if (mode === 'v8') await v8();
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  result({ error: describe(e), signs }, 1);
}
