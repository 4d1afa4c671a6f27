// The loopback HTTP transport against a real node:http server that speaks docs/bridge-protocol.md
// with scripted answers, plus validation, abort, timeout and transport fall-through.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import {
  requestSessionSigs,
  listGrants,
  disconnect,
  detectExtension,
  readDeepLinkResult,
  CompanionError,
  ErrorCodes,
  ErrorNames,
} from '../index.js';
import { startCompanion } from './companion.js';

// --- helpers -------------------------------------------------------------------------------------

/** A port on which nothing listens (a server was bound there and closed). */
async function deadPort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const PKP = '0x3f9a0d9f2b5ff6bb2d1e0d6c4d3f3e1a9a2b4c6d8e0f1a2b3c4d5e6f7a8b9c0d';
const params = () => ({
  network: 'datil',
  resourceAbilityRequests: [{ resource: { resource: PKP, resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }],
  nodeUrls: ['https://node1.example:7470', 'https://node2.example:7470'],
});
const RESULT = {
  sessionSigs: {
    'https://node1.example:7470': {
      sig: 'ab'.repeat(64),
      derivedVia: 'litSessionSignViaNacl',
      signedMessage: '{"sessionKey":"…"}',
      address: 'cd'.repeat(32),
      algo: 'ed25519',
    },
  },
  wallet: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A',
  sessionKey: 'cd'.repeat(32),
  expiration: '2030-01-01T00:00:00.000Z',
  reused: false,
};
const ok = (req, result = RESULT) => ({ status: 200, json: { v: 1, id: req.json.id, result } });
const fail = (req, code, status = 400, message = `scripted ${code}`) => ({
  status,
  json: { v: 1, id: req.json.id, error: { code, name: ErrorNames[code] ?? 'whatever', message } },
});
const FAST = { transports: ['http'], pollIntervalMs: 0 };

async function rejectsWith(promise, code, name) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof CompanionError, `expected a CompanionError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (name) assert.equal(e.name, name);
    return true;
  });
}

// --- answers -------------------------------------------------------------------------------------

describe('HTTP transport', () => {
  test('a 200 answer resolves the result; the request is a v1 envelope without Origin or Authorization', async () => {
    const c = await startCompanion((req) => ok(req));
    try {
      const out = await requestSessionSigs(params(), { ...FAST, port: c.port });
      assert.deepEqual(out, RESULT);
      assert.equal(c.requests.length, 1);
      const [req] = c.requests;
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/v1/request');
      assert.match(req.headers['content-type'], /^application\/json/);
      assert.equal(req.headers.host, `127.0.0.1:${c.port}`);
      assert.equal(req.headers.origin, undefined);
      assert.equal(req.headers.authorization, undefined);
      assert.equal(req.json.v, 1);
      assert.equal(req.json.method, 'getSessionSigs');
      assert.match(req.json.id, /^[0-9a-f-]{32,36}$/);
      assert.ok(req.json.id.length <= 128);
      assert.deepEqual(req.json.params, params());
    } finally {
      await c.close();
    }
  });

  test('ids differ between requests', async () => {
    const c = await startCompanion((req) => ok(req));
    try {
      await requestSessionSigs(params(), { ...FAST, port: c.port });
      await requestSessionSigs(params(), { ...FAST, port: c.port });
      assert.notEqual(c.requests[0].json.id, c.requests[1].json.id);
    } finally {
      await c.close();
    }
  });

  test('params are normalized: Date expiration, SDK resource objects, undefined fields, bigint maxPrice', async () => {
    const c = await startCompanion((req) => ok(req));
    class LitPKPResource {
      constructor(resource) {
        this.resource = resource;
      }
      get resourcePrefix() {
        return 'lit-pkp';
      }
      getResourceKey() {
        return `lit-pkp://${this.resource}`;
      }
    }
    try {
      const expiration = new Date(Date.now() + 60 * 60 * 1000);
      const authSig = { sig: '0xaa', derivedVia: 'web3.eth.personal.sign', signedMessage: 'msg', address: '0xabc' };
      await requestSessionSigs(
        {
          network: 'naga-dev',
          resourceAbilityRequests: [{ resource: new LitPKPResource('*'), ability: 'pkp-signing' }],
          expiration,
          capabilityAuthSigs: [authSig],
          statement: 'Sign in to Example',
          maxPrice: 10n ** 18n,
          wallet: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A',
          nodeUrls: undefined,
        },
        { ...FAST, port: c.port },
      );
      assert.deepEqual(c.requests[0].json.params, {
        network: 'naga-dev',
        resourceAbilityRequests: [{ resource: { resource: '*', resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }],
        expiration: expiration.toISOString(),
        capabilityAuthSigs: [authSig],
        statement: 'Sign in to Example',
        maxPrice: '1000000000000000000',
        wallet: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A',
      });
      const text = new Date(Date.now() + 3600e3).toISOString().replace(/\.\d+Z$/, 'Z');
      await requestSessionSigs({ ...params(), expiration: text }, { ...FAST, port: c.port });
      assert.equal(c.requests[1].json.params.expiration, text);
    } finally {
      await c.close();
    }
  });

  test('202 {pending} is long-polled at GET /v1/pending/<ticket> until the 200 answer', async () => {
    const c = await startCompanion((req, n) => {
      if (n === 0) return { status: 202, json: { v: 1, id: req.json.id, pending: 'tick/et 1' } };
      const id = c.requests[0].json.id;
      if (n === 1) return { status: 202, json: { v: 1, id, pending: 'tick/et 1' } };
      return { status: 200, json: { v: 1, id, result: RESULT } };
    });
    try {
      const out = await requestSessionSigs(params(), { ...FAST, port: c.port });
      assert.deepEqual(out, RESULT);
      assert.equal(c.requests.length, 3);
      for (const poll of c.requests.slice(1)) {
        assert.equal(poll.method, 'GET');
        assert.equal(poll.url, `/v1/pending/${encodeURIComponent('tick/et 1')}`);
        assert.equal(poll.headers.authorization, undefined);
      }
    } finally {
      await c.close();
    }
  });

  test('polls are spaced by pollIntervalMs', async () => {
    const c = await startCompanion((req, n) => {
      const id = c.requests[0].json.id;
      if (n < 3) return { status: 202, json: { v: 1, id, pending: 't' } };
      return { status: 200, json: { v: 1, id, result: RESULT } };
    });
    try {
      const started = Date.now();
      await requestSessionSigs(params(), { transports: ['http'], port: c.port, pollIntervalMs: 60 });
      assert.ok(Date.now() - started >= 3 * 60 - 5, 'three polls at least 60 ms apart');
    } finally {
      await c.close();
    }
  });

  test('a polled error envelope (the approval was withdrawn) rejects with its code', async () => {
    const c = await startCompanion((req, n) => {
      const id = c.requests[0].json.id;
      if (n === 0) return { status: 202, json: { v: 1, id, pending: 't' } };
      return { status: 408, json: { v: 1, id: null, error: { code: 4408, name: 'request_expired', message: 'withdrawn' } } };
    });
    try {
      await rejectsWith(requestSessionSigs(params(), { ...FAST, port: c.port }), 4408, 'request_expired');
    } finally {
      await c.close();
    }
  });

  describe('each error envelope maps to its CompanionError', () => {
    const table = [
      // The HTTP statuses the bridge uses, plus 200 (the status never decides the code).
      [ErrorCodes.USER_REJECTED, 'user_rejected', 403],
      [ErrorCodes.USER_REJECTED, 'user_rejected', 200],
      [ErrorCodes.UNAUTHORIZED, 'unauthorized', 401],
      [ErrorCodes.UNAUTHORIZED, 'unauthorized', 421],
      [ErrorCodes.UNSUPPORTED, 'unsupported', 400],
      [ErrorCodes.DISCONNECTED, 'disconnected', 503],
      [ErrorCodes.BAD_REQUEST, 'bad_request', 400],
      [ErrorCodes.REQUEST_EXPIRED, 'request_expired', 408],
      [ErrorCodes.TOO_LARGE, 'too_large', 413],
      [ErrorCodes.RATE_LIMITED, 'rate_limited', 429],
      [ErrorCodes.KEYCHAIN_UNAVAILABLE, 'keychain_unavailable', 503],
      [ErrorCodes.NETWORK_UNAVAILABLE, 'network_unavailable', 502],
      [ErrorCodes.NO_WALLET, 'no_wallet', 409],
      [ErrorCodes.INTERNAL, 'internal', 500],
    ];
    let c;
    let script;
    test('start', async () => {
      c = await startCompanion((req) => script(req));
    });
    for (const [code, name, status] of table) {
      test(`${code} ${name} (HTTP ${status})`, async () => {
        script = (req) => fail(req, code, status, `the message for ${code}`);
        await assert.rejects(requestSessionSigs(params(), { ...FAST, port: c.port }), (e) => {
          assert.ok(e instanceof CompanionError);
          assert.ok(e instanceof Error);
          assert.equal(e.code, code);
          assert.equal(e.name, name);
          assert.equal(e.message, `the message for ${code}`);
          return true;
        });
      });
    }
    test('an unknown code keeps its code and the companion’s name', async () => {
      script = (req) => ({ status: 400, json: { v: 1, id: req.json.id, error: { code: 4777, name: 'new_thing', message: 'm' } } });
      await rejectsWith(requestSessionSigs(params(), { ...FAST, port: c.port }), 4777, 'new_thing');
    });
    test('an error envelope with a null id (body unreadable) still maps', async () => {
      script = () => ({ status: 413, json: { v: 1, id: null, error: { code: 4413, name: 'too_large', message: 'big' } } });
      await rejectsWith(requestSessionSigs(params(), { ...FAST, port: c.port }), 4413, 'too_large');
    });
    test('a missing message gets a plain default', async () => {
      script = (req) => ({ status: 200, json: { v: 1, id: req.json.id, error: { code: 4001, name: 'user_rejected' } } });
      await assert.rejects(requestSessionSigs(params(), { ...FAST, port: c.port }), /rejected/);
    });
    after(() => c?.close());
  });

  describe('unexpected answers → 5000 internal', () => {
    const cases = [
      ['non-JSON (another program on the port)', () => ({ status: 404, text: '<html>not found</html>' })],
      ['non-JSON 200', () => ({ status: 200, text: 'hello' })],
      ['a 200 that is not an envelope', () => ({ status: 200, json: { hello: 'world' } })],
      ['both result and error', (req) => ({ status: 200, json: { v: 1, id: req.json.id, result: RESULT, error: { code: 4001 } } })],
      ['another id', (req) => ({ status: 200, json: { v: 1, id: `${req.json.id}x`, result: RESULT } })],
      ['another protocol version', (req) => ({ status: 200, json: { v: 2, id: req.json.id, result: RESULT } })],
      ['a result of the wrong shape', (req) => ({ status: 200, json: { v: 1, id: req.json.id, result: { sessionSigs: 'x' } } })],
      ['202 without a ticket', (req) => ({ status: 202, json: { v: 1, id: req.json.id } })],
      ['a 500 without an envelope', () => ({ status: 500, json: { oops: true } })],
      ['a 404 JSON without an envelope', () => ({ status: 404, json: { message: 'no route' } })],
      ['a redirect (never followed)', () => ({ status: 307, headers: { location: 'http://127.0.0.1:9/v1/request' }, text: '' })],
    ];
    for (const [label, answer] of cases) {
      test(label, async () => {
        const c = await startCompanion(answer);
        try {
          await rejectsWith(requestSessionSigs(params(), { ...FAST, port: c.port }), 5000, 'internal');
        } finally {
          await c.close();
        }
      });
    }
  });

  test('listGrants and disconnect send their methods without params and resolve their results', async () => {
    const grants = [{ network: 'datil', wallet: RESULT.wallet, sessionKey: RESULT.sessionKey, expiresAt: 'x', granted: [], mayDo: ['sign'] }];
    const c = await startCompanion((req) =>
      req.json.method === 'listGrants' ? ok(req, { grants }) : ok(req, { revoked: 2 }),
    );
    try {
      assert.deepEqual(await listGrants({ ...FAST, port: c.port }), { grants });
      assert.deepEqual(await disconnect({ ...FAST, port: c.port }), { revoked: 2 });
      assert.deepEqual(
        c.requests.map((r) => [r.json.method, 'params' in r.json]),
        [
          ['listGrants', false],
          ['disconnect', false],
        ],
      );
    } finally {
      await c.close();
    }
  });

  test('an injected fetch is used', async () => {
    const calls = [];
    const fakeFetch = async (url, init) => {
      calls.push([url, init.method]);
      const { id } = JSON.parse(init.body);
      return new Response(JSON.stringify({ v: 1, id, result: { revoked: 0 } }), { status: 200 });
    };
    const out = await disconnect({ transports: ['http'], fetch: fakeFetch, port: 1234, host: 'localhost' });
    assert.deepEqual(out, { revoked: 0 });
    assert.deepEqual(calls, [['http://localhost:1234/v1/request', 'POST']]);
  });
});

// --- the pairing token -----------------------------------------------------------------------------

describe('Authorization header', () => {
  test('sent as Bearer <token> on the request and on every poll when a token is given', async () => {
    const c = await startCompanion((req, n) => {
      const id = c.requests[0].json.id;
      if (n < 2) return { status: 202, json: { v: 1, id, pending: 'p' } };
      return { status: 200, json: { v: 1, id, result: RESULT } };
    });
    try {
      await requestSessionSigs(params(), { ...FAST, port: c.port, token: 'pair-ABC.123' });
      assert.equal(c.requests.length, 3);
      for (const r of c.requests) {
        assert.equal(r.headers.authorization, 'Bearer pair-ABC.123');
        assert.equal(r.headers.origin, undefined);
      }
    } finally {
      await c.close();
    }
  });

  test('never sent without a token', async () => {
    let id;
    const c = await startCompanion((req) => {
      if (req.method === 'POST') {
        id = req.json.id;
        return { status: 202, json: { v: 1, id, pending: 'p' } };
      }
      return { status: 200, json: { v: 1, id, result: { grants: [] } } };
    });
    try {
      await listGrants({ ...FAST, port: c.port });
      await listGrants({ ...FAST, port: c.port, token: undefined });
      assert.equal(c.requests.length, 4);
      for (const r of c.requests) assert.equal(r.headers.authorization, undefined);
    } finally {
      await c.close();
    }
  });
});

// --- not running, fall-through ------------------------------------------------------------------------

describe('transport fall-through', () => {
  test('connection refused → 4900 disconnected, telling the user to start Lit Companion', async () => {
    const port = await deadPort();
    await assert.rejects(requestSessionSigs(params(), { transports: ['http'], port }), (e) => {
      assert.ok(e instanceof CompanionError);
      assert.equal(e.code, 4900);
      assert.equal(e.name, 'disconnected');
      assert.match(e.message, /Start Lit Companion/);
      return true;
    });
  });

  test('in Node the default order skips the extension and deep links: http answers; all refused → 4900', async () => {
    const c = await startCompanion((req) => ok(req));
    try {
      assert.deepEqual(await requestSessionSigs(params(), { port: c.port, pollIntervalMs: 0 }), RESULT);
    } finally {
      await c.close();
    }
    await rejectsWith(requestSessionSigs(params(), { port: await deadPort() }), 4900, 'disconnected');
    await rejectsWith(requestSessionSigs(params(), { transports: ['deeplink'] }), 4900, 'disconnected');
  });

  /** Installs a fake window with an injected extension provider for the duration of `fn`. */
  async function withExtension(request, fn) {
    const calls = [];
    globalThis.window = Object.assign(new EventTarget(), {
      litCompanion: {
        info: { name: 'Lit Companion', version: '0.1.0', protocol: [1] },
        request: async (envelope) => {
          calls.push(envelope);
          return request(envelope);
        },
      },
    });
    try {
      await fn(calls);
    } finally {
      delete globalThis.window;
    }
  }

  test('HTTP connection refused falls through to the next transport', async () => {
    const port = await deadPort();
    await withExtension(
      (env) => ({ v: 1, id: env.id, result: RESULT }),
      async (calls) => {
        const out = await requestSessionSigs(params(), { transports: ['http', 'extension'], port });
        assert.deepEqual(out, RESULT);
        assert.equal(calls.length, 1);
        assert.equal(calls[0].method, 'getSessionSigs');
      },
    );
  });

  test('no extension falls through to HTTP', async () => {
    const c = await startCompanion((req) => ok(req));
    globalThis.window = new EventTarget(); // a page without the extension
    try {
      const out = await requestSessionSigs(params(), {
        transports: ['extension', 'http'],
        port: c.port,
        extensionTimeoutMs: 20,
      });
      assert.deepEqual(out, RESULT);
      assert.equal(c.requests.length, 1);
    } finally {
      delete globalThis.window;
      await c.close();
    }
  });

  test('a user rejection over HTTP does NOT fall through', async () => {
    const c = await startCompanion((req) => fail(req, 4001, 200));
    try {
      await withExtension(
        (env) => ({ v: 1, id: env.id, result: RESULT }),
        async (calls) => {
          await rejectsWith(
            requestSessionSigs(params(), { transports: ['http', 'extension'], port: c.port }),
            4001,
            'user_rejected',
          );
          assert.equal(calls.length, 0);
        },
      );
    } finally {
      await c.close();
    }
  });

  test('a user rejection in the extension does NOT fall through to HTTP', async () => {
    const c = await startCompanion((req) => ok(req));
    try {
      await withExtension(
        (env) => ({ v: 1, id: env.id, error: { code: 4001, name: 'user_rejected', message: 'no' } }),
        async (calls) => {
          await rejectsWith(
            requestSessionSigs(params(), { transports: ['extension', 'http'], port: c.port }),
            4001,
            'user_rejected',
          );
          assert.equal(calls.length, 1);
          assert.equal(c.requests.length, 0);
        },
      );
    } finally {
      await c.close();
    }
  });

  test('any answered error (paused bridge 4900, garbage 5000) does NOT fall through', async () => {
    for (const answer of [(req) => fail(req, 4900, 503), () => ({ status: 404, text: 'nope' })]) {
      const c = await startCompanion(answer);
      try {
        await withExtension(
          (env) => ({ v: 1, id: env.id, result: RESULT }),
          async (calls) => {
            await assert.rejects(requestSessionSigs(params(), { transports: ['http', 'extension'], port: c.port }), CompanionError);
            assert.equal(calls.length, 0);
          },
        );
      } finally {
        await c.close();
      }
    }
  });

  test('the companion going away while polling → 4900, no fall-through', async () => {
    const c = await startCompanion((req, n) =>
      n === 0 ? { status: 202, json: { v: 1, id: req.json.id, pending: 't' } } : 'destroy',
    );
    try {
      await withExtension(
        (env) => ({ v: 1, id: env.id, result: RESULT }),
        async (calls) => {
          await rejectsWith(
            requestSessionSigs(params(), { transports: ['http', 'extension'], port: c.port, pollIntervalMs: 0 }),
            4900,
            'disconnected',
          );
          assert.equal(calls.length, 0);
        },
      );
    } finally {
      await c.close();
    }
  });
});

// --- validation ------------------------------------------------------------------------------------

const PKP_KEY = `0x04${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}${'483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8'}`;
const ACTION_CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';

test('a PKP request goes on the wire with its PKP and Lit Action fields as given', async () => {
  const c = await startCompanion((req) => ok(req));
  try {
    const extra = { pkpPublicKey: PKP_KEY, litActionIpfsId: ACTION_CID, jsParams: { amount: 1 } };
    await requestSessionSigs({ ...params(), ...extra }, { ...FAST, port: c.port });
    const sent = c.requests[0].json.params;
    assert.equal(sent.pkpPublicKey, PKP_KEY);
    assert.equal(sent.litActionIpfsId, ACTION_CID);
    assert.deepEqual(sent.jsParams, { amount: 1 });
  } finally {
    c.close();
  }
});

describe('client-side validation → 4400 bad_request, nothing sent', () => {
  const future = () => new Date(Date.now() + 3600e3);
  const badParams = [
    ['no params', undefined],
    ['params not an object', 'datil'],
    ['missing network', { ...params(), network: undefined }],
    ['a network name no network can have', { ...params(), network: 'Main Net' }],
    ['unknown field', { ...params(), expiry: future() }],
    ['missing resourceAbilityRequests', { ...params(), resourceAbilityRequests: undefined }],
    ['empty resourceAbilityRequests', { ...params(), resourceAbilityRequests: [] }],
    ['resource without prefix', { ...params(), resourceAbilityRequests: [{ resource: { resource: '*' }, ability: 'pkp-signing' }] }],
    ['resource as a string', { ...params(), resourceAbilityRequests: [{ resource: 'lit-pkp://*', ability: 'pkp-signing' }] }],
    ['missing ability', { ...params(), resourceAbilityRequests: [{ resource: { resource: '*', resourcePrefix: 'lit-pkp' } }] }],
    ['nodeUrls not an array', { ...params(), nodeUrls: 'https://node1.example:7470' }],
    ['empty nodeUrls', { ...params(), nodeUrls: [] }],
    ['a nodeUrl that is not http(s)', { ...params(), nodeUrls: ['ftp://node1'] }],
    ['a nodeUrl that is not a URL', { ...params(), nodeUrls: ['node1:7470 x'] }],
    ['an invalid Date', { ...params(), expiration: new Date('nope') }],
    ['a non-RFC 3339 string', { ...params(), expiration: 'tomorrow' }],
    ['a date without time', { ...params(), expiration: '2030-01-01' }],
    ['a number expiration', { ...params(), expiration: Date.now() + 3600e3 }],
    ['expiration in the past', { ...params(), expiration: new Date(Date.now() - 1000) }],
    ['expiration over 30 days', { ...params(), expiration: new Date(Date.now() + 31 * 86400e3) }],
    ['capabilityAuthSigs not an array', { ...params(), capabilityAuthSigs: { sig: 'x' } }],
    ['an AuthSig without sig', { ...params(), capabilityAuthSigs: [{ derivedVia: 'x', signedMessage: 'y', address: 'z' }] }],
    ['statement not a string', { ...params(), statement: 42 }],
    ['statement with a line break', { ...params(), statement: 'one\ntwo' }],
    ['maxPrice negative', { ...params(), maxPrice: '-1' }],
    ['maxPrice decimal', { ...params(), maxPrice: '1.5' }],
    ['maxPrice unsafe number', { ...params(), maxPrice: 2 ** 60 }],
    ['maxPrice over uint256', { ...params(), maxPrice: (1n << 256n).toString() }],
    ['wallet not an address', { ...params(), wallet: 'alice.eth' }],
    ['pkpPublicKey not a public key', { ...params(), pkpPublicKey: '0x1234' }],
    ['pkpPublicKey with a wallet', { ...params(), pkpPublicKey: PKP_KEY, wallet: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A' }],
    ['a Lit Action without a PKP', { ...params(), litActionIpfsId: ACTION_CID }],
    ['litActionIpfsId not a CID', { ...params(), pkpPublicKey: PKP_KEY, litActionIpfsId: 'bafy-not-v0' }],
    ['litActionCode not base64', { ...params(), pkpPublicKey: PKP_KEY, litActionCode: 'Lit.Actions.setResponse()' }],
    ['jsParams without an action', { ...params(), pkpPublicKey: PKP_KEY, jsParams: { a: 1 } }],
    ['jsParams not an object', { ...params(), pkpPublicKey: PKP_KEY, litActionIpfsId: ACTION_CID, jsParams: [1] }],
  ];
  const badOptions = [
    ['options not an object', 'http'],
    ['unknown option', { timeout: 5 }],
    ['empty transports', { transports: [] }],
    ['unknown transport', { transports: ['websocket'] }],
    ['duplicate transports', { transports: ['http', 'http'] }],
    ['port 0', { port: 0 }],
    ['port as a string', { port: '41410' }],
    ['host with a path', { host: '127.0.0.1/evil' }],
    ['empty token', { token: '' }],
    ['token with a line break', { token: 'a\r\nX-Evil: 1' }],
    ['zero timeout', { timeoutMs: 0 }],
    ['signal not an AbortSignal', { signal: {} }],
    ['fetch not a function', { fetch: 'fetch' }],
  ];
  let c;
  test('start', async () => {
    c = await startCompanion((req) => ok(req));
  });
  for (const [label, bad] of badParams) {
    test(`params: ${label}`, async () => {
      await rejectsWith(requestSessionSigs(bad, { ...FAST, port: c.port }), 4400, 'bad_request');
    });
  }
  for (const [label, bad] of badOptions) {
    test(`options: ${label}`, async () => {
      const options = typeof bad === 'object' ? { port: c.port, ...bad } : bad;
      await rejectsWith(requestSessionSigs(params(), options), 4400, 'bad_request');
    });
  }
  test('a request over 64 KiB → 4413 too_large', async () => {
    await rejectsWith(
      requestSessionSigs({ ...params(), statement: 'x'.repeat(70 * 1024) }, { ...FAST, port: c.port }),
      4413,
      'too_large',
    );
  });
  test('nothing reached the companion', () => {
    assert.equal(c.requests.length, 0);
  });
  after(() => c?.close());
});

// --- abort and timeout ------------------------------------------------------------------------------

describe('abort and timeout', () => {
  test('an already aborted signal rejects with its reason and sends nothing', async () => {
    const c = await startCompanion((req) => ok(req));
    try {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(
        requestSessionSigs(params(), { ...FAST, port: c.port, signal: controller.signal }),
        (e) => e.name === 'AbortError',
      );
      assert.equal(c.requests.length, 0);
    } finally {
      await c.close();
    }
  });

  test('aborting while the companion waits for the user rejects with the signal’s reason', async () => {
    const c = await startCompanion(() => 'hang');
    try {
      const controller = new AbortController();
      const reason = new Error('the user closed the dialog');
      const pending = requestSessionSigs(params(), { ...FAST, port: c.port, signal: controller.signal });
      // Abort once the request has arrived (a fixed delay raced the request on a busy machine).
      for (let i = 0; i < 200 && c.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      controller.abort(reason);
      await assert.rejects(pending, (e) => e === reason);
      assert.equal(c.requests.length, 1);
    } finally {
      await c.close();
    }
  });

  test('aborting while long-polling rejects and stops polling', async () => {
    const c = await startCompanion((req, n) =>
      n === 0 ? { status: 202, json: { v: 1, id: req.json.id, pending: 't' } } : 'hang',
    );
    try {
      const controller = new AbortController();
      const pending = requestSessionSigs(params(), { ...FAST, port: c.port, signal: controller.signal });
      setTimeout(() => controller.abort(), 80);
      await assert.rejects(pending, (e) => e.name === 'AbortError');
      const seen = c.requests.length;
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(c.requests.length, seen);
    } finally {
      await c.close();
    }
  });

  test('no answer within timeoutMs → 4408 request_expired', async () => {
    const c = await startCompanion(() => 'hang');
    try {
      const started = Date.now();
      await rejectsWith(requestSessionSigs(params(), { ...FAST, port: c.port, timeoutMs: 150 }), 4408, 'request_expired');
      assert.ok(Date.now() - started >= 140);
    } finally {
      await c.close();
    }
  });

  test('the timeout covers the polling too', async () => {
    const c = await startCompanion((req) => ({ status: 202, json: { v: 1, id: c.requests[0].json.id, pending: 't' } }));
    try {
      await rejectsWith(
        requestSessionSigs(params(), { transports: ['http'], port: c.port, pollIntervalMs: 20, timeoutMs: 200 }),
        4408,
        'request_expired',
      );
      assert.ok(c.requests.length >= 3, `polled ${c.requests.length - 1} times`);
    } finally {
      await c.close();
    }
  });
});

test('outside a browser: detectExtension resolves null, readDeepLinkResult returns null', async () => {
  assert.equal(globalThis.window, undefined);
  assert.equal(await detectExtension(), null);
  assert.equal(await readDeepLinkResult(), null);
});
