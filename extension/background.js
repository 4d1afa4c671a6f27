// The background (Chromium's service worker, Firefox's event page): one native-messaging port to
// the Lit Companion host, reconnected when it drops. Each page request travels as
// {origin: sender.origin, envelope}; the origin is the one the browser reports for the sending
// tab, never a value the page chose.
const HOST = 'app.litcompanion.host';
const FIX_HOST =
  'The Lit Companion host is not installed for this browser: install the Lit Companion app, or run `lit-companion install-browser-host` (`lit-companion doctor` checks the setup).';

let port = null;
let lastProblem = null;
let nextId = 1;
const waiting = new Map(); // internal id → { resolve, id }

function errorEnvelope(id, code, name, message) {
  return { v: 1, id, error: { code, name, message } };
}

function connect() {
  try {
    port = chrome.runtime.connectNative(HOST);
  } catch (e) {
    port = null;
    lastProblem = FIX_HOST;
    return false;
  }
  port.onMessage.addListener((msg) => {
    const w = msg && waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    lastProblem = msg.error && msg.error.code === 4900 ? msg.error.message : null;
    w.resolve({ ...msg, id: w.id });
  });
  port.onDisconnect.addListener((p) => {
    // Chromium says why in runtime.lastError; Firefox leaves that empty and sets port.error
    // ("No such native application …" for a missing manifest and for an extension id the
    // manifest does not allow alike).
    const reason =
      (chrome.runtime.lastError && chrome.runtime.lastError.message) || (p && p.error && p.error.message) || 'the host stopped';
    lastProblem = /not found|not exist|forbidden|no such native application/i.test(reason)
      ? FIX_HOST
      : `The Lit Companion host stopped (${reason}).`;
    port = null;
    for (const [, w] of waiting) w.resolve(errorEnvelope(w.id, 4900, 'disconnected', lastProblem));
    waiting.clear();
  });
  return true;
}

/** Relays one envelope for `origin`; resolves with the response envelope. */
function relay(origin, envelope) {
  return new Promise((resolve) => {
    const id = envelope && typeof envelope === 'object' ? envelope.id ?? null : null;
    if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope)) {
      resolve(errorEnvelope(id, 4400, 'bad_request', 'the request is not an envelope object'));
      return;
    }
    if (!port && !connect()) {
      resolve(errorEnvelope(id, 4900, 'disconnected', lastProblem || FIX_HOST));
      return;
    }
    // Ids are ours on the wire, so that two pages' ids never collide.
    const internal = `x${nextId++}`;
    waiting.set(internal, { resolve, id });
    try {
      port.postMessage({ origin, envelope: { ...envelope, id: internal } });
    } catch (e) {
      waiting.delete(internal);
      resolve(errorEnvelope(id, 4900, 'disconnected', lastProblem || FIX_HOST));
    }
  });
}

function isWebOrigin(origin) {
  return typeof origin === 'string' && /^https?:\/\/[^/]+$/.test(origin);
}

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (!msg || typeof msg !== 'object') return false;
  if (msg.type === 'request') {
    // Only content scripts in tabs, and the origin is the browser's word for that tab.
    if (sender.id !== chrome.runtime.id || !sender.tab || !isWebOrigin(sender.origin)) {
      sendResponse(errorEnvelope(null, 4100, 'unauthorized', 'requests must come from a web page'));
      return false;
    }
    relay(sender.origin, msg.envelope).then(sendResponse);
    return true;
  }
  if (msg.type === 'popup') {
    // The popup acts for the active tab's origin, on the user's own click. Only our own
    // extension page has this URL (whether shown as a popup or in a tab).
    const fromPopup = sender.id === chrome.runtime.id && sender.url === chrome.runtime.getURL('popup.html');
    if (fromPopup && msg.method === 'status') {
      // Any answer from the companion (even a refusal of this origin-less probe) means it is up.
      relay('', { v: 1, id: 'status', method: 'listGrants' }).then((answer) => {
        const down = answer.error && answer.error.code === 4900;
        sendResponse({ connected: !down, problem: down ? answer.error.message : null });
      });
      return true;
    }
    if (!fromPopup || !isWebOrigin(msg.origin) || !['listGrants', 'disconnect'].includes(msg.method)) {
      sendResponse(errorEnvelope(null, 4100, 'unauthorized', 'not from the popup'));
      return false;
    }
    relay(msg.origin, { v: 1, id: 'popup', method: msg.method }).then((answer) =>
      sendResponse({ answer, problem: lastProblem }),
    );
    return true;
  }
  return false;
});
