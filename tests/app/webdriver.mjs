// A small W3C WebDriver client: just what the desktop-app suite needs, spoken to tauri-driver
// (which hands the session to WebKitWebDriver driving the app's WebKitGTK window).
const ELEMENT = 'element-6066-11e4-a52e-4f735a2c6a3c';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class WebDriver {
  constructor(base) {
    this.base = base;
  }

  async call(method, path, body) {
    if (process.env.WEBDRIVER_TRACE) console.error(`webdriver ${new Date().toISOString()}: ${method} ${path}`);
    // A window that stops answering fails the test instead of hanging it.
    const r = await fetch(`${this.base}${path}`, {
      method,
      signal: AbortSignal.timeout(30000),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) {
      const v = json.value || {};
      throw new Error(`WebDriver ${method} ${path}: ${r.status} ${v.error || ''} ${v.message || ''}`);
    }
    return json.value;
  }

  /** Starts the app. The first request sometimes races the driver's start-up: retried. */
  async start(application) {
    let last;
    for (let i = 0; i < 20; i++) {
      try {
        const v = await this.call('POST', '/session', {
          capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application } } },
        });
        this.session = v.sessionId;
        return;
      } catch (e) {
        last = e;
        await sleep(500);
      }
    }
    throw last;
  }

  async stop() {
    if (this.session) await this.call('DELETE', `/session/${this.session}`).catch(() => {});
    this.session = undefined;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  async find(css) {
    const v = await this.call('POST', this.s('/element'), { using: 'css selector', value: css });
    const id = v && (v[ELEMENT] ?? Object.values(v)[0]);
    if (!id) throw new Error(`no element ${css}: ${JSON.stringify(v)}`);
    return id;
  }

  async click(css) {
    await this.call('POST', this.s(`/element/${await this.find(css)}/click`), {});
  }

  async text(css) {
    return this.call('GET', this.s(`/element/${await this.find(css)}/text`));
  }

  async type(css, text) {
    const id = await this.find(css);
    await this.call('POST', this.s(`/element/${id}/clear`), {});
    await this.call('POST', this.s(`/element/${id}/value`), { text });
  }

  /** Runs `script` (a function body) in the page with `args`. */
  exec(script, ...args) {
    return this.call('POST', this.s('/execute/sync'), { script, args });
  }

  /** Runs `script` whose last argument is the callback, as WebDriver's async execute does. */
  execAsync(script, ...args) {
    return this.call('POST', this.s('/execute/async'), { script, args });
  }

  /** Polls `script` until it returns something truthy; returns that. */
  async until(script, what, timeoutMs = 20000, ...args) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.exec(script, ...args).catch(() => null);
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(40);
    }
  }

  /** The text of the open `alert`/`confirm` dialog, waiting for it to open. */
  async alertText(timeoutMs = 5000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.call('GET', this.s('/alert/text'));
      } catch (e) {
        if (Date.now() > end) throw e;
        await sleep(40);
      }
    }
  }

  /** Answers the open dialog as a person clicking OK would. */
  async acceptAlert() {
    await this.call('POST', this.s('/alert/accept'), {});
  }

  /** Resizes the window (WebDriver "Set Window Rect"). */
  async resize(width, height) {
    return this.call('POST', this.s('/window/rect'), { width, height });
  }

  /** The window as PNG bytes. */
  async screenshot() {
    return Buffer.from(await this.call('GET', this.s('/screenshot')), 'base64');
  }
}
