// Type declarations for @lit-companion/client (bridge protocol v1).

export declare const PROTOCOL_VERSION: 1;
export declare const DEFAULT_PORT: 41410;
export declare const DEFAULT_HOST: '127.0.0.1';
/** 5 minutes: the user may take time to approve. */
export declare const DEFAULT_TIMEOUT_MS: number;
export declare const DEFAULT_TRANSPORTS: readonly Transport[];
export declare const NETWORKS: readonly LitNetwork[];
/** The largest request body the companion accepts (64 KiB). */
export declare const MAX_REQUEST_BYTES: number;
/** Sessions may last at most 30 days. */
export declare const MAX_LIFETIME_MS: number;

/** A built-in network, or one the user added to Lit Companion (`lit-companion network add`). */
export type LitNetwork = 'datil-dev' | 'datil-test' | 'datil' | 'naga-dev' | 'naga-test' | 'naga' | (string & {});
export type Transport = 'extension' | 'http' | 'deeplink';

/** The SDK's resource-ability request; SDK resource class instances (LitPKPResource, …) fit. */
export interface ResourceAbilityRequest {
  resource: { resource: string; resourcePrefix: string };
  ability: string;
}

export interface AuthSig {
  sig: string;
  derivedVia: string;
  signedMessage: string;
  address: string;
  algo?: string;
}

/** One node's entry of the SDK's SessionSigsMap. */
export interface SessionSig {
  sig: string;
  derivedVia: string;
  signedMessage: string;
  address: string;
  algo?: string;
}

/** Exactly the SDK's SessionSigsMap: node URL → entry. */
export type SessionSigsMap = Record<string, SessionSig>;

export interface SessionSigsParams {
  network: LitNetwork;
  resourceAbilityRequests: ResourceAbilityRequest[];
  /** The nodes to sign for; optional when the companion knows the network's nodes. */
  nodeUrls?: string[];
  /** A Date or an RFC 3339 string; in the future, at most 30 days away. */
  expiration?: Date | string;
  /** Capacity (Datil) or payment (Naga) delegation AuthSigs to carry. */
  capabilityAuthSigs?: AuthSig[];
  /** The app's statement (one line), placed before the capability statement. */
  statement?: string;
  /** Naga: the most a node may charge per request, in wei (sent as a decimal string). */
  maxPrice?: string | bigint | number;
  /**
   * Which wallet signs the session's AuthSig: an address of one of the user's wallets (local, or
   * external: then the page's wallet signs, as below); `'browser'` for the page's own EIP-1193
   * wallet (MetaMask, Rabby, …: asked for its account with `eth_requestAccounts`, and added to Lit
   * Companion when the user approves); default: the user's default wallet. A browser wallet can
   * sign through the extension and the loopback HTTP road, not through a deep link (4200).
   */
  wallet?: 'browser' | (string & {});
  /**
   * A PKP session: the PKP's public key (0x04…, one the user added to Lit Companion). The Lit
   * network signs the session's AuthSig for it (`LIT_BLS`) once the PKP's wallet signs in (a
   * browser wallet signs in through the extension only). Not with `wallet`.
   */
  pkpPublicKey?: string;
  /** With `pkpPublicKey`: a Lit Action (IPFS CIDv0) authorizes the PKP instead of its wallet. */
  litActionIpfsId?: string;
  /** With `pkpPublicKey`: the Lit Action's code, base64 (its CID is computed from it). */
  litActionCode?: string;
  /** The Lit Action's parameters. */
  jsParams?: Record<string, unknown>;
}

/**
 * The step an external wallet's session takes (handled for you): the page's wallet signs
 * `message` (the session SIWE, exactly) with `personal_sign`, and the answer goes back as
 * `walletSignature` before `expiresAt`.
 */
export interface SignWithWalletStep {
  /** One-time, 32 hex digits. */
  ticket: string;
  /** The external wallet's address (EIP-55). */
  address: string;
  message: string;
  expiresAt: string;
  /** `'pkpAuth'`: the wallet signs in for the PKP `pkp` (a plain SIWE, no resources). */
  purpose?: 'pkpAuth';
  /** The PKP (EIP-55 address) a `pkpAuth` sign-in is for. */
  pkp?: string;
}

/** The `walletSignature` params: the wallet's signature (0x + 130 hex), or its refusal. */
export type WalletSignatureParams = { ticket: string; signature: string } | { ticket: string; rejected: true };

/** `getSessionSigs.externalWallet` on the wire: the page's wallet account and the wallet's name. */
export interface ExternalWalletParam {
  address: string;
  /** The wallet's EIP-6963 `info.name`, at most 64 characters; default "Browser wallet". */
  name?: string;
}

/** An EIP-1193 provider (`window.ethereum`, or an EIP-6963 announcement's `provider`). */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | Record<string, unknown> }): Promise<unknown>;
}

export interface SessionSigsResult {
  sessionSigs: SessionSigsMap;
  wallet: string;
  /** The session public key, 64 hex digits. */
  sessionKey: string;
  expiration: string;
  /** Whether an existing grant covered the request (no prompt was shown). */
  reused: boolean;
}

export interface Grant {
  network: LitNetwork;
  wallet: string;
  sessionKey: string;
  expiresAt: string;
  granted: ResourceAbilityRequest[];
  /** Plain sentences: what the session may do. */
  mayDo: string[];
}

export interface ListGrantsResult {
  grants: Grant[];
}

export interface DisconnectResult {
  revoked: number;
}

export interface CompanionOptions {
  /** Transports in order of preference. Default: ['extension', 'http', 'deeplink']. */
  transports?: Transport[];
  /** Loopback HTTP port. Default 41410. */
  port?: number;
  /** Loopback HTTP host. Default '127.0.0.1' (the companion accepts 127.0.0.1 and localhost). */
  host?: string;
  /** Pairing token for callers without an Origin (Node scripts): sent as `Authorization: Bearer`. */
  token?: string;
  /** Overall limit for the whole call, approval included; then CompanionError 4408. Default 5 min; Infinity for none. */
  timeoutMs?: number;
  /** Aborting rejects the call with `signal.reason` (an AbortError by default). */
  signal?: AbortSignal;
  /** A fetch implementation. Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** Minimum gap between long-polls of a pending approval. Default 500 ms. */
  pollIntervalMs?: number;
  /** How long to wait for the extension to announce itself. Default 300 ms. */
  extensionTimeoutMs?: number;
  /** The page's wallet to use for `wallet: 'browser'` and for signing steps; default: found through EIP-6963, else `window.ethereum`. */
  ethereum?: Eip1193Provider;
  /** Of several EIP-6963 wallets, the one with this `info.rdns` (e.g. 'io.metamask'); default: the first announced. */
  walletRdns?: string;
  /** How long EIP-6963 wallets may take to announce themselves. Default 100 ms. */
  walletTimeoutMs?: number;
}

export interface RequestEnvelope {
  v: 1;
  id: string;
  method: 'getSessionSigs' | 'walletSignature' | 'listGrants' | 'disconnect' | (string & {});
  params?: unknown;
}

export interface ErrorObject {
  code: number;
  name: string;
  message: string;
}

export type ResponseEnvelope<R = unknown> =
  | { v: 1; id: string; result: R }
  | { v: 1; id: string | null; error: ErrorObject };

export interface ExtensionInfo {
  name: string;
  version: string;
  protocol: number[];
}

export interface ExtensionProvider {
  request(envelope: RequestEnvelope): Promise<ResponseEnvelope>;
}

export interface DetectedExtension {
  info: ExtensionInfo | null;
  provider: ExtensionProvider;
}

export declare const ErrorCodes: Readonly<{
  USER_REJECTED: 4001;
  UNAUTHORIZED: 4100;
  UNSUPPORTED: 4200;
  DISCONNECTED: 4900;
  BAD_REQUEST: 4400;
  REQUEST_EXPIRED: 4408;
  TOO_LARGE: 4413;
  RATE_LIMITED: 4429;
  KEYCHAIN_UNAVAILABLE: 4503;
  NETWORK_UNAVAILABLE: 4504;
  NO_WALLET: 4601;
  INTERNAL: 5000;
}>;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export type ErrorName =
  | 'user_rejected'
  | 'unauthorized'
  | 'unsupported'
  | 'disconnected'
  | 'bad_request'
  | 'request_expired'
  | 'too_large'
  | 'rate_limited'
  | 'keychain_unavailable'
  | 'network_unavailable'
  | 'no_wallet'
  | 'internal';

/** The protocol's error names, by code. */
export declare const ErrorNames: Readonly<Record<ErrorCode, ErrorName>>;

export declare class CompanionError extends Error {
  constructor(code: number, message?: string, options?: { name?: string; cause?: unknown });
  /** A protocol error code (see ErrorCodes); unknown future codes are passed through. */
  code: ErrorCode | number;
  /** The protocol's error name, e.g. 'user_rejected'. */
  name: ErrorName | string;
}

/**
 * Asks Lit Companion for sessionSigs. Rejects with a CompanionError, or with `signal.reason`
 * when `options.signal` aborts. With the deep-link transport the page usually navigates away:
 * call readDeepLinkResult() when the page loads. When the page's wallet signs (`wallet:
 * 'browser'`, or an external wallet's address), the wallet's `personal_sign` and the
 * `walletSignature` answer happen inside this one call: 4001 when the wallet refuses, 4601 when
 * the page has no wallet, 4200 on the deep-link transport.
 */
export declare function requestSessionSigs(
  params: SessionSigsParams,
  options?: CompanionOptions,
): Promise<SessionSigsResult>;

/** The calling origin's grants. */
export declare function listGrants(options?: CompanionOptions): Promise<ListGrantsResult>;

/** Revokes every session of the calling origin. */
export declare function disconnect(options?: CompanionOptions): Promise<DisconnectResult>;

/** Finds the browser extension; null outside a browser or when nothing announces within timeoutMs (default 300). */
export declare function detectExtension(timeoutMs?: number): Promise<DetectedExtension | null>;

/** An X25519 private key as a JWK (what WebCrypto exports), with its public part `x`. */
export interface X25519PrivateJwk {
  kty: 'OKP';
  crv: 'X25519';
  /** The private key, base64url. */
  d: string;
  /** The public key, base64url. */
  x: string;
  [extra: string]: unknown;
}

export interface DeepLink {
  /** The `lit-companion://session?req=…&origin=…&callback=…&nonce=…&exp=…&pk=…` link. */
  url: string;
  /** The link's single-use nonce (the sealed answer's aad). */
  nonce: string;
  /** The ephemeral private key the answer is sealed to (also kept in this tab's sessionStorage). */
  key: X25519PrivateJwk;
}

/**
 * Reads and removes a deep-link answer (`#litCompanion=<sealed answer>`) from the page address.
 * Null when there is none. The result when this tab asked (it holds the key; a pending
 * requestSessionSigs of this document settles too). `{ forwarded: true }` when another tab of
 * this origin asked: the answer went to it over a BroadcastChannel and its promise settled there.
 * Rejects with the CompanionError of an error answer, 5000 for a malformed answer, 4400 when no
 * tab of this origin takes it within `forwardTimeoutMs` (default 2000).
 */
export declare function readDeepLinkResult(options?: {
  forwardTimeoutMs?: number;
}): Promise<SessionSigsResult | { forwarded: true } | null>;

/**
 * Builds the `lit-companion://session?…` link for an envelope (normally done for you): an
 * ephemeral X25519 key pair, `pk` in the link, the private key kept with the request's id, method
 * and nonce in this tab's sessionStorage until the answer is read or the link lapses (10 min).
 */
export declare function buildDeepLink(
  envelope: RequestEnvelope | string,
  location?: { href: string; origin: string },
): Promise<DeepLink>;

/**
 * Opens a sealed deep-link answer (the value of `#litCompanion=…`) with the key and nonce of its
 * link: HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM, info
 * "lit-companion deep link v1", aad = the nonce. Resolves the response envelope (not unwrapped);
 * rejects with CompanionError 5000 (malformed, or no JSON inside) or 4400 (does not open).
 */
export declare function openSealedAnswer(
  privateKeyJwk: X25519PrivateJwk,
  nonce: string,
  fragmentValue: string,
): Promise<ResponseEnvelope<SessionSigsResult>>;

/**
 * RFC 9180 single-shot open in base mode for the suite above, with any info and aad (exported
 * for known-answer tests). `sealed` is enc ‖ ciphertext. Rejects with CompanionError 4400 when
 * it does not open.
 */
export declare function hpkeOpen(
  privateKeyJwk: X25519PrivateJwk,
  sealed: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array>;
