// Type declarations for @lit-companion/client/storage (Node.js 20+).

/** App names: 1–64 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or digit. */
export declare const APP_NAME_PATTERN: RegExp;
/** The largest value one item holds, in bytes (1 MiB). */
export declare const MAX_VALUE_BYTES: number;
/** How long one keychain call may take, in ms (60 s: a desktop may be showing its unlock prompt). */
export declare const DEFAULT_TIMEOUT_MS: number;

export type KeychainStorageErrorCode =
  | 'keychain_locked'
  | 'keychain_unavailable'
  | 'keychain_failure'
  | 'companion_missing'
  | 'invalid_app'
  | 'invalid_key'
  | 'too_large';

/** What to do about each failure, by code. */
export declare const FIXES: Readonly<Record<KeychainStorageErrorCode, string>>;

/** A keychain storage failure; `fix` says what to do. */
export declare class KeychainStorageError extends Error {
  constructor(code: KeychainStorageErrorCode, message: string, options?: { cause?: unknown });
  readonly code: KeychainStorageErrorCode;
  readonly fix: string;
}
/** The keychain exists but is locked (`code: 'keychain_locked'`). */
export declare class KeychainLockedError extends KeychainStorageError {
  constructor(message: string, options?: { cause?: unknown });
  readonly code: 'keychain_locked';
}
/** No keychain could be reached (`code: 'keychain_unavailable'`). */
export declare class KeychainUnavailableError extends KeychainStorageError {
  constructor(message: string, options?: { cause?: unknown });
  readonly code: 'keychain_unavailable';
}

export interface KeychainOptions {
  /** Namespaces the items: keychain service `lit-companion.store.<app>`. */
  app: string;
  /** The `lit-companion` command; default: `LIT_COMPANION_BIN`, then `lit-companion` on PATH. */
  bin?: string;
  /** The environment of the `lit-companion` runs (it needs the D-Bus session bus); default: process.env. */
  env?: Record<string, string | undefined>;
  /** Per keychain call; default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface KeychainStorageOptions extends KeychainOptions {
  /**
   * Called with every failure before it is thrown (SDK v7 swallows storage errors); default: a
   * process warning (`KeychainStorageWarning`) on stderr. `null` for none.
   */
  onError?: ((error: KeychainStorageError) => void) | null;
  /** Check the keychain once at creation and throw if it is locked or missing; default true. */
  check?: boolean;
}

/** The synchronous Web Storage interface SDK v7 calls (`storageProvider.provider`). */
export interface KeychainWebStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  clear(): void;
  key(index: number): string | null;
  readonly length: number;
}

/**
 * For SDK v7: `new LitNodeClientNodeJs({ storageProvider: { provider: keychainStorage({ app }) } })`.
 * Throws KeychainLockedError / KeychainUnavailableError at once when the keychain cannot be used.
 */
export declare function keychainStorage(options: KeychainStorageOptions): KeychainWebStorage;

export interface KeychainAuthStorageOptions extends KeychainOptions {
  /** The Lit network the cached auth data is for (e.g. 'naga-dev'); part of every key. */
  networkName: string;
}

export interface LitAuthDataLike {
  sessionKey: { keyPair: { publicKey: string; secretKey: string }; expiresAt: string };
  authMethodType: number;
}

export interface PkpDataLike {
  tokenId: string | bigint;
  publicKey: string;
  ethAddress: string;
}

/** SDK v8's `LitAuthStorageProvider` (from @lit-protocol/auth), backed by the OS keychain. */
export interface KeychainAuthStorage {
  config: { appName: string; networkName: string; storage: 'os-keychain' };
  read(params: { address: string }): Promise<LitAuthDataLike | null>;
  write(params: { address: string; authData: LitAuthDataLike }): Promise<void>;
  readInnerDelegationAuthSig(params: { publicKey: string }): Promise<string | null>;
  writeInnerDelegationAuthSig(params: { publicKey: string; authSig: string }): Promise<void>;
  readPKPTokens(params: { authMethodType: number | bigint; authMethodId: string }): Promise<string[] | null>;
  writePKPTokens(params: { authMethodType: number | bigint; authMethodId: string; tokenIds: string[] }): Promise<void>;
  readPKPs(params: { authMethodType: number | bigint; authMethodId: string }): Promise<PkpDataLike[] | null>;
  writePKPs(params: { authMethodType: number | bigint; authMethodId: string; pkps: PkpDataLike[] }): Promise<void>;
  readPKPDetails(params: { tokenId: string }): Promise<{ publicKey: string; ethAddress: string } | null>;
  writePKPDetails(params: { tokenId: string; publicKey: string; ethAddress: string }): Promise<void>;
  readPKPTokensByAddress(params: { ownerAddress: string }): Promise<string[] | null>;
  writePKPTokensByAddress(params: { ownerAddress: string; tokenIds: string[] }): Promise<void>;
}

/**
 * For SDK v8: `createAuthManager({ storage: keychainAuthStorage({ app, networkName }) })`.
 * Calls reject with KeychainLockedError / KeychainUnavailableError, which the AuthManager passes on.
 */
export declare function keychainAuthStorage(options: KeychainAuthStorageOptions): KeychainAuthStorage;
