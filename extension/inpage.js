// Runs in the page's own world: exposes `window.litCompanion` and announces it (EIP-6963 style:
// `litCompanion:requestProvider` → `litCompanion:announceProvider`). It holds no secret and no
// privilege: requests go to the extension's content script, and the page's origin is taken by
// the browser (`sender.origin`), never from anything the page writes here.
//
// When the page's own wallet signs (docs/bridge-protocol.md, "When the page's wallet signs"), the
// companion answers getSessionSigs with a `signWithWallet` step; this script asks the page's
// EIP-1193 wallet for `personal_sign` of that exact text and sends `walletSignature` back, so the
// page still gets sessionSigs from one request.
(() => {
  if (window.litCompanion) return;
  const CHANNEL = 'lit-companion';
  const info = Object.freeze({ name: 'Lit Companion', version: '0.1.0', protocol: Object.freeze([1]) });
  const pending = new Map();
  let seq = 0;
  const nextId = (prefix) => `${prefix}-${Date.now().toString(36)}-${(++seq).toString(36)}`;

  window.addEventListener('message', (event) => {
    const d = event.data;
    if (event.source !== window || !d || d.channel !== CHANNEL || d.direction !== 'to-page') return;
    const resolve = pending.get(d.ticket);
    if (!resolve) return;
    pending.delete(d.ticket);
    resolve(d.response);
  });

  /** One envelope to the extension and back. */
  function send(envelope) {
    return new Promise((resolve) => {
      const ticket = `${nextId('t')}-${Math.random().toString(36).slice(2)}`;
      pending.set(ticket, resolve);
      window.postMessage({ channel: CHANNEL, direction: 'to-extension', ticket, envelope }, window.location.origin);
    });
  }

  // The page's wallets: every EIP-6963 announcement since the page started, in order.
  const wallets = [];
  window.addEventListener('eip6963:announceProvider', (event) => {
    const d = event.detail;
    if (!d || !d.provider || typeof d.provider.request !== 'function') return;
    if (!wallets.some((w) => w.provider === d.provider)) wallets.push({ info: d.info || {}, provider: d.provider });
  });
  /** Asks the wallets to announce themselves again (they answer at once) and lets them. */
  async function announcedWallets() {
    window.dispatchEvent(new Event('eip6963:requestProvider'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    return wallets;
  }
  const injected = () => (window.ethereum && typeof window.ethereum.request === 'function' ? window.ethereum : null);

  const failure = (code, name, message) => ({ code, name, message });
  const declined = (doing) => failure(4001, 'user_rejected', `You declined ${doing} in your browser wallet.`);
  const noWallet = (detail) =>
    failure(4601, 'no_wallet', `No browser wallet ${detail}: install one (MetaMask, Rabby, …) or use a wallet kept in Lit Companion.`);

  /** The wallet whose accounts (eth_accounts never prompts) hold `address`, else window.ethereum. */
  async function walletHolding(address) {
    const want = address.toLowerCase();
    for (const { provider } of await announcedWallets()) {
      const accounts = await Promise.race([
        Promise.resolve().then(() => provider.request({ method: 'eth_accounts' })).catch(() => []),
        new Promise((resolve) => setTimeout(resolve, 2000, [])),
      ]);
      if (Array.isArray(accounts) && accounts.some((a) => String(a).toLowerCase() === want)) return provider;
    }
    return injected();
  }

  /** personal_sign takes the message as 0x + the hex of its UTF-8 bytes. */
  const hexOfText = (text) => `0x${[...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;

  // ReCap abilities (ERC-5573) of each Lit ability, as the companion and the Lit SDK write them.
  const RECAP_ABILITY = Object.freeze({
    'pkp-signing': 'Threshold/Signing',
    'access-control-condition-signing': 'Threshold/Signing',
    'access-control-condition-decryption': 'Threshold/Decryption',
    'lit-action-execution': 'Threshold/Execution',
    'rate-limit-increase-auth': 'Auth/Auth',
    'lit-payment-delegation': 'Auth/Auth',
  });
  /** Longest session a companion signs (30 days), with a minute for clocks. */
  const MAX_LIFETIME_MS = (30 * 24 * 60 + 1) * 60 * 1000;

  /** A request line's ReCap resource key: PKP ids lose `0x`, are padded to 64 hex digits, lower-cased. */
  function resourceKey({ resource, resourcePrefix }) {
    let id = String(resource);
    if (resourcePrefix === 'lit-pkp' && id !== '*') id = id.replace(/^0x/i, '').padStart(64, '0').toLowerCase();
    return `${resourcePrefix}://${id}`;
  }

  /** base64url → text (UTF-8). */
  function fromBase64Url(text) {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  }

  /**
   * Why the step's text is not the session SIWE (EIP-4361, with an ERC-5573 ReCap) for exactly
   * this page's request, or null when it is: this page's host as domain, the wallet the request
   * named as address, a session key as URI, an expiration within the request's, and no
   * resource or ability the request did not ask for. Whoever sent the step, the wallet signs
   * nothing else.
   */
  function stepProblem(step, params) {
    if (step.purpose === 'pkpAuth') return pkpSignInProblem(step, params);
    if (step.purpose !== undefined) return 'it is a step this page does not know';
    const lines = step.message.split('\n');
    if (lines[0] !== `${window.location.host} wants you to sign in with your Ethereum account:`) {
      return `it is not for this page (${window.location.host})`;
    }
    // The wallet the request named; with none named, the one the companion chose (its default).
    const named = (params.externalWallet && params.externalWallet.address) || params.wallet || step.address;
    if (typeof named !== 'string' || lines[1].toLowerCase() !== named.toLowerCase() || step.address.toLowerCase() !== named.toLowerCase()) {
      return 'it is not for the wallet this page named';
    }
    // EIP-4361, as the companion writes it: domain, address, blank, statement, blank, then each
    // field once on its own line, in order; a field's name anywhere else (in the statement,
    // say) does not count.
    const FIELDS = ['URI', 'Version', 'Chain ID', 'Nonce', 'Issued At', 'Expiration Time'];
    if (lines.length !== 5 + FIELDS.length + 2 || lines[2] !== '' || lines[4] !== '') return 'it is not a session message';
    const field = {};
    for (const [i, name] of FIELDS.entries()) {
      const line = lines[5 + i];
      if (!line.startsWith(`${name}: `)) return 'it is not a session message';
      field[name] = line.slice(name.length + 2);
    }
    if (!/^lit:session:[0-9a-f]{64}$/.test(field.URI) || field.Version !== '1') return 'it does not authorize a session key';
    const expires = Date.parse(field['Expiration Time']);
    const limit = params.expiration !== undefined ? Date.parse(params.expiration) : Date.now() + MAX_LIFETIME_MS;
    if (!Number.isFinite(expires) || !(expires <= limit)) return 'it lasts longer than this page asked';
    const resources = lines.slice(5 + FIELDS.length);
    if (resources[0] !== 'Resources:' || !resources[1].startsWith('- urn:recap:')) return 'its resources are not one ReCap';
    let recap;
    try {
      recap = JSON.parse(fromBase64Url(resources[1].slice('- urn:recap:'.length)));
    } catch {
      return 'its ReCap cannot be read';
    }
    const asked = new Set(
      (Array.isArray(params.resourceAbilityRequests) ? params.resourceAbilityRequests : [])
        .filter((r) => r && r.resource && RECAP_ABILITY[r.ability])
        .map((r) => `${resourceKey(r.resource)} ${RECAP_ABILITY[r.ability]}`),
    );
    if (!recap || typeof recap.att !== 'object' || recap.att === null || (recap.prf && recap.prf.length)) return 'its ReCap is not one this page asked for';
    for (const [resource, abilities] of Object.entries(recap.att)) {
      for (const ability of Object.keys(abilities || {})) {
        if (!asked.has(`${resource} ${ability}`)) return `it grants ${ability} on ${resource}, which this page did not ask for`;
      }
    }
    return null;
  }

  /**
   * Why the step's text is not the sign-in a PKP's wallet gives for exactly this page's PKP
   * request, or null when it is: the page asked for a PKP session (`pkpPublicKey`), the text is
   * a plain SIWE for this page's host and origin by the step's wallet, naming the step's PKP,
   * with no resources (it grants nothing by itself; the network signs the session) and an
   * expiration within the request's.
   */
  function pkpSignInProblem(step, params) {
    if (typeof params.pkpPublicKey !== 'string') return 'this page did not ask for a PKP session';
    if (typeof step.pkp !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(step.pkp)) return 'it names no PKP';
    const lines = step.message.split('\n');
    if (lines[0] !== `${window.location.host} wants you to sign in with your Ethereum account:`) {
      return `it is not for this page (${window.location.host})`;
    }
    if (lines[1].toLowerCase() !== step.address.toLowerCase()) return 'it is not for the wallet that signs in';
    const FIELDS = ['URI', 'Version', 'Chain ID', 'Nonce', 'Issued At', 'Expiration Time'];
    if (lines.length !== 5 + FIELDS.length || lines[2] !== '' || lines[4] !== '') return 'it is not a sign-in message without resources';
    if (!lines[3].includes(step.pkp)) return 'it does not name the PKP';
    const field = {};
    for (const [i, name] of FIELDS.entries()) {
      const line = lines[5 + i];
      if (!line.startsWith(`${name}: `)) return 'it is not a sign-in message';
      field[name] = line.slice(name.length + 2);
    }
    if (field.URI !== window.location.origin || field.Version !== '1') return 'it does not sign in to this page';
    const expires = Date.parse(field['Expiration Time']);
    const limit = params.expiration !== undefined ? Date.parse(params.expiration) : Date.now() + MAX_LIFETIME_MS;
    if (!Number.isFinite(expires) || !(expires <= limit)) return 'it lasts longer than this page asked';
    return null;
  }

  /** Signs a step: the walletSignature params, and the error to answer the page with when it did not sign. */
  async function signStep({ ticket, address, message }) {
    const wallet = await walletHolding(address);
    // Whatever keeps the wallet from signing, the companion is told at once (rejected: true), so
    // the session key waiting for it is dropped now rather than when the step lapses.
    const unsigned = (error) => ({ params: { ticket, rejected: true }, error });
    if (!wallet) return unsigned(noWallet(`holding ${address} was found in this page`));
    try {
      return { params: { ticket, signature: await wallet.request({ method: 'personal_sign', params: [hexOfText(message), address] }) } };
    } catch (e) {
      if (e && e.code === 4001) return unsigned(declined('to sign'));
      return unsigned(failure(5000, 'internal', `Your browser wallet failed to sign${e && e.message ? `: ${e.message}` : ''}`));
    }
  }

  /** Sends a request envelope (docs/bridge-protocol.md); resolves with the response envelope. */
  async function request(envelope) {
    const answer = await send(envelope);
    const step = envelope && envelope.method === 'getSessionSigs' && answer && answer.result && answer.result.signWithWallet;
    if (!step) return answer;
    const id = envelope.id;
    if (typeof step.ticket !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(step.address) || typeof step.message !== 'string') {
      return { v: 1, id, error: failure(5000, 'internal', 'Lit Companion sent a malformed wallet step.') };
    }
    const problem = stepProblem(step, envelope.params || {});
    if (problem) {
      // Nothing reaches the wallet; the companion (if it was one) drops the waiting key.
      await send({ v: 1, id: nextId('ws'), method: 'walletSignature', params: { ticket: step.ticket, rejected: true } });
      return { v: 1, id, error: failure(4100, 'unauthorized', `Refused to ask your wallet to sign: ${problem}.`) };
    }
    const { params, error } = await signStep(step);
    const final = params ? await send({ v: 1, id: nextId('ws'), method: 'walletSignature', params }) : null;
    return error ? { v: 1, id, error } : { ...final, id };
  }

  /** `wallet: 'browser'`: the page's wallet (by `walletRdns`, else the first announced, else window.ethereum) gives its account. */
  async function connectWallet(walletRdns) {
    const all = await announcedWallets();
    const chosen = walletRdns ? all.find((w) => w.info.rdns === walletRdns) : all[0] || (injected() && { info: {}, provider: injected() });
    if (!chosen) throw noWallet(walletRdns ? `named ${walletRdns} announces itself in this page` : 'was found in this page');
    let accounts;
    try {
      accounts = await chosen.provider.request({ method: 'eth_requestAccounts' });
    } catch (e) {
      throw e && e.code === 4001 ? declined('to connect') : failure(5000, 'internal', 'Your browser wallet failed to connect.');
    }
    if (!Array.isArray(accounts) || !/^0x[0-9a-fA-F]{40}$/.test(accounts[0])) throw failure(5000, 'internal', 'Your browser wallet gave no account.');
    const name = [...String(chosen.info.name || '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim()].slice(0, 64).join('');
    return { address: accounts[0], name: name || 'Browser wallet' };
  }

  /** getSessionSigs params → result, or throws an Error with `code` and `name`. `options.walletRdns` picks a wallet. */
  async function requestSessionSigs(params, options = {}) {
    const toError = (e) => Object.assign(new Error(e.message), { code: e.code, name: e.name });
    let wire = params;
    if (params && params.wallet === 'browser') {
      const { wallet, ...rest } = params;
      try {
        wire = { ...rest, externalWallet: await connectWallet(options && options.walletRdns) };
      } catch (e) {
        throw toError(e);
      }
    }
    const answer = await request({ v: 1, id: nextId('lc'), method: 'getSessionSigs', params: wire });
    if (answer && answer.result) return answer.result;
    throw toError((answer && answer.error) || failure(5000, 'internal', 'no answer'));
  }

  const provider = Object.freeze({ info, request, requestSessionSigs });
  Object.defineProperty(window, 'litCompanion', { value: provider, writable: false, configurable: false, enumerable: false });
  const announce = () =>
    window.dispatchEvent(new CustomEvent('litCompanion:announceProvider', { detail: Object.freeze({ info, provider }) }));
  window.addEventListener('litCompanion:requestProvider', announce);
  announce();
})();
