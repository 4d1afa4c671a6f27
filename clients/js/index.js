// @lit-companion/client: the dapp side of the Lit Companion bridge protocol (v1).
//
// A plain ES module with no dependencies and no build step. It runs in browsers and in Node 20+
// (global fetch, AbortController, crypto, TextEncoder, btoa/atob). See docs/bridge-protocol.md in
// the Lit Companion repository for the wire protocol.

export const PROTOCOL_VERSION = 1;
export const DEFAULT_PORT = 41410;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000;
export const DEFAULT_TRANSPORTS = Object.freeze(['extension', 'http', 'deeplink']);
/** The networks built into the companion; the user may add their own (any name like `my-net`). */
export const NETWORKS = Object.freeze(['datil-dev', 'datil-test', 'datil', 'naga-dev', 'naga-test', 'naga']);
/** What a network name looks like: the companion decides whether it knows it. */
const NETWORK_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** The largest request body the companion accepts, in bytes. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Sessions may last at most 30 days (the nodes refuse longer ones). */
export const MAX_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export const ErrorCodes = Object.freeze({
  USER_REJECTED: 4001,
  UNAUTHORIZED: 4100,
  UNSUPPORTED: 4200,
  DISCONNECTED: 4900,
  BAD_REQUEST: 4400,
  REQUEST_EXPIRED: 4408,
  TOO_LARGE: 4413,
  RATE_LIMITED: 4429,
  KEYCHAIN_UNAVAILABLE: 4503,
  NETWORK_UNAVAILABLE: 4504,
  NO_WALLET: 4601,
  INTERNAL: 5000,
});

/** The protocol's stable error names, by code. */
export const ErrorNames = Object.freeze({
  4001: 'user_rejected',
  4100: 'unauthorized',
  4200: 'unsupported',
  4900: 'disconnected',
  4400: 'bad_request',
  4408: 'request_expired',
  4413: 'too_large',
  4429: 'rate_limited',
  4503: 'keychain_unavailable',
  4504: 'network_unavailable',
  4601: 'no_wallet',
  5000: 'internal',
});

const DEFAULT_MESSAGES = {
  4001: 'The request was rejected in Lit Companion.',
  4100: 'Lit Companion could not verify who is asking.',
  4200: 'Lit Companion does not support this request.',
  4900: 'Lit Companion is not available. Start Lit Companion and try again.',
  4400: 'The request is invalid.',
  4408: 'The request was not answered in time.',
  4413: 'The request is too large.',
  4429: 'Too many requests; try again later.',
  4503: 'The system keychain is unavailable.',
  4504: 'The Lit nodes could not be reached.',
  4601: 'There is no wallet in Lit Companion yet.',
  5000: 'Lit Companion gave an unexpected answer.',
};

const NOT_RUNNING =
  'Lit Companion is not running (or cannot be reached). Start Lit Companion and try again.';

export class CompanionError extends Error {
  /**
   * @param {number} code a protocol error code (see ErrorCodes)
   * @param {string} [message]
   * @param {{ name?: string, cause?: unknown }} [options]
   */
  constructor(code, message, options = {}) {
    super(
      message || DEFAULT_MESSAGES[code] || 'Lit Companion error.',
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.name = ErrorNames[code] || options.name || 'internal';
  }
}

/** Thrown by a transport that cannot be used here (nothing was sent): try the next one. */
class Unavailable extends Error {}

const badRequest = (message) => new CompanionError(4400, message);
const internal = (message, cause) => new CompanionError(5000, message, { cause });

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const isEip1193 = (p) => !!p && (typeof p === 'object' || typeof p === 'function') && typeof p.request === 'function';
const nonEmptyString = (v) => typeof v === 'string' && v.length > 0;

// ---------------------------------------------------------------------------------------------
// Validation

const PARAM_KEYS = [
  'network',
  'resourceAbilityRequests',
  'nodeUrls',
  'expiration',
  'capabilityAuthSigs',
  'statement',
  'maxPrice',
  'wallet',
  'pkpPublicKey',
  'litActionIpfsId',
  'litActionCode',
  'jsParams',
];
/** A PKP's public key: uncompressed (0x04 + 128 hex) or compressed (0x02/0x03 + 64 hex). */
const PKP_PUBLIC_KEY = /^(0x)?(04[0-9a-fA-F]{128}|0[23][0-9a-fA-F]{64})$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** `wallet: 'browser'`: the page's own EIP-1193 wallet signs (docs/bridge-protocol.md, externalWallet). */
const BROWSER_WALLET = 'browser';
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const MAX_UINT256 = (1n << 256n) - 1n;

/** Checks getSessionSigs params and returns the JSON-ready copy that goes on the wire. */
function normalizeSessionParams(params) {
  if (!isObject(params)) throw badRequest('params must be an object.');
  for (const key of Object.keys(params)) {
    if (!PARAM_KEYS.includes(key)) {
      throw badRequest(`Unknown param "${key}"; expected one of ${PARAM_KEYS.join(', ')}.`);
    }
  }
  const p = {};
  for (const key of PARAM_KEYS) if (params[key] !== undefined) p[key] = params[key];
  const out = {};

  if (typeof p.network !== 'string' || !NETWORK_NAME.test(p.network)) {
    throw badRequest(`network must be a network name: one of ${NETWORKS.join(', ')} or one added in Lit Companion.`);
  }
  out.network = p.network;

  const requests = p.resourceAbilityRequests;
  if (!Array.isArray(requests) || requests.length === 0) {
    throw badRequest('resourceAbilityRequests must be a non-empty array.');
  }
  out.resourceAbilityRequests = requests.map((r, i) => {
    const res = r && typeof r === 'object' ? r.resource : undefined;
    // The SDK's resources are class instances (LitPKPResource, …): read the two fields by name.
    if (
      !res ||
      typeof res !== 'object' ||
      !nonEmptyString(res.resource) ||
      !nonEmptyString(res.resourcePrefix) ||
      !res.resourcePrefix.startsWith('lit-') ||
      !nonEmptyString(r.ability)
    ) {
      throw badRequest(
        `resourceAbilityRequests[${i}] must look like ` +
          '{ resource: { resource: "…", resourcePrefix: "lit-…" }, ability: "…" }.',
      );
    }
    return {
      resource: { resource: res.resource, resourcePrefix: res.resourcePrefix },
      ability: r.ability,
    };
  });

  if (p.nodeUrls !== undefined) {
    if (!Array.isArray(p.nodeUrls) || p.nodeUrls.length === 0) {
      throw badRequest('nodeUrls must be a non-empty array of URLs (or be left out).');
    }
    for (const u of p.nodeUrls) {
      let ok = false;
      try {
        const url = typeof u === 'string' ? new URL(u) : null;
        ok = !!url && (url.protocol === 'https:' || url.protocol === 'http:');
      } catch {
        ok = false;
      }
      if (!ok) throw badRequest(`nodeUrls: ${JSON.stringify(u)} is not an http(s) URL.`);
    }
    out.nodeUrls = [...p.nodeUrls];
  }

  if (p.expiration !== undefined) {
    let ms;
    let text;
    if (p.expiration instanceof Date) {
      ms = p.expiration.getTime();
      if (Number.isNaN(ms)) throw badRequest('expiration is an invalid Date.');
    } else if (typeof p.expiration === 'string') {
      ms = RFC3339.test(p.expiration) ? Date.parse(p.expiration) : NaN;
      if (Number.isNaN(ms)) {
        throw badRequest('expiration must be a Date or an RFC 3339 string such as 2030-01-01T00:00:00Z.');
      }
      text = p.expiration;
    } else {
      throw badRequest('expiration must be a Date or an RFC 3339 string.');
    }
    const now = Date.now();
    if (ms <= now) throw badRequest('expiration is in the past.');
    if (ms - now > MAX_LIFETIME_MS) throw badRequest('expiration is more than 30 days away.');
    out.expiration = text ?? new Date(ms).toISOString();
  }

  if (p.capabilityAuthSigs !== undefined) {
    if (!Array.isArray(p.capabilityAuthSigs)) {
      throw badRequest('capabilityAuthSigs must be an array of AuthSigs.');
    }
    p.capabilityAuthSigs.forEach((a, i) => {
      if (
        !isObject(a) ||
        !nonEmptyString(a.sig) ||
        !nonEmptyString(a.derivedVia) ||
        !nonEmptyString(a.signedMessage) ||
        !nonEmptyString(a.address)
      ) {
        throw badRequest(
          `capabilityAuthSigs[${i}] must be an AuthSig { sig, derivedVia, signedMessage, address }.`,
        );
      }
    });
    out.capabilityAuthSigs = p.capabilityAuthSigs;
  }

  if (p.statement !== undefined) {
    if (typeof p.statement !== 'string') throw badRequest('statement must be a string.');
    if (/[\r\n]/.test(p.statement)) {
      throw badRequest('statement must be one line (a SIWE statement cannot contain line breaks).');
    }
    out.statement = p.statement;
  }

  if (p.maxPrice !== undefined) {
    let price = p.maxPrice;
    if (typeof price === 'bigint') price = price >= 0n ? price.toString() : '';
    else if (typeof price === 'number') price = Number.isSafeInteger(price) && price >= 0 ? String(price) : '';
    if (typeof price !== 'string' || !/^[0-9]+$/.test(price) || BigInt(price) > MAX_UINT256) {
      throw badRequest('maxPrice must be a whole number of wei, as a decimal string.');
    }
    out.maxPrice = price;
  }

  if (p.wallet !== undefined) {
    if (p.wallet !== BROWSER_WALLET && (typeof p.wallet !== 'string' || !ADDRESS.test(p.wallet))) {
      throw badRequest(
        "wallet must be an Ethereum address (0x followed by 40 hex digits), or 'browser' for the page's own wallet.",
      );
    }
    out.wallet = p.wallet;
  }

  // A PKP session: the network signs for the PKP, on the word of its wallet or a Lit Action.
  if (p.pkpPublicKey !== undefined) {
    if (typeof p.pkpPublicKey !== 'string' || !PKP_PUBLIC_KEY.test(p.pkpPublicKey)) {
      throw badRequest('pkpPublicKey must be a PKP public key: 0x04 followed by 128 hex digits.');
    }
    if (p.wallet !== undefined) throw badRequest("name either pkpPublicKey or wallet, not both: the PKP's own wallet signs in for it.");
    out.pkpPublicKey = p.pkpPublicKey;
  }
  const action = ['litActionIpfsId', 'litActionCode', 'jsParams'].filter((k) => p[k] !== undefined);
  if (action.length && p.pkpPublicKey === undefined) {
    throw badRequest(`${action.join(', ')} authorize a PKP: name its pkpPublicKey.`);
  }
  if (p.litActionIpfsId !== undefined) {
    if (typeof p.litActionIpfsId !== 'string' || !/^Qm[1-9A-HJ-NP-Za-km-z]{44}$/.test(p.litActionIpfsId)) {
      throw badRequest('litActionIpfsId must be an IPFS CIDv0 (Qm…).');
    }
    out.litActionIpfsId = p.litActionIpfsId;
  }
  if (p.litActionCode !== undefined) {
    if (typeof p.litActionCode !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(p.litActionCode)) {
      throw badRequest("litActionCode must be the Lit Action's code in base64, as the Lit SDK takes it.");
    }
    out.litActionCode = p.litActionCode;
  }
  if (p.jsParams !== undefined) {
    if (!isObject(p.jsParams)) throw badRequest('jsParams must be an object.');
    if (p.litActionIpfsId === undefined && p.litActionCode === undefined) {
      throw badRequest('jsParams go with litActionIpfsId or litActionCode.');
    }
    out.jsParams = p.jsParams;
  }
  return out;
}

const OPTION_KEYS = [
  'transports',
  'port',
  'host',
  'token',
  'timeoutMs',
  'signal',
  'fetch',
  'pollIntervalMs',
  'extensionTimeoutMs',
  'ethereum',
  'walletRdns',
  'walletTimeoutMs',
];
const TRANSPORT_NAMES = ['extension', 'http', 'deeplink'];

function normalizeOptions(options) {
  if (options === undefined || options === null) options = {};
  if (!isObject(options)) throw badRequest('options must be an object.');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw badRequest(`Unknown option "${key}"; expected one of ${OPTION_KEYS.join(', ')}.`);
    }
  }
  const o = {};
  const transports = options.transports ?? DEFAULT_TRANSPORTS;
  if (
    !Array.isArray(transports) ||
    transports.length === 0 ||
    transports.some((t) => !TRANSPORT_NAMES.includes(t)) ||
    new Set(transports).size !== transports.length
  ) {
    throw badRequest(`transports must be a non-empty list of distinct names from ${TRANSPORT_NAMES.join(', ')}.`);
  }
  o.transports = [...transports];

  o.port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) {
    throw badRequest('port must be an integer between 1 and 65535.');
  }
  o.host = options.host ?? DEFAULT_HOST;
  if (typeof o.host !== 'string' || !/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+:[0-9A-Fa-f:.]*|[A-Za-z0-9.-]+)$/.test(o.host)) {
    throw badRequest('host must be a host name or an IP address (e.g. 127.0.0.1).');
  }
  o.token = options.token ?? undefined;
  if (o.token !== undefined && (typeof o.token !== 'string' || !/^[\x21-\x7e]+$/.test(o.token))) {
    throw badRequest('token must be a non-empty string of printable ASCII characters.');
  }
  o.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof o.timeoutMs !== 'number' || !(o.timeoutMs > 0)) {
    throw badRequest('timeoutMs must be a positive number of milliseconds (Infinity for none).');
  }
  o.pollIntervalMs = options.pollIntervalMs ?? 500;
  if (typeof o.pollIntervalMs !== 'number' || !(o.pollIntervalMs >= 0) || !Number.isFinite(o.pollIntervalMs)) {
    throw badRequest('pollIntervalMs must be a non-negative number of milliseconds.');
  }
  o.extensionTimeoutMs = options.extensionTimeoutMs ?? 300;
  if (typeof o.extensionTimeoutMs !== 'number' || !(o.extensionTimeoutMs >= 0) || !Number.isFinite(o.extensionTimeoutMs)) {
    throw badRequest('extensionTimeoutMs must be a non-negative number of milliseconds.');
  }
  o.signal = options.signal ?? undefined;
  if (
    o.signal !== undefined &&
    (typeof o.signal !== 'object' || typeof o.signal.aborted !== 'boolean' || typeof o.signal.addEventListener !== 'function')
  ) {
    throw badRequest('signal must be an AbortSignal.');
  }
  o.fetch = options.fetch ?? undefined;
  if (o.fetch !== undefined && typeof o.fetch !== 'function') throw badRequest('fetch must be a function.');
  o.ethereum = options.ethereum ?? undefined;
  if (o.ethereum !== undefined && !isEip1193(o.ethereum)) {
    throw badRequest('ethereum must be an EIP-1193 provider (an object with request()).');
  }
  o.walletRdns = options.walletRdns ?? undefined;
  if (o.walletRdns !== undefined && !nonEmptyString(o.walletRdns)) {
    throw badRequest('walletRdns must be a wallet\'s EIP-6963 rdns, such as io.metamask.');
  }
  o.walletTimeoutMs = options.walletTimeoutMs ?? 100;
  if (typeof o.walletTimeoutMs !== 'number' || !(o.walletTimeoutMs >= 0) || !Number.isFinite(o.walletTimeoutMs)) {
    throw badRequest('walletTimeoutMs must be a non-negative number of milliseconds.');
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function randomHex(bytes) {
  const c = globalThis.crypto;
  const buf = new Uint8Array(bytes);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(buf);
  else for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

function newId() {
  const c = globalThis.crypto;
  // randomUUID exists only in secure contexts in browsers; fall back to 16 random bytes.
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch {
      /* fall through */
    }
  }
  return randomHex(16);
}

function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

const utf8 = (text) => new TextEncoder().encode(text);

function bytesToBase64Url(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlEncode(text) {
  return bytesToBase64Url(utf8(text));
}

/** base64url (padding optional) → bytes; throws on anything else. */
function base64UrlToBytes(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    throw new Error('not base64url');
  }
  let b64 = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  while (b64.length % 4) b64 += '=';
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort(promise, signal) {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function sleep(ms, signal) {
  if (ms <= 0) return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
  return raceAbort(new Promise((resolve) => setTimeout(resolve, ms)), signal);
}

function formatDuration(ms) {
  if (ms >= 60000 && ms % 60000 === 0) return `${ms / 60000} min`;
  if (ms >= 1000) return `${Math.round(ms / 100) / 10} s`;
  return `${ms} ms`;
}

/** One AbortSignal for a whole call: the caller's signal, or the overall timeout (→ 4408). */
function makeCallContext(opts) {
  const controller = new AbortController();
  const cleanups = [];
  const { signal } = opts;
  if (signal) {
    if (signal.aborted) controller.abort(signal.reason);
    else {
      const onAbort = () => controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
  }
  if (Number.isFinite(opts.timeoutMs) && opts.timeoutMs <= 0x7fffffff && !controller.signal.aborted) {
    const timer = setTimeout(() => {
      controller.abort(
        new CompanionError(4408, `Lit Companion did not answer within ${formatDuration(opts.timeoutMs)}.`),
      );
    }, opts.timeoutMs);
    cleanups.push(() => clearTimeout(timer));
  }
  return {
    signal: controller.signal,
    cleanup() {
      for (const fn of cleanups) fn();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Response envelopes

function errorFromEnvelope(error, cause) {
  const code = Number.isInteger(error.code) ? error.code : 5000;
  const message = nonEmptyString(error.message) ? error.message : undefined;
  return new CompanionError(code, message, {
    name: nonEmptyString(error.name) ? error.name : undefined,
    cause,
  });
}

const isSessionSigsResult = (result) =>
  isObject(result.sessionSigs) &&
  typeof result.wallet === 'string' &&
  typeof result.sessionKey === 'string' &&
  typeof result.expiration === 'string' &&
  typeof result.reused === 'boolean';

/** A `{ signWithWallet: { ticket, address, message, expiresAt } }` step (external wallets). */
const isWalletStep = (result) => {
  const step = isObject(result) ? result.signWithWallet : undefined;
  return (
    isObject(step) &&
    nonEmptyString(step.ticket) &&
    typeof step.address === 'string' &&
    ADDRESS.test(step.address) &&
    nonEmptyString(step.message) &&
    typeof step.expiresAt === 'string'
  );
};

function checkResult(method, result) {
  if (!isObject(result)) return false;
  switch (method) {
    case 'getSessionSigs':
      return isSessionSigsResult(result) || isWalletStep(result);
    case 'walletSignature':
      return isSessionSigsResult(result);
    case 'listGrants':
      return Array.isArray(result.grants);
    case 'disconnect':
      return Number.isInteger(result.revoked) && result.revoked >= 0;
    default:
      return true;
  }
}

/**
 * The result of a response envelope, or throws: its error as a CompanionError, or 5000 for
 * anything that is not a v1 response envelope to this request. Error envelopes may carry a null
 * id (the companion could not read the request's).
 */
function unwrap(response, expected) {
  if (!isObject(response)) throw internal('Lit Companion gave an answer that is not a response envelope.');
  const hasResult = hasOwn(response, 'result');
  const hasError = hasOwn(response, 'error');
  if (hasError && !hasResult && isObject(response.error)) {
    const id = response.id;
    if (id === undefined || id === null || id === '' || expected.id === undefined || id === expected.id) {
      throw errorFromEnvelope(response.error);
    }
  }
  if (response.v !== PROTOCOL_VERSION || hasResult === hasError) {
    throw internal('Lit Companion gave an answer that is not a v1 response envelope.');
  }
  if (expected.id !== undefined && response.id !== expected.id) {
    throw internal('Lit Companion answered a different request (the id does not match).');
  }
  if (expected.method !== undefined && !checkResult(expected.method, response.result)) {
    throw internal(`Lit Companion's answer to ${expected.method} does not have the expected shape.`);
  }
  return response.result;
}

// ---------------------------------------------------------------------------------------------
// Transport: the browser extension

function readProvider(candidate) {
  if (!candidate || (typeof candidate !== 'object' && typeof candidate !== 'function')) return null;
  let found = null;
  if (candidate.provider && typeof candidate.provider.request === 'function') {
    found = { info: candidate.info ?? null, provider: candidate.provider };
  } else if (typeof candidate.request === 'function') {
    found = { info: candidate.info ?? null, provider: candidate };
  }
  if (!found) return null;
  const protocols = found.info && found.info.protocol;
  if (Array.isArray(protocols) && !protocols.includes(PROTOCOL_VERSION)) return null;
  return found;
}

/**
 * Finds the Lit Companion browser extension: `window.litCompanion` if it is there, else announce
 * discovery (dispatch `litCompanion:requestProvider`, wait for a `litCompanion:announceProvider`
 * CustomEvent). Resolves `{ info, provider }`, or null outside a browser or when nothing answers
 * within `timeoutMs`.
 */
export function detectExtension(timeoutMs = 300) {
  const w = globalThis.window;
  if (!w || (typeof w !== 'object' && typeof w !== 'function')) return Promise.resolve(null);
  const injected = readProvider(w.litCompanion);
  if (injected) return Promise.resolve(injected);
  if (typeof w.addEventListener !== 'function' || typeof w.dispatchEvent !== 'function') {
    return Promise.resolve(null);
  }
  const wait = typeof timeoutMs === 'number' && timeoutMs >= 0 && Number.isFinite(timeoutMs) ? timeoutMs : 300;
  return new Promise((resolve) => {
    let timer;
    const onAnnounce = (event) => {
      const found = readProvider(event && event.detail);
      if (!found) return;
      finish(found);
    };
    const finish = (value) => {
      clearTimeout(timer);
      w.removeEventListener('litCompanion:announceProvider', onAnnounce);
      resolve(value);
    };
    w.addEventListener('litCompanion:announceProvider', onAnnounce);
    timer = setTimeout(() => finish(null), wait);
    try {
      w.dispatchEvent(new Event('litCompanion:requestProvider'));
    } catch {
      /* a broken dispatch is the same as no extension */
    }
  });
}

async function extensionTransport(call, ctx) {
  const found = await raceAbort(detectExtension(call.opts.extensionTimeoutMs), ctx.signal);
  if (!found) throw new Unavailable('no Lit Companion browser extension');
  try {
    // The provider gets its own copy of exactly what would go on the wire.
    const request = JSON.parse(call.body);
    return await raceAbort(
      Promise.resolve().then(() => found.provider.request(request)),
      ctx.signal,
    );
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (e instanceof CompanionError) throw e;
    if (e && Number.isInteger(e.code)) throw errorFromEnvelope(e, e);
    throw internal('The Lit Companion extension failed to answer.', e);
  }
}

// ---------------------------------------------------------------------------------------------
// Transport: loopback HTTP

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCodes(error, depth = 0) {
  if (!error || typeof error !== 'object' || depth > 4) return [];
  const codes = [];
  if (typeof error.code === 'string') codes.push(error.code);
  if (Array.isArray(error.errors)) for (const e of error.errors) codes.push(...errorCodes(e, depth + 1));
  if (error.cause) codes.push(...errorCodes(error.cause, depth + 1));
  return codes;
}

/**
 * Whether a fetch failure means that nothing is listening (so nothing was delivered). Node names
 * the cause (ECONNREFUSED …); browsers only say TypeError, which on a loopback address almost
 * always means the same.
 */
function isUnreachable(error) {
  const codes = errorCodes(error);
  if (codes.length > 0) return codes.some((c) => UNREACHABLE_CODES.has(c));
  return error instanceof TypeError;
}

async function readHttpAnswer(res, ctx, base) {
  let text;
  try {
    text = await raceAbort(Promise.resolve().then(() => res.text()), ctx.signal);
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw new CompanionError(4900, 'The connection to Lit Companion broke off.', { cause: e });
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw internal(
      `Unexpected answer from ${base} (HTTP ${res.status}, not JSON): is another program using this port?`,
      e,
    );
  }
  return { status: res.status, json };
}

async function httpTransport(call, ctx) {
  const { opts } = call;
  const fetchFn = opts.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== 'function') throw new Unavailable('no fetch in this environment');
  const host = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
  const base = `http://${host}:${opts.port}`;
  // No Origin header here: the browser sets it and Node has none (hence the pairing token).
  const headers = { accept: 'application/json' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  // redirect 'manual': the companion never redirects, so a 3xx is an unexpected answer (5000).
  // ('error' would also do, but Node 20's fetch then fails to resend the body when it retries
  // after a 421, which the companion uses for a wrong Host.)
  const init = { credentials: 'omit', redirect: 'manual', signal: ctx.signal };

  let res;
  try {
    res = await fetchFn.call(globalThis, `${base}/v1/request`, {
      ...init,
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: call.body,
    });
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (isUnreachable(e)) throw new Unavailable(`nothing answers at ${base}`, { cause: e });
    throw new CompanionError(4900, `The connection to Lit Companion at ${base} broke off.`, { cause: e });
  }
  let answer = await readHttpAnswer(res, ctx, base);
  let ticket;
  let lastAsked = Date.now();
  for (;;) {
    const { status, json } = answer;
    if (status !== 202) {
      if (status === 200 || (isObject(json) && isObject(json.error))) return json;
      throw internal(`Unexpected answer from ${base} (HTTP ${status}).`);
    }
    if (isObject(json) && nonEmptyString(json.pending)) ticket = json.pending;
    if (ticket === undefined) throw internal(`Lit Companion answered 202 without a pending ticket.`);

    // Long-poll: the companion holds each poll up to 25 s. Never ask more often than pollIntervalMs.
    await sleep(lastAsked + opts.pollIntervalMs - Date.now(), ctx.signal);
    lastAsked = Date.now();
    try {
      res = await fetchFn.call(globalThis, `${base}/v1/pending/${encodeURIComponent(ticket)}`, {
        ...init,
        method: 'GET',
        headers,
      });
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw new CompanionError(
        4900,
        'Lit Companion went away while waiting for your approval. Start Lit Companion and try again.',
        { cause: e },
      );
    }
    answer = await readHttpAnswer(res, ctx, base);
  }
}

// ---------------------------------------------------------------------------------------------
// Sealed answers: HPKE (RFC 9180) open with WebCrypto only

// The companion seals each deep-link answer to the page's ephemeral X25519 key with HPKE
// single-shot, base mode (RFC 9180 §6.1), suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
// AES-128-GCM (kem_id 0x0020, kdf_id 0x0001, aead_id 0x0001; §7), info = SEAL_INFO and
// aad = the link's nonce. The fragment carries base64url(enc ‖ ciphertext).
const SEAL_INFO = 'lit-companion deep link v1';
const N_ENC = 32; // Nenc of DHKEM(X25519, HKDF-SHA256): a raw X25519 public key (§7.1)
const N_SECRET = 32; // Nsecret of the same KEM
const N_K = 16; // AES-128-GCM key (§7.3)
const N_N = 12; // its nonce
const N_T = 16; // its tag
const MODE_BASE = 0x00; // §5
const EMPTY = new Uint8Array(0);
const HPKE_V1 = utf8('HPKE-v1');
// suite_id = "KEM" ‖ I2OSP(kem_id, 2) inside the KEM (§4.1) …
const KEM_SUITE_ID = concatBytes(utf8('KEM'), [0x00, 0x20]);
// … and "HPKE" ‖ I2OSP(kem_id, 2) ‖ I2OSP(kdf_id, 2) ‖ I2OSP(aead_id, 2) in the key schedule (§5.1).
const HPKE_SUITE_ID = concatBytes(utf8('HPKE'), [0x00, 0x20, 0x00, 0x01, 0x00, 0x01]);

function subtleCrypto() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) {
    throw new CompanionError(
      4200,
      'Deep links need WebCrypto (crypto.subtle), which browsers offer only in secure contexts (https, or http://localhost).',
    );
  }
  return s;
}

/** HMAC-SHA256. An empty key is HashLen zero bytes (RFC 2104 pads keys with zeros to the block
 * size; RFC 5869 §2.2 names that string as the default salt): WebCrypto refuses empty HMAC keys. */
async function hmacSha256(key, data) {
  const s = subtleCrypto();
  const k = await s.importKey('raw', key.length === 0 ? new Uint8Array(32) : key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await s.sign('HMAC', k, data));
}

/** LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm) (RFC 9180 §4). */
function labeledExtract(suiteId, salt, label, ikm) {
  return hmacSha256(salt, concatBytes(HPKE_V1, suiteId, utf8(label), ikm));
}

/**
 * LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label
 * ‖ info, L) (RFC 9180 §4). Every L here is at most 32, SHA-256's length, so HKDF-Expand is its
 * first block: T(1) = HMAC(prk, info' ‖ 0x01) (RFC 5869 §2.3).
 */
async function labeledExpand(suiteId, prk, label, info, length) {
  const labeledInfo = concatBytes([length >> 8, length & 0xff], HPKE_V1, suiteId, utf8(label), info);
  return (await hmacSha256(prk, concatBytes(labeledInfo, [0x01]))).slice(0, length);
}

/**
 * RFC 9180 single-shot open (§6.1) in base mode for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
 * AES-128-GCM: `sealed` is enc ‖ ciphertext, `recipientKey` the X25519 private key as a JWK (with
 * its public `x`). Resolves the plaintext; rejects (plain Error) when it does not open.
 */
async function hpkeOpenBase(recipientKey, sealed, info, aad) {
  const s = subtleCrypto();
  const enc = sealed.subarray(0, N_ENC);
  const ciphertext = sealed.subarray(N_ENC);
  const pkR = base64UrlToBytes(recipientKey.x);
  if (pkR.length !== N_ENC) throw new Error('the key has no 32-byte public part');
  const skR = await s.importKey('jwk', recipientKey, { name: 'X25519' }, false, ['deriveBits']);

  // Decap (§4.1): dh = DH(skR, DeserializePublicKey(enc)); kem_context = enc ‖ pkRm.
  const pkE = await s.importKey('raw', enc, { name: 'X25519' }, false, []);
  const dh = new Uint8Array(await s.deriveBits({ name: 'X25519', public: pkE }, skR, 256));
  // §7.1.4: an all-zero X25519 output (a low-order enc) must be refused.
  if (dh.every((b) => b === 0)) throw new Error('low-order enc');
  // ExtractAndExpand (§4.1).
  const eaePrk = await labeledExtract(KEM_SUITE_ID, EMPTY, 'eae_prk', dh);
  const sharedSecret = await labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', concatBytes(enc, pkR), N_SECRET);

  // KeySchedule (§5.1) in mode_base: psk and psk_id are empty.
  const pskIdHash = await labeledExtract(HPKE_SUITE_ID, EMPTY, 'psk_id_hash', EMPTY);
  const infoHash = await labeledExtract(HPKE_SUITE_ID, EMPTY, 'info_hash', info);
  const context = concatBytes([MODE_BASE], pskIdHash, infoHash);
  const secret = await labeledExtract(HPKE_SUITE_ID, sharedSecret, 'secret', EMPTY);
  const key = await labeledExpand(HPKE_SUITE_ID, secret, 'key', context, N_K);
  const baseNonce = await labeledExpand(HPKE_SUITE_ID, secret, 'base_nonce', context, N_N);

  // Open (§5.2): the only message has sequence number 0, so its nonce is base_nonce itself.
  const aead = await s.importKey('raw', key, { name: 'AES-GCM' }, false, ['decrypt']);
  return new Uint8Array(
    await s.decrypt({ name: 'AES-GCM', iv: baseNonce, additionalData: aad, tagLength: N_T * 8 }, aead, ciphertext),
  );
}

const isX25519PrivateJwk = (k) =>
  isObject(k) && k.kty === 'OKP' && k.crv === 'X25519' && nonEmptyString(k.d) && nonEmptyString(k.x);

/**
 * RFC 9180 single-shot open, base mode, for the suite the companion seals with (exported for
 * known-answer tests). `sealed` = enc ‖ ciphertext. Rejects with CompanionError 4400 when it does
 * not open with this key, info and aad.
 */
export async function hpkeOpen(privateKeyJwk, sealed, info, aad) {
  if (!isX25519PrivateJwk(privateKeyJwk)) throw badRequest('privateKeyJwk must be an X25519 private key (JWK with d and x).');
  if (!(sealed instanceof Uint8Array) || !(info instanceof Uint8Array) || !(aad instanceof Uint8Array)) {
    throw badRequest('sealed, info and aad must be Uint8Arrays.');
  }
  if (sealed.length < N_ENC + N_T) throw badRequest('sealed is shorter than enc and a tag.');
  subtleCrypto();
  try {
    return await hpkeOpenBase(privateKeyJwk, sealed, info, aad);
  } catch (e) {
    throw new CompanionError(
      4400,
      'The Lit Companion answer does not open with this page\'s key and nonce: it answers another request, or it was altered.',
      { cause: e },
    );
  }
}

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

/** The fragment's value → enc ‖ ciphertext, or 5000 when it cannot be one. */
function decodeSealed(value) {
  let bytes;
  try {
    bytes = base64UrlToBytes(decodeURIComponent(String(value)));
  } catch (e) {
    throw internal('The answer in the page address (#litCompanion=…) is malformed.', e);
  }
  if (bytes.length < N_ENC + N_T) throw internal('The answer in the page address (#litCompanion=…) is too short.');
  return bytes;
}

async function openSealed(key, nonce, sealed) {
  const plain = await hpkeOpen(key, sealed, utf8(SEAL_INFO), utf8(nonce));
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
  } catch (e) {
    throw internal('The sealed Lit Companion answer is not a JSON response envelope.', e);
  }
}

/**
 * Opens a sealed deep-link answer: the value of `#litCompanion=…`, with the private key (JWK)
 * and nonce `buildDeepLink` returned. Resolves the response envelope (`{ v, id, result }` or
 * `{ v, id, error }`, not unwrapped). Rejects with CompanionError 5000 when the value is malformed
 * or does not hold JSON, 4400 when it does not open with this key and nonce.
 */
export async function openSealedAnswer(privateKeyJwk, nonce, fragmentValue) {
  if (!isX25519PrivateJwk(privateKeyJwk)) {
    throw badRequest('privateKeyJwk must be the X25519 private key (JWK) that buildDeepLink returned.');
  }
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) throw badRequest("nonce must be the link's nonce.");
  return openSealed(privateKeyJwk, nonce, decodeSealed(fragmentValue));
}

// ---------------------------------------------------------------------------------------------
// Transport: lit-companion:// deep links (browser pages only)

const DEEPLINK_STORE = 'litCompanion:deeplink';
const DEEPLINK_CHANNEL = 'litCompanion:deeplink';
const DEEPLINK_PARAM = 'litCompanion';
/** How long a link stays valid: the most the companion accepts (10 minutes). */
const DEEPLINK_VALIDITY_S = 600;
const DEFAULT_FORWARD_TIMEOUT_MS = 2000;

// The pending requests' keys live in sessionStorage: per tab, gone with it, never shared with
// other tabs (as localStorage would be), and kept across a reload of the tab that asked.
function sessionStore(w) {
  try {
    const s = w && w.sessionStorage;
    return s && typeof s.getItem === 'function' ? s : null;
  } catch {
    return null; // storage disabled: reading it throws a SecurityError
  }
}

const isRecord = (r) =>
  isObject(r) && nonEmptyString(r.method) && typeof r.nonce === 'string' && NONCE.test(r.nonce) &&
  Number.isFinite(r.exp) && isX25519PrivateJwk(r.key);

/** This tab's pending deep links by request id, without lapsed or unreadable ones. */
function loadRecords(s) {
  let records;
  try {
    records = JSON.parse(s.getItem(DEEPLINK_STORE) || '{}');
  } catch {
    records = {};
  }
  if (!isObject(records)) records = {};
  const now = Date.now() / 1000;
  for (const [id, r] of Object.entries(records)) if (!isRecord(r) || r.exp <= now) delete records[id];
  return records;
}

function saveRecords(s, records) {
  try {
    if (Object.keys(records).length === 0) s.removeItem(DEEPLINK_STORE);
    else s.setItem(DEEPLINK_STORE, JSON.stringify(records));
  } catch {
    /* storage full or disabled */
  }
}

function rememberDeepLink(w, id, record) {
  const s = sessionStore(w);
  if (!s) return;
  const records = loadRecords(s);
  records[id] = record;
  saveRecords(s, records);
}

function forgetDeepLink(w, id) {
  const s = sessionStore(w);
  if (!s) return;
  const records = loadRecords(s);
  delete records[id];
  saveRecords(s, records);
}

/** The `litCompanion=…` part of the page's fragment, and the fragment without it. */
function splitFragment(hash) {
  const parts = (hash || '').replace(/^#/, '').split('&');
  const index = parts.findIndex((part) => part.startsWith(`${DEEPLINK_PARAM}=`));
  if (index < 0) return null;
  const value = parts[index].slice(DEEPLINK_PARAM.length + 1);
  parts.splice(index, 1);
  return { value, rest: parts.filter((p) => p !== '').join('&') };
}

function clearFragment(w, rest) {
  const loc = w.location;
  const h = w.history;
  if (h && typeof h.replaceState === 'function') {
    try {
      h.replaceState(h.state, '', `${loc.pathname || ''}${loc.search || ''}${rest ? `#${rest}` : ''}`);
      return;
    } catch {
      /* fall back to assigning the hash */
    }
  }
  try {
    loc.hash = rest;
  } catch {
    /* nothing more to do */
  }
}

/** This document's pending deep-link requests, by id: `{ id, method, nonce, key, take(envelope) }`. */
const waiters = new Map();

/**
 * The first candidate whose key and nonce open `sealed`: `{ candidate, envelope }`, or null.
 * Candidates are tried in turn (an AES-GCM tag tells a wrong key at once).
 */
async function openWithAny(candidates, sealed) {
  for (const candidate of candidates) {
    try {
      return { candidate, envelope: await openSealed(candidate.key, candidate.nonce, sealed) };
    } catch (e) {
      if (e instanceof CompanionError && e.code === 4400) continue;
      throw e;
    }
  }
  return null;
}

/**
 * Offers a sealed answer this tab cannot open to the other tabs of this origin: the one whose
 * request it answers takes it and says so. Resolves whether one did within `timeoutMs`.
 */
function forwardToOtherTabs(value, timeoutMs) {
  const Channel = globalThis.BroadcastChannel;
  if (typeof Channel !== 'function') return Promise.resolve(false);
  return new Promise((resolve) => {
    const channel = new Channel(DEEPLINK_CHANNEL);
    const ref = newId();
    const finish = (taken) => {
      clearTimeout(timer);
      channel.close();
      resolve(taken);
    };
    channel.onmessage = (event) => {
      const m = event && event.data;
      if (isObject(m) && m.type === 'taken' && m.ref === ref) finish(true);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    channel.postMessage({ type: 'answer', sealed: value, ref });
  });
}

const READ_OPTION_KEYS = ['forwardTimeoutMs'];

/**
 * Reads the answer a `lit-companion://` deep link brought back in the page address
 * (`#litCompanion=<sealed answer>`) and removes it from the address bar. Call it once when the
 * page loads. Resolves:
 * - null when the address carries no answer (or outside a browser);
 * - the result (e.g. `{ sessionSigs, … }`) when this tab asked: it holds the key that opens the
 *   answer (a pending `requestSessionSigs` of this document settles too);
 * - `{ forwarded: true }` when another tab of this origin asked (the OS opened the answer in a new
 *   tab): the answer went to that tab over a BroadcastChannel and its promise settled there.
 * Rejects with the CompanionError of an error answer; 5000 for a malformed answer; 4400 for one
 * that no tab of this origin can open (its tab was closed, or it was not made in this browser).
 */
export async function readDeepLinkResult(options = {}) {
  if (options === null || options === undefined) options = {};
  if (!isObject(options)) throw badRequest('options must be an object.');
  for (const key of Object.keys(options)) {
    if (key === 'allowUnsolicited') {
      throw badRequest(
        'allowUnsolicited is gone: answers are sealed to the key of the tab that asked, so nothing else can be read.',
      );
    }
    if (!READ_OPTION_KEYS.includes(key)) {
      throw badRequest(`Unknown option "${key}"; expected one of ${READ_OPTION_KEYS.join(', ')}.`);
    }
  }
  const forwardTimeoutMs = options.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
  if (typeof forwardTimeoutMs !== 'number' || !(forwardTimeoutMs >= 0) || !Number.isFinite(forwardTimeoutMs)) {
    throw badRequest('forwardTimeoutMs must be a non-negative number of milliseconds.');
  }

  const w = globalThis.window;
  if (!w || !w.location) return null;
  const part = splitFragment(w.location.hash);
  if (!part) return null;
  clearFragment(w, part.rest);
  const sealed = decodeSealed(part.value);

  const s = sessionStore(w);
  const stored = s ? Object.entries(loadRecords(s)).map(([id, r]) => ({ id, ...r })) : [];
  const candidates = [...waiters.values(), ...stored.filter((r) => !waiters.has(r.id))];
  const found = await openWithAny(candidates, sealed);
  if (found) {
    const { candidate, envelope } = found;
    forgetDeepLink(w, candidate.id);
    const waiter = waiters.get(candidate.id);
    if (waiter) waiter.take(envelope);
    const result = unwrap(envelope, { id: candidate.id, method: candidate.method });
    if (isWalletStep(result)) throw new CompanionError(4200, NO_DEEPLINK_WALLET);
    return result;
  }
  if (await forwardToOtherTabs(part.value, forwardTimeoutMs)) return { forwarded: true };
  throw badRequest(
    'The page address carried a Lit Companion answer that no tab of this site can open: the tab that asked was ' +
      'closed or reloaded, or the request was not made in this browser.',
  );
}

/**
 * Builds the `lit-companion://session?…` link for a request envelope (exported for tests and
 * custom UIs): makes an ephemeral X25519 key pair, puts its public key in `pk`, and keeps the
 * private key with the request's id, method and nonce in this tab's sessionStorage until the
 * answer is read or the link lapses (10 minutes). Resolves `{ url, nonce, key }`; `key` is the
 * private key (JWK) for `openSealedAnswer`.
 */
export async function buildDeepLink(envelope, location = globalThis.window && globalThis.window.location) {
  if (!location) throw new CompanionError(4200, 'Deep links need a browser page.');
  const body = typeof envelope === 'string' ? envelope : JSON.stringify(envelope);
  let request;
  try {
    request = JSON.parse(body);
  } catch {
    request = null;
  }
  if (!isObject(request) || !nonEmptyString(request.id) || !nonEmptyString(request.method)) {
    throw badRequest('envelope must be a request envelope { v: 1, id, method, params }.');
  }
  const s = subtleCrypto();
  let pair;
  try {
    pair = await s.generateKey({ name: 'X25519' }, true, ['deriveBits']);
  } catch (e) {
    throw new CompanionError(4200, 'This browser cannot make an X25519 key (WebCrypto), which deep links need.', {
      cause: e,
    });
  }
  const pk = new Uint8Array(await s.exportKey('raw', pair.publicKey));
  const key = await s.exportKey('jwk', pair.privateKey);
  const nonce = randomHex(16);
  const exp = Math.floor(Date.now() / 1000) + DEEPLINK_VALIDITY_S;
  const query = new URLSearchParams({
    req: base64UrlEncode(body),
    origin: String(location.origin),
    callback: String(location.href).split('#')[0],
    nonce,
    exp: String(exp),
    pk: bytesToBase64Url(pk),
  });
  rememberDeepLink(globalThis.window, request.id, { method: request.method, nonce, exp, key });
  return { url: `lit-companion://session?${query}`, nonce, key };
}

async function deeplinkTransport(call, ctx) {
  const w = globalThis.window;
  if (call.method !== 'getSessionSigs') throw new Unavailable('deep links carry only getSessionSigs');
  if (call.browserWallet) throw new CompanionError(4200, NO_DEEPLINK_WALLET);
  if (!w || !w.location || typeof w.location.assign !== 'function') {
    throw new Unavailable('deep links need a browser page');
  }
  let link;
  try {
    link = await raceAbort(buildDeepLink(call.body, w.location), ctx.signal);
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (e instanceof CompanionError && e.code === 4200) throw new Unavailable(e.message, { cause: e });
    throw e;
  }
  // The answer comes back to this document (only the fragment changes: hashchange), or to
  // another tab of this origin that forwards it (readDeepLinkResult → BroadcastChannel), or in a
  // reload of this tab, where readDeepLinkResult opens it with the key kept in sessionStorage.
  return new Promise((resolve, reject) => {
    const canListen = typeof w.addEventListener === 'function';
    const Channel = globalThis.BroadcastChannel;
    const channel = typeof Channel === 'function' ? new Channel(DEEPLINK_CHANNEL) : null;
    const waiter = {
      id: call.id,
      method: call.method,
      nonce: link.nonce,
      key: link.key,
      take(envelope) {
        done();
        forgetDeepLink(w, call.id);
        resolve(envelope);
      },
    };
    const done = () => {
      if (waiters.get(call.id) === waiter) waiters.delete(call.id);
      if (canListen) w.removeEventListener('hashchange', onHashChange);
      if (channel) channel.close();
      ctx.signal.removeEventListener('abort', onAbort);
    };
    // Only what this request's key opens is taken here; anything else stays in the address for
    // readDeepLinkResult (another request of this tab, or a malformed answer it reports).
    const open = async (value) => {
      if (waiters.get(call.id) !== waiter) return null;
      let sealed;
      try {
        sealed = decodeSealed(value);
      } catch {
        return null;
      }
      try {
        const found = await openWithAny([waiter], sealed);
        return found && waiters.get(call.id) === waiter ? found.envelope : null;
      } catch (e) {
        done(); // it opened with our key but holds no JSON
        forgetDeepLink(w, call.id);
        reject(e);
        return null;
      }
    };
    const onHashChange = async () => {
      const part = splitFragment(w.location.hash);
      if (!part) return;
      const envelope = await open(part.value);
      if (!envelope) return;
      const now = splitFragment(w.location.hash);
      if (now && now.value === part.value) clearFragment(w, now.rest);
      waiter.take(envelope);
    };
    const onMessage = async (event) => {
      const m = event && event.data;
      if (!isObject(m) || m.type !== 'answer' || typeof m.sealed !== 'string' || typeof m.ref !== 'string') return;
      const envelope = await open(m.sealed);
      if (!envelope) return;
      channel.postMessage({ type: 'taken', ref: m.ref }); // before take() closes the channel
      waiter.take(envelope);
    };
    const onAbort = () => {
      done();
      reject(ctx.signal.reason);
    };
    waiters.set(call.id, waiter);
    if (canListen) w.addEventListener('hashchange', onHashChange);
    if (channel) channel.onmessage = onMessage;
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      w.location.assign(link.url);
    } catch (e) {
      done();
      forgetDeepLink(w, call.id);
      reject(new CompanionError(4900, `Could not open Lit Companion (${link.url.slice(0, 24)}…).`, { cause: e }));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The page's own wallet: EIP-1193 providers, found through EIP-6963 or at window.ethereum

const WALLET_NAME = 'Browser wallet';
const NO_DEEPLINK_WALLET =
  'A browser wallet can sign only through the Lit Companion extension: a lit-companion:// link cannot ' +
  'reach it. Install the extension.';
/**
 * Over loopback HTTP a page cannot tell Lit Companion from another program holding its port, so
 * the page's wallet is never asked to sign anything that comes that way; only the extension (which
 * the browser starts, and which checks who serves its socket) carries a browser wallet's step, and
 * its in-page script checks the text before the wallet sees it.
 */
const EXTENSION_ONLY_WALLET =
  'A browser wallet signs only through the Lit Companion extension: over the local connection a page ' +
  'cannot tell Lit Companion from another program holding its port. Install the extension, or use a ' +
  'wallet kept in Lit Companion.';
const STEP_REFUSED =
  "An answer asked this page's wallet to sign, and only the Lit Companion extension's in-page script " +
  'takes such steps (after checking the text): refused, and the wallet was asked nothing.';

/**
 * The EIP-6963 wallets of this page, in the order they announce themselves: dispatches
 * `eip6963:requestProvider` and collects `eip6963:announceProvider` details for `waitMs`
 * (wallets answer at once; one announcing twice counts once).
 */
function announcedWallets(waitMs) {
  const w = globalThis.window;
  if (!w || typeof w.addEventListener !== 'function' || typeof w.dispatchEvent !== 'function') {
    return Promise.resolve([]);
  }
  const found = [];
  const onAnnounce = (event) => {
    const d = event && event.detail;
    if (!isObject(d) || !isEip1193(d.provider)) return;
    const info = isObject(d.info) ? d.info : {};
    if (found.some((f) => f.provider === d.provider || (nonEmptyString(info.uuid) && f.info.uuid === info.uuid))) return;
    found.push({ info, provider: d.provider });
  };
  w.addEventListener('eip6963:announceProvider', onAnnounce);
  try {
    w.dispatchEvent(new Event('eip6963:requestProvider'));
  } catch {
    /* no announcements, then */
  }
  return new Promise((resolve) =>
    setTimeout(() => {
      w.removeEventListener('eip6963:announceProvider', onAnnounce);
      resolve(found);
    }, waitMs),
  );
}

/** `window.ethereum` as a candidate, or null. */
function injectedWallet() {
  const w = globalThis.window;
  const eth = w && w.ethereum;
  return isEip1193(eth) ? { info: {}, provider: eth } : null;
}

/** A wallet's name for the companion's lists and prompt: at most 64 printable characters. */
function walletName(info) {
  const name = isObject(info) && typeof info.name === 'string' ? info.name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '') : '';
  return [...name.trim()].slice(0, 64).join('') || WALLET_NAME;
}

/** The candidates in the order they are tried: the explicit provider alone, else `walletRdns` first. */
async function walletCandidates(opts) {
  if (opts.ethereum) return [{ info: {}, provider: opts.ethereum }];
  const announced = await announcedWallets(opts.walletTimeoutMs);
  const preferred = announced.filter((c) => c.info.rdns === opts.walletRdns);
  return [...preferred, ...announced.filter((c) => !preferred.includes(c))];
}

function noBrowserWallet(detail) {
  return new CompanionError(
    4601,
    `No browser wallet ${detail}: install one (MetaMask, Rabby, …) or use a wallet kept in Lit Companion.`,
  );
}

/** A wallet's error → CompanionError: its refusal (4001) stays 4001. */
function walletFailure(e, doing) {
  if (e instanceof CompanionError) return e;
  if (e && e.code === 4001) return new CompanionError(4001, `You declined ${doing} in your browser wallet.`, { cause: e });
  const why = e && nonEmptyString(e.message) ? `: ${e.message}` : '';
  return internal(`Your browser wallet failed ${doing}${why}`, e);
}

/**
 * `wallet: 'browser'`: the page's wallet (the explicit `ethereum` option, else the EIP-6963 one
 * named by `walletRdns` or the first announced, else `window.ethereum`) is asked for its account
 * (`eth_requestAccounts`, which may show the wallet's connect prompt). Resolves the
 * `externalWallet` param `{ address, name }`.
 */
async function connectBrowserWallet(opts) {
  const candidates = await walletCandidates(opts);
  if (opts.walletRdns && !opts.ethereum && (candidates.length === 0 || candidates[0].info.rdns !== opts.walletRdns)) {
    throw noBrowserWallet(`named ${opts.walletRdns} announces itself in this page (EIP-6963)`);
  }
  const chosen = candidates[0] || injectedWallet();
  if (!chosen) throw noBrowserWallet('was found in this page (no EIP-6963 wallet, no window.ethereum)');
  let accounts;
  try {
    accounts = await chosen.provider.request({ method: 'eth_requestAccounts' });
  } catch (e) {
    throw walletFailure(e, 'to connect');
  }
  const address = Array.isArray(accounts) ? accounts[0] : undefined;
  if (typeof address !== 'string' || !ADDRESS.test(address)) {
    throw internal('Your browser wallet gave no Ethereum account (eth_requestAccounts).');
  }
  return { address, name: walletName(chosen.info) };
}


// ---------------------------------------------------------------------------------------------
// Calls

const TRANSPORTS = { extension: extensionTransport, http: httpTransport, deeplink: deeplinkTransport };

/** One request: its envelope's id, method and JSON body (checked against the size limit). */
function makeCall(method, params, opts) {
  const id = newId();
  const envelope = { v: PROTOCOL_VERSION, id, method };
  if (params !== undefined) envelope.params = params;
  const body = JSON.stringify(envelope);
  if (utf8Length(body) > MAX_REQUEST_BYTES) {
    throw new CompanionError(4413, `The request is larger than ${MAX_REQUEST_BYTES / 1024} KiB.`);
  }
  return { id, method, body, opts, browserWallet: isObject(params) && hasOwn(params, 'externalWallet') };
}

/** Sends `call` on the first transport that is available: `{ transport, response }`. */
async function sendOnFirst(call, ctx) {
  const skipped = [];
  for (const transport of call.opts.transports) {
    try {
      return { transport, response: await TRANSPORTS[transport](call, ctx) };
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e;
      skipped.push(`${transport}: ${e.message}`);
    }
  }
  throw new CompanionError(4900, `${NOT_RUNNING} (Tried ${skipped.join('; ')}.)`);
}

async function callCompanion(method, params, options) {
  const opts = normalizeOptions(options);
  const ctx = makeCallContext(opts);
  try {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    let call;
    if (isObject(params) && params.wallet === BROWSER_WALLET) {
      // Checked before the wallet is asked for anything: only the extension carries its step.
      if (!opts.transports.includes('extension')) {
        throw new CompanionError(4200, opts.transports.every((t) => t === 'deeplink') ? NO_DEEPLINK_WALLET : EXTENSION_ONLY_WALLET);
      }
      if (!(await raceAbort(detectExtension(opts.extensionTimeoutMs), ctx.signal))) {
        throw new CompanionError(4200, EXTENSION_ONLY_WALLET);
      }
      const { wallet, ...rest } = params;
      params = { ...rest, externalWallet: await raceAbort(connectBrowserWallet(opts), ctx.signal) };
      call = makeCall(method, params, { ...opts, transports: ['extension'] });
    } else {
      call = makeCall(method, params, opts);
    }
    const { response } = await sendOnFirst(call, ctx);
    const result = unwrap(response, { id: call.id, method });
    // The extension's in-page script signs with the wallet itself, after checking the text; a
    // step that reaches this client came another way (or from something posing as the
    // extension), and the wallet is asked nothing.
    if (method === 'getSessionSigs' && isWalletStep(result)) throw new CompanionError(4100, STEP_REFUSED);
    return result;
  } finally {
    ctx.cleanup();
  }
}

/**
 * Asks Lit Companion for sessionSigs. Resolves `{ sessionSigs, wallet, sessionKey, expiration,
 * reused }`; rejects with a CompanionError (see ErrorCodes), or with the signal's reason when
 * `options.signal` aborts.
 */
export async function requestSessionSigs(params, options) {
  const wire = normalizeSessionParams(params);
  return callCompanion('getSessionSigs', wire, options);
}

/** This origin's grants: resolves `{ grants: [...] }`. */
export async function listGrants(options) {
  return callCompanion('listGrants', undefined, options);
}

/** Revokes every session of this origin: resolves `{ revoked: n }`. */
export async function disconnect(options) {
  return callCompanion('disconnect', undefined, options);
}
