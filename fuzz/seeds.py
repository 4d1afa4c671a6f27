#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/seeds/TARGET/) from the golden vectors and test
fixtures: the EIP-4361 vectors, the official SDK's sessionSigs and AuthSig, the bridge protocol's
envelopes, the end-to-end suites' policy. Run it again when those change; the output is committed."""
import base64, hashlib, json, os, re, struct, sys, urllib.parse

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "seeds")


def load(path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


vectors = json.loads(load("crates/session/tests/vectors/eip4361.json"))
fixtures = ["tests/sdk/fixtures/%s.json" % n for n in
            ("v7-sessionSigs", "v8-sessionSigs", "v8-default-maxprice-sessionSigs")]
sigs = [json.loads(load(f))["sessionSigs"] for f in fixtures]
for n in ("v7", "v8"):
    for v in json.loads(load("tests/sdk/fixtures/%s-sessionSigs.tampered.json" % n))["variants"]:
        if isinstance(v.get("sessionSigs"), dict):
            sigs.append(v["sessionSigs"])
    sigs.append({"http://127.0.0.1:7470": json.loads(load("tests/sdk/fixtures/%s-entry.json" % n))["entry"]})
authsig = json.loads(load("tests/sdk/fixtures/golden-v7-authsig.json"))["authSig"]

# SIWE: the EIP-4361 vectors, the SDK's session message, and every signed message in the fixtures.
siwe = [v if isinstance(v, str) else v.get("message", "") for v in vectors["positive"].values()]
siwe += [v if isinstance(v, str) else v.get("message", "") for v in vectors["negative"].values()]
siwe.append(load("crates/session/tests/vectors/sdk_v7_session_siwe.txt"))
for m in sigs:
    for entry in m.values():
        inner = json.loads(entry["signedMessage"])
        for cap in inner.get("capabilities", []):
            siwe.append(cap["signedMessage"])
siwe.append(authsig["signedMessage"])
for s in siwe:
    if s:
        put("siwe_explain", s)
put("siwe_explain", json.dumps(authsig))

# ReCap: every urn:recap: resource in those messages.
for s in siwe:
    for urn in re.findall(r"urn:recap:[A-Za-z0-9_-]+", s or ""):
        put("recap_decode", urn)

# sessionSigs maps, whole.
for m in sigs:
    put("session_sig_verify", json.dumps(m))

# Envelopes, as the bridge protocol documents them.
requests = [
    {"resource": {"resource": "*", "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"},
    {"resource": {"resource": "QmHash", "resourcePrefix": "lit-litaction"}, "ability": "lit-action-execution"},
]
envelopes = [
    {"v": 1, "id": "a", "method": "getSessionSigs",
     "params": {"network": "sim-datil", "resourceAbilityRequests": requests}},
    {"v": 1, "id": 7, "method": "getSessionSigs",
     "params": {"network": "sim-datil", "resourceAbilityRequests": requests[:1],
                "nodeUrls": ["http://127.0.0.1:9"], "expiration": "2026-11-25T12:00:00Z",
                "statement": "Hello", "maxPrice": "1000"}},
    {"v": 1, "id": "b", "method": "getSessionSigs",
     "params": {"network": "naga-dev", "resourceAbilityRequests": requests,
                "capabilityAuthSigs": [authsig]}},
    {"v": 1, "id": "c", "method": "listGrants"},
    {"v": 1, "id": "d", "method": "disconnect"},
    {"v": 2, "id": "e", "method": "listGrants"},
]
for e in envelopes:
    put("envelope_decode", json.dumps(e))

# Whole HTTP requests (the target's router answers on port 7471; `$TOKEN` is its pairing token).
for e in envelopes:
    put("http_request", "POST /v1/request\nHost: 127.0.0.1:7471\nContent-Type: application/json\n"
        "Authorization: Bearer $TOKEN\n\n" + json.dumps(e))
put("http_request", "POST /v1/request\nHost: 127.0.0.1:7471\nOrigin: https://app.example.com\n"
    "Content-Type: application/json\n\n" + json.dumps(envelopes[0]))
put("http_request", "OPTIONS /v1/request\nHost: 127.0.0.1:7471\nOrigin: https://app.example.com\n"
    "Access-Control-Request-Method: POST\n\n")
put("http_request", "GET /v1/status\nHost: localhost:7471\n\n")
put("http_request", "GET /v1/pending/abc\nHost: 127.0.0.1:7471\nAuthorization: Bearer $TOKEN\n\n")
put("http_request", "POST /v1/request\nHost: evil.example\nAuthorization: Bearer $TOKEN\n\n{}")

# Native-messaging frames: one or two host messages, a frame over the cap, a short frame.
def frame(body):
    return struct.pack("=I", len(body)) + body

for e in envelopes[:3]:
    body = json.dumps({"origin": "https://app.example.com", "envelope": e}).encode()
    put("native_frame", frame(body))
    put("native_frame", frame(body) + frame(b"{}"))
put("native_frame", struct.pack("=I", 2 * 1024 * 1024) + b"{}")
put("native_frame", struct.pack("=I", 10) + b"{}")

# Deep links: valid at 2026-11-24T12:00:00Z (the target's clock), expiring five minutes later.
exp = 1795521900
# RFC 7748 section 6.1, Alice's public key (the target holds the private key to open answers).
page_key = base64.urlsafe_b64encode(bytes.fromhex(
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")).decode().rstrip("=")
for e in envelopes[:4]:
    q = urllib.parse.urlencode({
        "req": base64.urlsafe_b64encode(json.dumps(e).encode()).decode().rstrip("="),
        "origin": "https://app.example.com", "callback": "https://app.example.com/back?x=1",
        "nonce": "nonce-0123456789abcdef", "exp": str(exp), "pk": page_key})
    put("deeplink_parse", "lit-companion://session?" + q)
q = urllib.parse.urlencode({"req": base64.urlsafe_b64encode(b'{"v":1,"id":"l","method":"listGrants"}').decode(),
                            "origin": "http://localhost:5173", "callback": "http://localhost:5173/cb",
                            "nonce": "abcdefghijklmnop", "exp": str(exp - 200), "pk": page_key})
put("deeplink_parse", "lit-companion://session?" + q)

# Policies: the end-to-end suites' rules.
rules = [
    {"origin": "pairing:e2e", "networks": ["sim-datil", "sim-naga"],
     "resources": ["lit-pkp://*", "lit-litaction://*"], "maxLifetimeSeconds": 86400},
    {"origin": "https://app.example.com", "resources": ["lit-pkp://*"], "maxLifetimeSeconds": 86400},
    {"origin": "https://other.example", "resources": ["lit-pkp://*"], "abilities": ["pkp-signing"],
     "allowUnverified": True, "allowWildcards": True, "maxPrice": "1000000"},
]
put("policy_load", json.dumps({"version": 1, "rules": rules}, indent=2))
put("policy_load", json.dumps({"version": 1, "rules": []}))

# Settings: the defaults, and with a custom network and a price cap.
settings = {"version": 1, "defaultLifetimeSecs": 86400, "networks": ["datil-dev", "naga-dev"],
            "roads": {"http": True, "extension": True, "deepLink": True}, "paused": False}
put("settings_load", json.dumps(settings, indent=2))
put("settings_load", json.dumps(dict(settings, customNetworks=[
    {"name": "sim-datil", "generation": "datil", "nodes": ["http://127.0.0.1:7470"]}],
    priceCaps={"naga-dev": "1000000000000000000"}), indent=2))

# Metadata: files written by the vault (fuzz/seeds/metadata_load holds some from real runs;
# this adds the empty index).
put("metadata_load", json.dumps({"version": 1}))
print("seeds written under", out, file=sys.stderr)

# PKP sessions: the published BLS shares and a node's whole answer, the AuthSig sig form.
bls = json.loads(load("crates/session/tests/vectors/bls.json"))
for share in bls["nagaThreeShares"]["shares"]:
    put("pkp_decode", share)
for share in bls["datilThreeSharesAndSignature"]["sharesHex"]:
    put("pkp_decode", json.dumps({"ProofOfPossession": share}))
answer = bls["litPeerSignSessionKeyV2"]["response"]
put("pkp_decode", json.dumps(answer["data"]["signatureShare"]))
put("pkp_decode", answer["data"]["siweMessage"])
put("pkp_decode", json.dumps({"ProofOfPossession": "a" * 192}))
