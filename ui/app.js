// The app's UI: plain DOM, no remote content. It only calls the shell's commands.
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;
const $ = (id) => document.getElementById(id);
let screen = 'sessions';
let shownPrompt = null;
let walletLabels = {};
let defaultLifetime = 86400;
// The first-run steps: 'wallet' until there is one, then 'network' until one is added or the
// step is skipped; null once set up.
let setupStep = null;

function el(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  Object.assign(n, props);
  for (const c of children) n.append(c);
  return n;
}

function showError(id, e) {
  $(id).hidden = !e;
  $(id).textContent = e ? String(e) : '';
}

const short = (a) => (a && a.length > 12 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a);

function leftText(iso) {
  const left = new Date(iso) - Date.now();
  if (left <= 0) return 'expired';
  const d = Math.floor(left / 86400e3);
  const h = Math.floor((left % 86400e3) / 3600e3);
  const m = Math.floor((left % 3600e3) / 60e3);
  const s = Math.floor((left % 60e3) / 1e3);
  if (d > 0) return `${d} d ${h} h left`;
  if (h > 0) return `${h} h ${m} min left`;
  return `${m} min ${s} s left`;
}

// The prompt whose buttons are waking, and its timer.
let waking = null;

/** Enables `buttons` once prompt `id` has been visible in a focused window for 0.5 s in a row. */
function wakeButtons(id, buttons) {
  if (waking) clearInterval(waking.timer);
  const state = { id, since: null, timer: null, shown: performance.now() };
  state.timer = setInterval(() => {
    if (shownPrompt !== id) {
      clearInterval(state.timer);
      return;
    }
    const seen = document.visibilityState === 'visible' && document.hasFocus() && !$('prompt').hidden;
    if (!seen) {
      state.since = null;
      return;
    }
    state.since ??= performance.now();
    if (performance.now() - state.since >= 500) {
      clearInterval(state.timer);
      for (const b of buttons) b.disabled = false;
      $('prompt').dataset.awake = id;
      $('prompt').dataset.wokeAfterMs = String(Math.round(performance.now() - state.shown));
    }
  }, 50);
  waking = state;
}

async function refreshStatus() {
  const s = await invoke('status');
  const banner = $('keychain-problem');
  banner.hidden = s.keychain.ok;
  if (!s.keychain.ok) {
    banner.textContent = s.keychain.code === 'keychain_locked'
      ? 'Your keychain is locked. Unlock it (log in again or open your keyring manager), then come back: nothing was lost.'
      : `No keychain is available (${s.keychain.message}). Lit Companion never stores keys anywhere else: start your desktop's keyring service, then reopen the app.`;
  }
  $('paused-badge').hidden = !s.paused;
  $('roads').replaceChildren(...s.roads.map((r) => el('li', { textContent: r })));
  $('version').textContent = `Version ${s.version}`;
}

async function show(name) {
  screen = name;
  for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.dataset.screen === name);
  let wallets = [];
  let failed = null;
  try {
    wallets = await invoke('wallets');
  } catch (e) {
    failed = e;
  }
  walletLabels = Object.fromEntries(wallets.map((w) => [w.address.toLowerCase(), w.label]));
  if (!failed && wallets.length === 0) setupStep = 'wallet';
  else if (!failed && setupStep === 'wallet') setupStep = 'network';
  const firstRun = !failed && setupStep !== null;
  $('first-run').hidden = !firstRun;
  $('first-run-wallet').hidden = setupStep !== 'wallet';
  $('first-run-network').hidden = setupStep !== 'network';
  for (const s of document.querySelectorAll('.screen')) s.hidden = firstRun || s.id !== name;
  if (firstRun) {
    if (setupStep === 'network') await renderNetworkStep();
    return;
  }
  try {
    if (name === 'sessions') await renderSessions();
    if (name === 'wallets') renderWallets(wallets);
    if (name === 'history') await renderHistory();
    if (name === 'settings') await renderSettings();
  } catch (e) {
    await refreshStatus();
  }
}

async function renderSessions() {
  const list = await invoke('sessions');
  const box = $('session-list');
  box.replaceChildren();
  if (list.length === 0) box.append(el('p', { className: 'muted', textContent: 'No site has a session.' }));
  const byOrigin = new Map();
  for (const s of list) byOrigin.set(s.origin, [...(byOrigin.get(s.origin) || []), s]);
  for (const [origin, sessions] of byOrigin) {
    const unverified = origin.startsWith('unverified:');
    const name = origin.replace(/^unverified:/, '') + (unverified ? ' (not verified)' : '');
    const revokeSite = el('button', { className: 'danger-outline revoke-origin', textContent: 'Revoke all for this site' });
    revokeSite.onclick = async () => { await invoke('revoke', { origin }); renderSessions(); };
    const card = el('div', { className: 'site' }, el('div', { className: 'head' }, el('strong', { textContent: name }), revokeSite));
    for (const s of sessions) {
      const lines = el('ul', { className: 'lines' });
      for (const l of s.mayDo) lines.append(el('li', { className: l.risk === 'danger' ? 'danger' : '', textContent: l.sentence }));
      const revoke = el('button', { className: 'danger-outline revoke', textContent: 'Revoke' });
      revoke.onclick = async () => { await invoke('revoke', { session: s.sessionKey }); renderSessions(); };
      const until = el('span', { className: 'countdown' });
      until.dataset.expires = s.expiresAt;
      until.textContent = leftText(s.expiresAt);
      const as = `as ${short(s.wallet)}${walletLabels[s.wallet.toLowerCase()] ? ` (${walletLabels[s.wallet.toLowerCase()]})` : ''}`;
      card.append(el('div', { className: 'session' },
        el('div', { className: 'head' }, el('span', { className: 'badge', textContent: s.network }), revoke),
        lines,
        s.state === 'dead'
          ? el('p', { className: 'error', textContent: `Unusable: ${s.deadReason}` })
          : el('p', { className: 'muted' }, `Until ${new Date(s.expiresAt).toLocaleString()} · `, until, ` · ${as}`)));
    }
    box.append(card);
  }
  $('revoke-all').hidden = list.length === 0;
}

function tickCountdowns() {
  for (const c of document.querySelectorAll('.countdown')) c.textContent = leftText(c.dataset.expires);
}

// How each kind of wallet signs, in a line under its address.
function walletKindText(w) {
  if (w.kind === 'external') return 'Browser wallet: signs in your browser; only its address is kept here';
  if (w.kind === 'pkp') {
    const by = walletLabels[(w.pkp?.auth || '').toLowerCase()];
    return `PKP: the Lit network signs once ${by ? `"${by}"` : short(w.pkp?.auth)} signs in`;
  }
  return 'Key in your system keychain';
}

function removeQuestion(w) {
  if (w.kind === 'external') return `Forget the browser wallet ${w.label} (${w.address})? Its sessions are revoked; the wallet itself and its key stay in your browser.`;
  if (w.kind === 'pkp') return `Forget the PKP ${w.label} (${w.address})? Its sessions are revoked; the PKP itself stays on the Lit network, and so does the wallet that signs in for it.`;
  return `Remove ${w.label} (${w.address})? Its key leaves the keychain for good and its sessions are revoked. Export it first (lit-companion wallet export) if you need it elsewhere.`;
}

function renderWallets(wallets) {
  $('wallet-list').replaceChildren(...wallets.map((w) => {
    const label = el('input', { value: w.label, maxLength: 64, className: 'wallet-label' });
    const problem = el('p', { className: 'error wallet-problem', hidden: true });
    problem.setAttribute('role', 'alert');
    const say = (e) => { problem.hidden = !e; problem.textContent = e ? String(e) : ''; };
    const save = el('button', { textContent: 'Rename', className: 'wallet-rename' });
    save.onclick = async () => {
      try { await invoke('label_wallet', { address: w.address, label: label.value }); say(null); show('wallets'); } catch (e) { say(e); }
    };
    const remove = el('button', { className: 'danger-outline wallet-remove', textContent: 'Remove' });
    remove.onclick = async () => {
      if (confirm(removeQuestion(w))) {
        try { await invoke('remove_wallet', { address: w.address }); show('wallets'); } catch (e) { say(e); }
      }
    };
    const parts = [el('div', { className: 'mono wallet-address', textContent: w.address }),
      el('div', { className: `wallet-kind ${w.kind}`, textContent: walletKindText(w) })];
    if (w.kind === 'pkp' && w.pkp) {
      const by = walletLabels[w.pkp.auth.toLowerCase()];
      parts.push(el('div', { className: 'muted pkp-facts' },
        'Token id ', el('span', { className: 'mono pkp-token', title: w.pkp.tokenId || '', textContent: short(w.pkp.tokenId) || '?' }),
        ' · signs in with ', el('span', { className: 'pkp-auth', textContent: `${by || 'a wallet no longer here'} (${short(w.pkp.auth)})` })));
    }
    const item = el('li', { className: 'card' }, ...parts, el('div', { className: 'row' }, label, save, remove), problem);
    item.dataset.kind = w.kind;
    item.dataset.address = w.address;
    return item;
  }));
  // A PKP signs in with one of the local or browser wallets; the choice made stays chosen.
  const auth = $('pkp-auth');
  const chosen = auth.value;
  const signers = wallets.filter((w) => w.kind === 'local' || w.kind === 'external');
  auth.replaceChildren(...signers.map((w) => el('option', {
    value: w.address,
    textContent: `${w.label} (${short(w.address)}) · ${w.kind === 'external' ? 'browser wallet' : 'key in your keychain'}`,
    selected: w.address === chosen,
  })));
  $('add-pkp').disabled = signers.length === 0;
}

// Activity: one row per event in plain words, grouped by site (newest site first), with the
// technical line one click away.
async function renderHistory() {
  const rows = await invoke('history');
  const groups = new Map();
  for (const h of rows) {
    const site = h.site || 'Lit Companion';
    if (!groups.has(site)) groups.set(site, []);
    groups.get(site).push(h);
  }
  const list = $('history-list');
  list.replaceChildren(...[...groups].map(([site, events]) => el('section', { className: 'site activity' },
    el('h3', { className: 'site-name', textContent: site }),
    el('ul', { className: 'plain events' }, ...events.map((h) => el('li', { className: 'event' },
      el('div', { className: 'event-head' },
        el('span', { className: 'summary', textContent: (h.summary || h.detail) + (h.count > 1 ? ` ×${h.count}` : '') }),
        el('time', { className: 'muted when', dateTime: h.at, textContent: new Date(h.at).toLocaleString() })),
      el('details', { className: 'technical' }, el('summary', { textContent: 'Details' }), el('div', { className: 'mono', textContent: `${h.event}: ${h.detail}` }))))))));
  if (rows.length === 0) list.append(el('p', { className: 'muted', textContent: 'Nothing yet.' }));
}

// The settings as last loaded: saving changes only what the screen edits.
let loadedSettings = null;

// What the last Check of each network found, by name: kept across redraws of the list.
const checked = {};

function networkWhere(n) {
  const count = (n.nodes || []).length;
  const where = n.readAt
    ? `${count} node${count === 1 ? '' : 's'}, read ${new Date(n.readAt).toLocaleString()}${n.epoch !== undefined ? ` (epoch ${n.epoch})` : ''}`
    : n.rpc ? 'Nodes are read from its chain when first needed' : `${count} node${count === 1 ? '' : 's'} you listed`;
  const price = n.maxPriceWei ? ` · pays at most ${formatUnits(n.maxPriceWei)} per request` : '';
  return where + price;
}

function networkRow(n) {
  const box = el('input', { type: 'checkbox', checked: n.served, id: `set-net-${n.name}` });
  box.dataset.network = n.name;
  box.onchange = saveSettings;
  const count = (n.nodes || []).length;
  const parts = [
    el('label', { className: 'check' }, box, ` Serve ${n.label}${n.retired ? ` — ${n.retired}` : ''}`),
    el('div', { className: 'muted network-where', textContent: networkWhere(n) }),
  ];
  const last = checked[n.name];
  if (last) parts.push(el('div', { className: `network-result ${last.ok ? 'ok' : 'error'}`, textContent: last.text }));
  if (count > 0) {
    parts.push(el('details', { className: 'technical' }, el('summary', { textContent: 'Nodes' }),
      el('ul', { className: 'plain mono' }, ...n.nodes.map((u) => el('li', { textContent: u })))));
  }
  // Check: reads its nodes now and asks each one; a network that does not answer says so.
  const check = el('button', { className: 'network-check', textContent: 'Check' });
  check.onclick = async () => {
    check.disabled = true;
    check.textContent = 'Asking its nodes…';
    try {
      const view = await invoke('refresh_network', { name: n.name });
      const asked = view.nodes.length;
      checked[n.name] = { ok: true, text: `${view.answered} of ${asked} node${asked === 1 ? '' : 's'} answered` };
    } catch (e) {
      checked[n.name] = { ok: false, text: String(e) };
    }
    renderSettings();
  };
  parts.push(check);
  if (!n.builtIn) {
    const remove = el('button', { className: 'danger-outline network-remove', textContent: 'Remove' });
    remove.onclick = async () => {
      try { await invoke('remove_network', { name: n.name }); } catch (e) { showError('settings-problem', e); }
      renderSettings();
    };
    parts.push(remove);
  }
  return el('li', { className: 'network', id: `network-${n.name}` }, ...parts);
}

/** "0.05" from a decimal string of wei. */
function formatUnits(wei) {
  const digits = String(wei).padStart(19, '0');
  const whole = digits.slice(0, -18).replace(/^0+(?=\d)/, '');
  const frac = digits.slice(-18).replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole;
}

async function addNetwork() {
  const nodes = $('net-nodes').value.split('\n').map((l) => l.trim()).filter(Boolean);
  const rpc = $('net-rpc').value.trim();
  const network = { name: $('net-name').value.trim(), generation: $('net-generation').value, nodes };
  if (rpc) { network.rpc = rpc; network.staking = $('net-staking').value.trim(); }
  try {
    await invoke('add_network', { network });
    showError('net-problem', null);
    for (const id of ['net-name', 'net-nodes', 'net-rpc', 'net-staking']) $(id).value = '';
    if (setupStep === 'network') finishSetup();
    else renderSettings();
  } catch (e) {
    showError('net-problem', e);
  }
}

// The first run's network step: the networks already served, and the Settings' own form for
// adding one (moved here while the step shows).
async function renderNetworkStep() {
  $('first-run-network-form').append($('network-form'));
  const served = (await invoke('networks')).filter((n) => n.served);
  $('first-run-served').replaceChildren(...served.map((n) => el('li', { className: 'ok', textContent: `✓ Served: ${n.label}` })));
}

function finishSetup() {
  setupStep = null;
  $('network-add').append($('network-form'));
  show('sessions');
}

async function renderSettings() {
  await refreshStatus();
  // Everything the form saves is read first and filled in at once: a switch flipped while the
  // network list was still loading would otherwise save an empty list (every network off).
  const [{ settings, problem }, networks] = await Promise.all([invoke('settings'), invoke('networks')]);
  loadedSettings = settings;
  showError('settings-problem', problem && `Your saved settings could not be read (${problem}); defaults are in use until you change something.`);
  defaultLifetime = settings.defaultLifetimeSecs;
  $('set-paused').checked = settings.paused;
  for (const r of ['http', 'extension', 'deepLink']) $(`set-road-${r}`).checked = settings.roads[r];
  // The user's own networks first; Lit's retired public ones after them.
  networks.sort((a, b) => Number(a.builtIn) - Number(b.builtIn));
  $('set-networks').replaceChildren(...networks.map(networkRow));
  renderHostBrowsers();
  $('set-lifetime').value = String(settings.defaultLifetimeSecs);
  await renderLogin();
  const pairings = await invoke('pairings');
  $('pairing-list').replaceChildren(...pairings.map((p) => {
    const revoke = el('button', { className: 'danger-outline', textContent: 'Revoke' });
    revoke.onclick = async () => { await invoke('revoke_pairing', { name: p.name }); renderSettings(); };
    return el('li', { className: 'row' }, el('span', { textContent: `${p.name} · created ${new Date(p.createdAt).toLocaleDateString()}` }), revoke);
  }));
}

// Starting at login: the switch shows the OS's entry as it is (the desktop's own settings may
// have removed it or switched it off), not only what was chosen here.
function showLogin(state) {
  $('set-login').checked = state.on;
  $('login-state').textContent = state.on ? `It starts hidden in the tray (${state.place}).` : '';
  showError('login-problem', state.problem && `It will not start at login: ${state.problem}.`);
}

async function renderLogin() {
  try { showLogin(await invoke('start_at_login')); } catch (e) { showError('login-problem', `Could not tell whether it starts at login: ${e}`); }
}

async function setLogin() {
  const on = $('set-login').checked;
  try {
    showLogin(await invoke('set_start_at_login', { on }));
  } catch (e) {
    const now = await invoke('start_at_login').catch(() => null);
    if (now) showLogin(now);
    showError('login-problem', `Could not turn starting at login ${on ? 'on' : 'off'}: ${e}`);
  }
}

async function saveSettings() {
  if (!loadedSettings) return; // nothing was read yet: there is nothing to change
  const settings = {
    ...loadedSettings,
    version: 1,
    defaultLifetimeSecs: Number($('set-lifetime').value),
    networks: [...document.querySelectorAll('#set-networks input')].filter((b) => b.checked).map((b) => b.dataset.network),
    roads: { http: $('set-road-http').checked, extension: $('set-road-extension').checked, deepLink: $('set-road-deepLink').checked },
    paused: $('set-paused').checked,
  };
  try {
    await invoke('save_settings', { settings });
    loadedSettings = settings;
    defaultLifetime = settings.defaultLifetimeSecs;
    showError('settings-problem', null);
    $('settings-saved').hidden = false;
    setTimeout(() => { $('settings-saved').hidden = true; }, 1500);
  } catch (e) {
    showError('settings-problem', e);
  }
  refreshStatus();
}

function lifetimeText(s) {
  if (s % 86400 === 0) return s === 86400 ? '24 hours' : `${s / 86400} days`;
  if (s >= 7200) return `${Math.round(s / 3600)} hours`;
  return `${Math.max(1, Math.round(s / 60))} minutes`;
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
  // Everything the prompt says comes from the core's one renderer (p.sections), the text the
  // terminal approver of `serve` prints too; only the lifetime picker and the raw message are
  // the app's own.
  const section = (kind) => p.sections.find((s) => s.kind === kind);
  const lines = (kind) => section(kind)?.lines ?? [];
  const lineItem = (l) => el('li', { className: l.risk === 'danger' ? 'danger' : '' }, l.text,
    ...(l.flags.length ? [el('span', { className: 'line-flags', textContent: l.flags.join('; ') })] : []));
  const who = $('prompt-who');
  who.replaceChildren();
  const whoText = lines('who')[0]?.text ?? r.who;
  const [name, how] = whoText.split(' — ');
  if (r.verified) who.append(el('strong', { textContent: name }), ` — ${how || ''}`);
  else who.append(el('span', { className: 'unverified', textContent: whoText }));
  $('prompt-where').textContent = lines('where')[0]?.text ?? '';
  // A PKP's Lit Action: the CID that runs and the parameters it gets.
  const action = section('lit_action');
  $('prompt-action').hidden = !action;
  $('prompt-action-title').textContent = action ? action.title : '';
  $('prompt-action-lines').replaceChildren(...lines('lit_action').map(lineItem));
  $('prompt-unavailable').hidden = !section('unavailable');
  $('prompt-unavailable').textContent = lines('unavailable').map((l) => l.text).join(' ');
  $('prompt-flags').replaceChildren(...lines('flags').map((l) => el('li', { className: 'flag', textContent: l.text })));
  // Lines already granted: red where dangerous and approving makes them last longer.
  const already = section('extended') || section('already_granted');
  $('prompt-already').hidden = !already;
  $('prompt-already-title').textContent = already ? already.title : '';
  $('prompt-already-list').replaceChildren(...(already ? already.lines : []).map(lineItem));
  $('prompt-will-title').hidden = !section('new');
  $('prompt-will-title').textContent = section('new')?.title ?? '';
  $('prompt-new').replaceChildren(...lines('new').map(lineItem));
  $('prompt-not-title').hidden = !section('not_granted');
  $('prompt-not').replaceChildren(...lines('not_granted').map((l) => el('li', { textContent: l.text })));
  const paid = section('paid');
  $('prompt-paid').hidden = !paid;
  $('prompt-paid').textContent = paid ? `${paid.title}: ${paid.lines.map((l) => l.text).join(' ')}` : '';
  const statement = section('statement');
  $('prompt-statement').hidden = !statement;
  $('prompt-statement').textContent = statement ? `${statement.title}: ${statement.lines.map((l) => l.text).join(' ')}` : '';
  // What each request may cost (Naga), red when it is a lot, with what was approved before
  // when that changes; the exact wei behind the disclosure.
  const price = section('price');
  $('prompt-price').hidden = !price;
  $('prompt-price-title').textContent = price ? price.title : '';
  $('prompt-price-lines').replaceChildren(...lines('price').map((l) => {
    const li = lineItem(l);
    if (l.risk === 'danger') li.classList.add('high');
    return li;
  }));
  $('prompt-price-wei').hidden = !r.max_price_wei;
  $('prompt-price-wei').textContent = r.max_price_wei ? `maxPrice: ${r.max_price_wei} wei per request` : '';
  // The lifetimes on offer come with the exact message each one signs: the message shown is
  // always the one for the lifetime selected.
  const asked = r.lifetime.secs;
  const choices = r.lifetime_choices;
  const preselect = asked > defaultLifetime ? choices.filter((c) => c.secs <= defaultLifetime).pop()?.secs ?? asked : asked;
  const lifetime = $('prompt-lifetime');
  lifetime.replaceChildren(...choices.map((c) => el('option', {
    value: String(c.secs),
    textContent: c.secs === asked ? `${lifetimeText(c.secs)} (asked)` : lifetimeText(c.secs),
    selected: c.secs === preselect,
  })));
  const showMessage = () => {
    const chosen = choices.find((c) => String(c.secs) === lifetime.value);
    $('prompt-raw').textContent = chosen ? chosen.siwe : '(no message)';
  };
  lifetime.onchange = showMessage;
  showMessage();
  $('prompt-until').textContent = lines('lifetime').map((l) => (l.flags.length ? `${l.text} — ${l.flags.join('; ')}` : l.text)).join(' ');
  const approve = $('prompt-approve');
  const reject = $('prompt-reject');
  // Reject is the default when anything approving changes is dangerous (a new line, or one
  // already granted that approving makes last longer).
  approve.className = p.dangerous ? 'danger-outline' : 'primary';
  reject.className = p.dangerous ? 'primary' : '';
  // A request nobody can carry out (no such wallet, a browser wallet this road cannot reach)
  // is only rejected: the page learns why after the answer.
  approve.hidden = Boolean(r.unavailable);
  if (r.unavailable) reject.className = 'primary';
  approve.disabled = true;
  reject.disabled = true;
  $('prompt').hidden = false;
  // Neither button has focus: a keypress meant for another app answers nothing.
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  // No click-through: this prompt's buttons wake once it has been visible in a focused window
  // for half a second without a break. The timer belongs to this prompt: a newer prompt (or
  // none) stops it.
  delete $('prompt').dataset.awake;
  delete $('prompt').dataset.wokeAfterMs;
  wakeButtons(p.id, [approve, reject]);
  approve.onclick = async () => {
    approve.disabled = true;
    reject.disabled = true;
    await invoke('answer_prompt', { id: p.id, approve: true, lifetimeSeconds: Number($('prompt-lifetime').value) });
    shownPrompt = null;
    await renderPrompt();
    show(screen);
  };
  reject.onclick = async () => {
    approve.disabled = true;
    reject.disabled = true;
    await invoke('answer_prompt', { id: p.id, approve: false });
    shownPrompt = null;
    await renderPrompt();
  };
}

function readFile(input) {
  const f = input.files && input.files[0];
  if (!f) return Promise.resolve(null);
  return f.text().then((t) => { input.value = ''; return t.trim(); });
}

async function importFrom(keyInput, fileInput, label) {
  const fromFile = await readFile(fileInput);
  const key = fromFile || keyInput.value;
  keyInput.value = '';
  if (!key) throw new Error('Paste a private key or choose a file that holds one.');
  return invoke('import_wallet', { key, label });
}

async function firstRunAction(fn) {
  showError('first-run-error', null);
  try {
    await fn();
    await show('sessions');
  } catch (e) {
    showError('first-run-error', e);
  }
}

$('first-external').onclick = () => firstRunAction(() => invoke('add_external_wallet', { address: $('first-external-address').value.trim(), label: $('first-external-label').value }));
$('first-run-skip').onclick = finishSetup;
$('create-wallet').onclick = () => firstRunAction(() => invoke('create_wallet', { label: $('new-label').value }));
$('import-wallet').onclick = () => firstRunAction(() => importFrom($('import-key'), $('import-file'), $('import-label').value));
$('add-external').onclick = async () => {
  try {
    await invoke('add_external_wallet', { address: $('external-address').value.trim(), label: $('external-label').value });
    $('external-address').value = '';
    showError('wallet-error', null);
    show('wallets');
  } catch (e) { showError('wallet-error', e); }
};
$('add-pkp').onclick = async () => {
  // On a refusal everything typed stays as it was, with the reason under it.
  try {
    await invoke('add_pkp', { publicKey: $('pkp-key').value.trim(), auth: $('pkp-auth').value, label: $('pkp-label').value });
    $('pkp-key').value = '';
    showError('pkp-error', null);
    show('wallets');
  } catch (e) { showError('pkp-error', e); }
};
$('add-wallet').onclick = async () => {
  try { await invoke('create_wallet', { label: $('add-label').value }); showError('wallet-error', null); show('wallets'); } catch (e) { showError('wallet-error', e); }
};
$('add-import').onclick = async () => {
  try { await importFrom($('add-key'), $('add-file'), $('add-label').value); showError('wallet-error', null); show('wallets'); } catch (e) { showError('wallet-error', e); }
};
$('revoke-all').onclick = async () => {
  if (confirm('Revoke every session of every site?')) { await invoke('revoke', {}); renderSessions(); }
};
for (const id of ['set-paused', 'set-road-http', 'set-road-extension', 'set-road-deepLink', 'set-lifetime']) $(id).onchange = saveSettings;
$('set-login').onchange = setLogin;
$('net-add').onclick = addNetwork;
$('pairing-new').onclick = async () => {
  try {
    const token = await invoke('create_pairing', { name: $('pairing-name').value });
    $('pairing-token').hidden = false;
    $('pairing-token').textContent = `Token for ${$('pairing-name').value.trim()} (copy it now; it is not shown again):\n${token}`;
    showError('pairing-error', null);
    renderSettings();
  } catch (e) {
    showError('pairing-error', e);
  }
};
// Which browsers the extension's host is set up for (only browsers installed here get it).
async function renderHostBrowsers() {
  try {
    const names = await invoke('browser_hosts');
    $('host-browsers').textContent = names.length
      ? `Set up for ${names.join(', ')}. Browsers installed later: "Set up for my browsers".`
      : 'Not set up for any browser yet: no supported browser was found when Lit Companion first started.';
  } catch (e) {
    $('host-browsers').textContent = String(e);
  }
}
async function hostAction(command) {
  let lines;
  try {
    const out = await invoke(command);
    lines = command === 'install_browser_host'
      ? [...out.map((f) => ({ ok: true, line: `Installed ${f}` })), ...(await invoke('browser_doctor'))]
      : out;
  } catch (e) {
    lines = [{ ok: false, line: String(e) }];
  }
  $('host-findings').replaceChildren(...lines.map((f) => el('li', { className: f.ok ? 'ok' : 'error', textContent: `${f.ok ? '✓' : '✗'} ${f.line}` })));
  renderHostBrowsers();
}
$('update-check').onclick = async () => {
  $('update-result').textContent = 'Checking…';
  try {
    const u = await invoke('check_update');
    $('update-install').hidden = !u.available;
    $('update-result').textContent = u.available ? `Version ${u.version} is available.` : `Version ${u.version} is the latest.`;
  } catch (e) {
    $('update-result').textContent = String(e);
  }
};
$('update-install').onclick = async () => {
  $('update-result').textContent = 'Downloading and checking the signature…';
  try { await invoke('install_update'); } catch (e) { $('update-result').textContent = String(e); }
};
$('host-install').onclick = () => hostAction('install_browser_host');
$('host-check').onclick = () => hostAction('browser_doctor');
for (const t of document.querySelectorAll('.tab')) t.onclick = () => show(t.dataset.screen);
listen('prompts-changed', () => renderPrompt());
listen('status-changed', () => { refreshStatus(); if (screen === 'settings') renderSettings(); });
setInterval(tickCountdowns, 1000);
setInterval(() => { if (screen === 'sessions' && $('prompt').hidden) renderSessions(); }, 30000);
invoke('settings').then(({ settings }) => { defaultLifetime = settings.defaultLifetimeSecs; }).catch(() => {});
refreshStatus();
show('sessions');
renderPrompt();
