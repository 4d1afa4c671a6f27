// Runs in the page's own world: exposes `window.litCompanion` and announces it (EIP-6963 style:
// `litCompanion:requestProvider` → `litCompanion:announceProvider`). It holds no secret and no
// privilege: requests go to the extension's content script, and the page's origin is taken by
// the browser (`sender.origin`), never from anything the page writes here.
(() => {
  if (window.litCompanion) return;
  const CHANNEL = 'lit-companion';
  const info = Object.freeze({ name: 'Lit Companion', version: '0.1.0', protocol: Object.freeze([1]) });
  const pending = new Map();
  let seq = 0;

  window.addEventListener('message', (event) => {
    const d = event.data;
    if (event.source !== window || !d || d.channel !== CHANNEL || d.direction !== 'to-page') return;
    const resolve = pending.get(d.ticket);
    if (!resolve) return;
    pending.delete(d.ticket);
    resolve(d.response);
  });

  /** Sends a request envelope (docs/bridge-protocol.md); resolves with the response envelope. */
  function request(envelope) {
    return new Promise((resolve) => {
      const ticket = `${Date.now().toString(36)}-${(++seq).toString(36)}-${Math.random().toString(36).slice(2)}`;
      pending.set(ticket, resolve);
      window.postMessage({ channel: CHANNEL, direction: 'to-extension', ticket, envelope }, window.location.origin);
    });
  }

  /** getSessionSigs params → result, or throws an Error with `code` and `name`. */
  async function requestSessionSigs(params) {
    const id = `lc-${Date.now().toString(36)}-${(++seq).toString(36)}`;
    const answer = await request({ v: 1, id, method: 'getSessionSigs', params });
    if (answer && answer.result) return answer.result;
    const e = (answer && answer.error) || { code: 5000, name: 'internal', message: 'no answer' };
    throw Object.assign(new Error(e.message), { code: e.code, name: e.name });
  }

  const provider = Object.freeze({ info, request, requestSessionSigs });
  Object.defineProperty(window, 'litCompanion', { value: provider, writable: false, configurable: false, enumerable: false });
  const announce = () =>
    window.dispatchEvent(new CustomEvent('litCompanion:announceProvider', { detail: Object.freeze({ info, provider }) }));
  window.addEventListener('litCompanion:requestProvider', announce);
  announce();
})();
