// The isolated half of the page bridge: passes the page's envelopes to the service worker and
// the answers back. It adds nothing about who asks: the service worker reads `sender.origin`.
const CHANNEL = 'lit-companion';

window.addEventListener('message', (event) => {
  const d = event.data;
  if (event.source !== window || !d || d.channel !== CHANNEL || d.direction !== 'to-extension') return;
  const reply = (response) =>
    window.postMessage({ channel: CHANNEL, direction: 'to-page', ticket: d.ticket, response }, window.location.origin);
  const id = d.envelope && typeof d.envelope === 'object' ? d.envelope.id ?? null : null;
  try {
    chrome.runtime.sendMessage({ type: 'request', envelope: d.envelope }, (response) => {
      if (chrome.runtime.lastError || !response) {
        reply({ v: 1, id, error: { code: 4900, name: 'disconnected', message: 'The Lit Companion extension was reloaded: reload the page.' } });
      } else {
        reply(response);
      }
    });
  } catch {
    reply({ v: 1, id, error: { code: 4900, name: 'disconnected', message: 'The Lit Companion extension was reloaded: reload the page.' } });
  }
});
