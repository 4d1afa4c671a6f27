// The popup: the connection to the app, the current site's grants (with revoke), or the fix.
const $ = (id) => document.getElementById(id);

function ask(origin, method) {
  return new Promise((resolve) => chrome.runtime.sendMessage({ type: 'popup', origin, method }, resolve));
}

async function activeOrigin() {
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  try {
    const u = new URL(tab && tab.url ? tab.url : '');
    return /^https?:$/.test(u.protocol) ? u.origin : null;
  } catch {
    return null;
  }
}

function showProblem(text) {
  $('status').textContent = 'Not connected to Lit Companion';
  $('status').className = 'status bad';
  $('problem').hidden = false;
  $('fix').textContent = text;
}

async function render() {
  const status = await new Promise((resolve) => chrome.runtime.sendMessage({ type: 'popup', method: 'status' }, resolve));
  if (!status || !status.connected) {
    showProblem((status && status.problem) || 'No answer from Lit Companion.');
    return;
  }
  const origin = await activeOrigin();
  if (!origin) {
    $('status').textContent = 'Connected to Lit Companion. Open a web page to see its sessions.';
    $('status').className = 'status ok';
    return;
  }
  const reply = await ask(origin, 'listGrants');
  const answer = reply && reply.answer;
  if (!answer || answer.error) {
    showProblem((answer && answer.error && answer.error.message) || (reply && reply.problem) || 'No answer from Lit Companion.');
    return;
  }
  $('status').textContent = 'Connected to Lit Companion';
  $('status').className = 'status ok';
  $('site').hidden = false;
  $('site-name').textContent = new URL(origin).host;
  const list = $('grants');
  list.replaceChildren();
  for (const g of answer.result.grants) {
    for (const sentence of g.mayDo) {
      const li = document.createElement('li');
      li.textContent = sentence;
      const when = document.createElement('div');
      when.className = 'expires';
      when.textContent = `until ${new Date(g.expiresAt).toLocaleString()} · ${g.network}`;
      li.append(when);
      list.append(li);
    }
  }
  const none = answer.result.grants.length === 0;
  $('none').hidden = !none;
  $('revoke').hidden = none;
  $('revoke').onclick = async () => {
    const r = await ask(origin, 'disconnect');
    $('revoke-note').hidden = false;
    if (r && r.answer && r.answer.result) render();
  };
}

render();
