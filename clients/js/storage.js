// @lit-companion/client/storage: the Lit JS SDK's own Node.js storage, kept in the OS keychain.
//
// The SDK's documentation has Node.js programs persist session keys with `node-localstorage`
// (SDK v7's `storageProvider`) or `storagePlugins.localStorageNode` (SDK v8's AuthManager): a
// plain file holding the session key pair. These two adapters keep the same items in the OS
// keychain instead (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows),
// one keychain item per storage key, through the `lit-companion store` command — the
// companion's own keychain code. Nothing secret is written to disk, passed in argv or the
// environment, or cached in this module: each call asks the keychain, so a second process sees
// the same items.
//
// Node 20+ only (node:child_process). No dependencies, no build step.

import { spawn, spawnSync } from 'node:child_process';

/** App names: 1–64 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export const APP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The largest value one item holds, in bytes (the SDKs store a few KiB). */
export const MAX_VALUE_BYTES = 1024 * 1024;
/** How long one keychain call may take (a desktop may be showing its unlock prompt). */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** `lit-companion store get` exits with this when there is no such item. */
const NOT_FOUND_EXIT = 3;

/** What to do about each failure, in words for the person running the program. */
export const FIXES = Object.freeze({
  keychain_locked:
    'Unlock the keychain and retry: log in to the desktop session or unlock the "login" keyring in your ' +
    'keyring manager; on a headless machine, unlock it with `gnome-keyring-daemon --unlock` (password on stdin).',
  keychain_unavailable:
    'Run a Secret Service (gnome-keyring, KeePassXC) on the D-Bus session bus; on a headless machine or in CI: ' +
    "`dbus-run-session -- sh -c 'printf %s \"$PASS\" | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec node app.js'`.",
  keychain_failure: 'The keychain refused the operation; see the message, check the keychain, and retry.',
  companion_missing:
    'Install Lit Companion (the `lit-companion` command) or point LIT_COMPANION_BIN (or the `bin` option) at it.',
  invalid_app: 'Use an app name of 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.',
  invalid_key: 'Use a non-empty key of at most 1024 bytes without control characters.',
  too_large: `Keep each value under ${MAX_VALUE_BYTES} bytes.`,
});

/** A keychain storage failure: `code` is stable (see FIXES), `fix` says what to do. */
export class KeychainStorageError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{ cause?: unknown }} [options]
   */
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeychainStorageError';
    this.code = code;
    this.fix = FIXES[code] || FIXES.keychain_failure;
  }
}

/** The keychain exists but is locked. */
export class KeychainLockedError extends KeychainStorageError {
  constructor(message, options) {
    super('keychain_locked', message, options);
    this.name = 'KeychainLockedError';
  }
}

/** No keychain could be reached (no Secret Service, no D-Bus session bus). */
export class KeychainUnavailableError extends KeychainStorageError {
  constructor(message, options) {
    super('keychain_unavailable', message, options);
    this.name = 'KeychainUnavailableError';
  }
}

function typedError(code, message, options) {
  if (code === 'keychain_locked') return new KeychainLockedError(message, options);
  if (code === 'keychain_unavailable') return new KeychainUnavailableError(message, options);
  return new KeychainStorageError(code, message, options);
}

/** Where the `lit-companion` command is: the option, then LIT_COMPANION_BIN, then PATH. */
function resolveBin(bin, env) {
  return bin || env.LIT_COMPANION_BIN || 'lit-companion';
}

function context({ app, bin, env, timeoutMs }) {
  if (typeof app !== 'string' || !APP_NAME_PATTERN.test(app)) {
    throw new KeychainStorageError('invalid_app', `Lit Companion storage: app name ${JSON.stringify(app)} is not valid.`);
  }
  const environment = env || process.env;
  return {
    app,
    bin: resolveBin(bin, environment),
    env: environment,
    timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

/** `store <op> --app APP [-- KEY]`: the key after `--`, so that no key reads as an option. */
function storeArgs(ctx, op, key) {
  const args = ['store', op, '--app', ctx.app];
  if (key !== undefined) args.push('--', key);
  return args;
}

function encodeValue(value) {
  const bytes = Buffer.from(String(value), 'utf8');
  if (bytes.length > MAX_VALUE_BYTES) {
    throw new KeychainStorageError('too_large', `Lit Companion storage: the value is ${bytes.length} bytes; an item holds at most ${MAX_VALUE_BYTES}.`);
  }
  return bytes;
}

/**
 * Turns a finished `lit-companion store` run into its stdout, or `null` for "no such item", or
 * throws the typed error. The command's messages never carry a stored value.
 */
function interpret(ctx, op, { error, status, signal, stdout, stderr }) {
  const where = `Lit Companion storage (app "${ctx.app}", ${op})`;
  if (error) {
    if (error.code === 'ENOENT') {
      return { error: typedError('companion_missing', `${where}: the lit-companion command was not found (${ctx.bin}).`, { cause: error }) };
    }
    if (error.code === 'ETIMEDOUT') {
      return { error: typedError('keychain_unavailable', `${where}: the keychain did not answer within ${ctx.timeoutMs} ms.`, { cause: error }) };
    }
    return { error: typedError('keychain_failure', `${where}: ${error.message}`, { cause: error }) };
  }
  if (status === 0) return { stdout };
  if (status === NOT_FOUND_EXIT && op === 'get') return { stdout: null };
  const line = String(stderr || '').trim().split('\n').pop() || `exited with ${status ?? signal}`;
  if (/unrecognized subcommand 'store'/.test(line)) {
    return { error: typedError('companion_missing', `${where}: ${ctx.bin} has no \`store\` command; it is older than this client.`) };
  }
  const match = /^error: ([a-z_]+): (.*)$/.exec(line);
  const code = match && FIXES[match[1]] ? match[1] : 'keychain_failure';
  return { error: typedError(code, `${where}: ${match ? match[2] : line}`) };
}

/** `get` prints the value and one newline. */
function valueOf(stdout) {
  const end = stdout.length > 0 && stdout[stdout.length - 1] === 0x0a ? stdout.length - 1 : stdout.length;
  return stdout.subarray(0, end).toString('utf8');
}

function runSync(ctx, op, key, input) {
  const r = spawnSync(ctx.bin, storeArgs(ctx, op, key), {
    input: input ?? Buffer.alloc(0),
    env: ctx.env,
    timeout: ctx.timeoutMs,
    maxBuffer: 2 * MAX_VALUE_BYTES,
    windowsHide: true,
  });
  return interpret(ctx, op, r);
}

function runAsync(ctx, op, key, input) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(ctx.bin, storeArgs(ctx, op, key), { env: ctx.env, windowsHide: true, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      resolve(interpret(ctx, op, { error }));
      return;
    }
    const out = [];
    const err = [];
    let failure;
    let settled = false;
    const settle = (answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(interpret(ctx, op, answer));
    };
    const timer = setTimeout(() => {
      child.kill();
      settle({ error: Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }) });
    }, ctx.timeoutMs);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (error) => {
      failure = failure || error;
    });
    child.stdin.on('error', () => {}); // a child that exits early closes its stdin; its status says why
    child.on('close', (status, signal) => {
      settle({
        error: failure,
        status,
        signal,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

function defaultOnError(error) {
  process.emitWarning(`${error.message} — ${error.fix}`, { type: 'KeychainStorageWarning', code: error.code });
}

/**
 * A synchronous Web Storage object backed by the OS keychain, for SDK v7's
 * `new LitNodeClientNodeJs({ storageProvider: { provider: keychainStorage({ app }) } })`.
 *
 * Every method asks the keychain (one short `lit-companion store` run, ~30 ms) and throws a
 * `KeychainStorageError` on failure. SDK v7 swallows storage errors and carries on with a
 * session key it keeps only in memory; so that this is never silent, the keychain is checked
 * once here (a locked or missing keychain throws from `keychainStorage()` itself), and every
 * later failure is also handed to `onError` (default: a process warning on stderr).
 *
 * @param {{ app: string, bin?: string, env?: Record<string, string | undefined>, timeoutMs?: number,
 *   onError?: ((error: KeychainStorageError) => void) | null, check?: boolean }} options
 */
export function keychainStorage(options) {
  const ctx = context(options || {});
  const onError = options.onError === undefined ? defaultOnError : options.onError;
  const fail = (error) => {
    if (onError) onError(error);
    throw error;
  };
  const call = (op, key, input) => {
    const { stdout, error } = runSync(ctx, op, key, input);
    return error ? fail(error) : stdout;
  };
  const keys = () => JSON.parse(call('list').toString('utf8'));
  if (options.check !== false) {
    const { error } = runSync(ctx, 'list');
    if (error) throw error;
  }
  const storage = {
    /** @param {string} key */
    getItem(key) {
      const stdout = call('get', String(key));
      return stdout === null ? null : valueOf(stdout);
    },
    /** @param {string} key @param {string} value */
    setItem(key, value) {
      let bytes;
      try {
        bytes = encodeValue(value);
      } catch (error) {
        fail(error);
      }
      call('set', String(key), bytes);
    },
    /** @param {string} key */
    removeItem(key) {
      call('delete', String(key));
    },
    clear() {
      call('clear');
    },
    /** The key at `index` in sorted order, or null. @param {number} index */
    key(index) {
      const all = keys();
      const i = Number(index);
      return Number.isInteger(i) && i >= 0 && i < all.length ? all[i] : null;
    },
    get length() {
      return keys().length;
    },
  };
  Object.defineProperty(storage, Symbol.toStringTag, { value: 'KeychainStorage' });
  return storage;
}

/**
 * An SDK v8 AuthManager storage (`LitAuthStorageProvider`) backed by the OS keychain, for
 * `createAuthManager({ storage: keychainAuthStorage({ app, networkName }) })`. Asynchronous;
 * the same store as `keychainStorage({ app })`. A locked or missing keychain rejects with a
 * `KeychainStorageError`, which the AuthManager passes on to its caller.
 *
 * @param {{ app: string, networkName: string, bin?: string, env?: Record<string, string | undefined>,
 *   timeoutMs?: number }} options
 */
export function keychainAuthStorage(options) {
  const ctx = context(options || {});
  const { networkName } = options;
  if (typeof networkName !== 'string' || networkName === '' || /[\u0000-\u001f\u007f]/.test(networkName)) {
    throw new TypeError('keychainAuthStorage: networkName must be a non-empty string (e.g. "naga-dev")');
  }
  const call = async (op, key, input) => {
    const { stdout, error } = await runAsync(ctx, op, key, input);
    if (error) throw error;
    return stdout;
  };
  const getText = async (key) => {
    const stdout = await call('get', key);
    return stdout === null ? null : valueOf(stdout);
  };
  const getJson = async (key) => {
    const text = await getText(key);
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return null; // damaged: treated as absent, so the SDK makes and stores a fresh one
    }
  };
  const setJson = (key, value) => call('set', key, encodeValue(JSON.stringify(value)));
  // The keys of `storagePlugins.localStorageNode`, without the app (the keychain service has it).
  const k = (kind, ...parts) => [kind, networkName, ...parts.map(String)].join(':');
  return {
    config: { appName: ctx.app, networkName, storage: 'os-keychain' },

    async write({ address, authData }) {
      await setJson(k('lit-auth', address), authData);
    },
    async read({ address }) {
      return getJson(k('lit-auth', address));
    },
    async writeInnerDelegationAuthSig({ publicKey, authSig }) {
      await call('set', k('lit-auth-inner-delegation', publicKey), encodeValue(authSig));
    },
    async readInnerDelegationAuthSig({ publicKey }) {
      return getText(k('lit-auth-inner-delegation', publicKey));
    },
    async writePKPTokens({ authMethodType, authMethodId, tokenIds }) {
      await setJson(k('lit-pkp-tokens', authMethodType, authMethodId), { tokenIds, timestamp: Date.now() });
    },
    async readPKPTokens({ authMethodType, authMethodId }) {
      return (await getJson(k('lit-pkp-tokens', authMethodType, authMethodId)))?.tokenIds || null;
    },
    async writePKPs({ authMethodType, authMethodId, pkps }) {
      await setJson(k('lit-pkp-full', authMethodType, authMethodId), { pkps, timestamp: Date.now() });
    },
    async readPKPs({ authMethodType, authMethodId }) {
      return (await getJson(k('lit-pkp-full', authMethodType, authMethodId)))?.pkps || null;
    },
    async writePKPDetails({ tokenId, publicKey, ethAddress }) {
      await setJson(k('lit-pkp-details', tokenId), { publicKey, ethAddress, timestamp: Date.now() });
    },
    async readPKPDetails({ tokenId }) {
      const parsed = await getJson(k('lit-pkp-details', tokenId));
      return parsed?.publicKey && parsed?.ethAddress ? { publicKey: parsed.publicKey, ethAddress: parsed.ethAddress } : null;
    },
    async writePKPTokensByAddress({ ownerAddress, tokenIds }) {
      await setJson(k('lit-pkp-address', ownerAddress), { tokenIds, timestamp: Date.now() });
    },
    async readPKPTokensByAddress({ ownerAddress }) {
      return (await getJson(k('lit-pkp-address', ownerAddress)))?.tokenIds || null;
    },
  };
}
