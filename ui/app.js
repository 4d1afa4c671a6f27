// The app's UI: plain DOM, no remote content. It only calls the shell's commands.
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;
const $ = (id) => document.getElementById(id);
let screen = 'sessions';
let shownPrompt = null;

function el(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  Object.assign(n, props);
  for (const c of children) n.append(c);
  return n;
}

function untilText(iso) {
  const d = new Date(iso);
  const left = d - Date.now();
  const h = Math.floor(left / 3600e3);
  const m = Math.floor((left % 3600e3) / 60e3);
  return left <= 0 ? 'expired' : `${d.toLocaleString()} (${h > 0 ? `${h} h ` : ''}${m} min left)`;
}

async function refreshStatus() {
  const s = await invoke('status');
  const banner = $('keychain-problem');
  banner.hidden = s.keychain.ok;
  if (!s.keychain.ok) {
    banner.textContent = s.keychain.code === 'keychain_locked'
      ? 'Your keychain is locked. Unlock it (log in again or open your keyring manager), then retry.'
      : `No keychain is available: ${s.keychain.message}. Lit Companion never stores keys anywhere else.`;
  }
  $('roads').replaceChildren(...s.roads.map((r) => el('li', { textContent: r })));
  $('version').textContent = `Version ${s.version}`;
}

async function show(name) {
  screen = name;
  for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.dataset.screen === name);
  const wallets = await invoke('wallets').catch(() => []);
  const firstRun = wallets.length === 0;
  $('first-run').hidden = !firstRun;
  for (const s of document.querySelectorAll('.screen')) s.hidden = firstRun || s.id !== name;
  if (firstRun) return;
  if (name === 'sessions') await renderSessions();
  if (name === 'wallets') renderWallets(wallets);
  if (name === 'history') await renderHistory();
  if (name === 'settings') await refreshStatus();
}

async function renderSessions() {
  const list = await invoke('sessions');
  const box = $('session-list');
  box.replaceChildren();
  if (list.length === 0) box.append(el('p', { className: 'muted', textContent: 'No site has a session.' }));
  for (const s of list) {
    const lines = el('ul', { className: 'lines' });
    for (const l of s.mayDo) lines.append(el('li', { className: l.risk === 'danger' ? 'danger' : '', textContent: l.sentence }));
    const revoke = el('button', { className: 'danger-outline', textContent: 'Revoke' });
    revoke.onclick = async () => { await invoke('revoke', { session: s.sessionKey }); renderSessions(); };
    box.append(el('div', { className: 'session' },
      el('div', { className: 'head' }, el('strong', { textContent: s.origin.replace(/^unverified:/, '') + (s.origin.startsWith('unverified:') ? ' (not verified)' : '') }),
        el('span', { className: 'badge', textContent: s.network })),
      lines,
      el('p', { className: 'muted', textContent: s.state === 'dead' ? `Unusable: ${s.deadReason}` : `Until ${untilText(s.expiresAt)} · as ${s.wallet}` }),
      revoke));
  }
  $('revoke-all').hidden = list.length === 0;
}

function renderWallets(wallets) {
  $('wallet-list').replaceChildren(...wallets.map((w) => {
    const remove = el('button', { className: 'danger-outline', textContent: 'Remove' });
    remove.onclick = async () => {
      if (confirm(`Remove ${w.label} (${w.address})? Its key leaves the keychain and its sessions are revoked.`)) {
        await invoke('remove_wallet', { address: w.address });
        show('wallets');
      }
    };
    return el('li', { className: 'card' }, el('strong', { textContent: w.label }), el('div', { textContent: w.address }), remove);
  }));
}

async function renderHistory() {
  const rows = await invoke('history');
  $('history-list').replaceChildren(...rows.map((h) =>
    el('tr', {}, el('td', { textContent: new Date(h.at).toLocaleString() }), el('td', { textContent: h.origin || '' }), el('td', { textContent: h.detail }))));
}

function lifetimeChoices(askedSeconds) {
  const options = [[900, '15 minutes'], [3600, '1 hour'], [86400, '24 hours'], [7 * 86400, '7 days'], [30 * 86400, '30 days']];
  const fit = options.filter(([s]) => s < askedSeconds);
  fit.push([askedSeconds, `${Math.round(askedSeconds / 60) >= 120 ? Math.round(askedSeconds / 3600) + ' hours' : Math.round(askedSeconds / 60) + ' minutes'} (asked)`]);
  return fit;
}

async function renderPrompt() {
  const queue = await invoke('prompts');
  const p = queue[0];
  if (!p) {
    $('prompt').hidden = true;
    shownPrompt = null;
    return;
  }
  if (shownPrompt === p.id) return; // never re-render (or steal focus from) the prompt in front
  shownPrompt = p.id;
  const r = p.request;
  const who = $('prompt-who');
  who.replaceChildren();
  if (r.verified) who.append(el('strong', { textContent: r.who.split(' — ')[0] }), ` — ${r.who.split(' — ')[1] || ''}`);
  else who.append(el('span', { className: 'unverified', textContent: r.who }));
  $('prompt-where').textContent = `on ${r.network_label}, as ${r.wallet} · via ${r.road}`;
  $('prompt-already').hidden = r.already_granted.length === 0;
  $('prompt-already-list').replaceChildren(...r.already_granted.map((l) => el('li', { textContent: l.sentence })));
  $('prompt-new').replaceChildren(...r.new.map((l) => el('li', { className: l.risk === 'danger' ? 'danger' : '', textContent: l.sentence })));
  $('prompt-not').replaceChildren(...r.not_granted.map((l) => el('li', { textContent: l })));
  $('prompt-paid').hidden = r.supplied_delegations.length === 0;
  $('prompt-paid').textContent = r.supplied_delegations.join(' ');
  const asked = r.lifetime.secs;
  $('prompt-lifetime').replaceChildren(...lifetimeChoices(asked).map(([s, t]) => el('option', { value: String(s), textContent: t, selected: s === asked })));
  $('prompt-until').textContent = r.duration_text;
  $('prompt-raw').textContent = JSON.stringify({ origin: r.origin, network: r.network, statement: r.statement, flags: r.flags, new: r.new }, null, 2);
  const approve = $('prompt-approve');
  const reject = $('prompt-reject');
  approve.disabled = true;
  reject.disabled = true;
  $('prompt').hidden = false;
  // No click-through: both buttons wake up after half a second; Reject is the default when
  // anything is dangerous.
  setTimeout(() => {
    approve.disabled = false;
    reject.disabled = false;
    (p.dangerous ? reject : approve).focus();
  }, 500);
  approve.onclick = async () => {
    await invoke('answer_prompt', { id: p.id, approve: true, lifetimeSeconds: Number($('prompt-lifetime').value) });
    renderPrompt();
    show(screen);
  };
  reject.onclick = async () => {
    await invoke('answer_prompt', { id: p.id, approve: false });
    renderPrompt();
  };
}

async function firstRunAction(fn) {
  $('first-run-error').hidden = true;
  try {
    await fn();
    await show('sessions');
  } catch (e) {
    $('first-run-error').hidden = false;
    $('first-run-error').textContent = String(e);
  }
}

$('create-wallet').onclick = () => firstRunAction(() => invoke('create_wallet', { label: $('new-label').value }));
$('import-wallet').onclick = () => firstRunAction(async () => {
  const key = $('import-key').value;
  $('import-key').value = '';
  await invoke('import_wallet', { key, label: $('import-label').value });
});
$('add-wallet').onclick = async () => { await invoke('create_wallet', { label: 'Wallet' }); show('wallets'); };
$('revoke-all').onclick = async () => {
  if (confirm('Revoke every session of every site?')) { await invoke('revoke', {}); renderSessions(); }
};
for (const t of document.querySelectorAll('.tab')) t.onclick = () => show(t.dataset.screen);
listen('prompts-changed', () => renderPrompt());
listen('status-changed', () => refreshStatus());
setInterval(() => { if (screen === 'sessions' && $('prompt').hidden) renderSessions(); }, 30000);
refreshStatus();
show('sessions');
renderPrompt();
