//! The end-to-end encryption envelope of Naga nodes: every request to a `/…/v2` endpoint and
//! every answer travels sealed to the other side's X25519 key.
//!
//! Wire form (lit-peer `lit-sdk/src/payload.rs` `EncryptedPayload`, a serde enum tagged
//! `version` with content `payload`):
//!
//! ```json
//! {"version":"1","payload":{"verification_key":"<64 hex>","random":"<32 hex>",
//!  "created_at":"<RFC 3339>","ciphertext_and_tag":"<hex>"}}
//! ```
//!
//! - `verification_key`: the **sender's** X25519 public key (the client's on a request, the
//!   node's identity key on an answer).
//! - The box is NaCl `crypto_box` (X25519 + XSalsa20-Poly1305). NaCl has no associated data, so
//!   the header is bound through the nonce: `nonce = SHA-512(0x01 ‖ random ‖
//!   u64_be(created_at, whole Unix seconds) ‖ recipient_pk ‖ sender_pk)[..24]`.
//! - `ciphertext_and_tag` is sodalite's `box_` output: 16 zero bytes ‖ Poly1305 tag ‖
//!   ciphertext. The SDK (naga `packages/crypto/src/lib/E2EE/e2ee.ts` `walletEncrypt`) gets the
//!   same bytes by prefixing TweetNaCl's `tag ‖ ciphertext` with 16 zeros.
//!
//! Where each side is lax we are strict: the 16 leading bytes must be zero (sodalite's
//! `box_open` skips them; the SDK's `walletDecrypt` strips them only when the text is at least
//! 83 bytes long), hex has no `0x`, and a client accepts an answer only from the key it sealed
//! the request to (the SDK looks the secret up by the answer's `verification_key`).
//!
//! Freshness: nodes check nothing about `created_at` (lit-peer `client_state.rs`
//! `json_decrypt` only opens the box); the SDK neither. A node opens with its current identity
//! key, then the previous one after a rotation, and answers with the key that opened the
//! request (lit-peer `client_session.rs`). The SDK takes a node's key from the handshake's
//! `nodeIdentityKey` and makes a fresh client key pair per node for each request context
//! (naga `BaseModuleFactory.createJitContext`).

use std::{fmt, str::FromStr};

use crypto_box::{
    aead::{AeadInPlace, Tag},
    Nonce, PublicKey, SalsaBox, SecretKey,
};
use rand_core::{OsRng, RngCore};
use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha512};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The envelope version this module reads and writes.
pub const VERSION: &str = "1";

/// The version byte that opens the nonce preimage.
const VERSION_BYTE: u8 = 1;
/// Leading zero bytes of sodalite's `box_` output (NaCl `crypto_box_BOXZEROBYTES`).
const BOX_ZERO_BYTES: usize = 16;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;

/// What went wrong with an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum E2eeError {
    /// The envelope is not the version-1 JSON shape (bad hex, wrong lengths, bad time).
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// `created_at` is before 1970: it has no unsigned Unix time to bind into the nonce.
    #[error("created_at is before 1970")]
    CreatedAt,
    /// The box does not open with this key: it was sealed to someone else, or altered.
    #[error("the envelope does not open with this key (another recipient, or altered)")]
    Open,
    /// An answer sealed by another key than the node's the request was sealed to.
    #[error("the answer is sealed by {found}, not by the node key {expected}")]
    Sender {
        /// The node key the request was sealed to.
        expected: IdentityPublic,
        /// The answer's `verification_key`.
        found: IdentityPublic,
    },
    /// The plaintext is not the expected JSON.
    #[error("the opened payload is not the expected JSON: {0}")]
    Json(String),
}

/// An X25519 secret key: a node's identity key, or a client's key for one exchange.
/// Zeroized on drop; its `Debug` shows only the public half.
pub struct IdentitySecret(SecretKey);

impl IdentitySecret {
    /// A fresh key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Self::from_bytes(&bytes)
    }

    /// The key of these 32 bytes (X25519 clamps them when used).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(SecretKey::from(*bytes))
    }

    /// Its public key.
    pub fn public_key(&self) -> IdentityPublic {
        IdentityPublic(*self.0.public_key().as_bytes())
    }
}

impl fmt::Debug for IdentitySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentitySecret")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// An X25519 public key: `verification_key` in an envelope, `nodeIdentityKey` in a handshake.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentityPublic([u8; 32]);

impl IdentityPublic {
    /// The key of these 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lowercase hex digits, no `0x` (the handshake's and the envelope's form).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Parses 64 hex digits; a `0x` prefix is allowed, since the SDK adds one to the handshake's
/// `nodeIdentityKey` before decoding it.
impl FromStr for IdentityPublic {
    type Err = E2eeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        let mut out = [0u8; 32];
        hex::decode_to_slice(digits, &mut out)
            .map_err(|_| E2eeError::Malformed("an X25519 key is 64 hex digits".into()))?;
        Ok(Self(out))
    }
}

impl fmt::Display for IdentityPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for IdentityPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityPublic({})", self.to_hex())
    }
}

/// A sealed message, as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "version", content = "payload")]
pub enum Envelope {
    /// Version 1, the only one nodes know.
    #[serde(rename = "1")]
    V1(PayloadV1),
}

/// The fields of a version-1 envelope. Unknown keys are ignored, as nodes do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadV1 {
    /// The sender's public key.
    #[serde(with = "hex_key")]
    pub verification_key: IdentityPublic,
    /// 16 random bytes bound into the nonce.
    #[serde(with = "hex_fixed")]
    pub random: [u8; 16],
    /// When it was sealed; its whole Unix seconds are bound into the nonce.
    #[serde(with = "rfc3339")]
    pub created_at: OffsetDateTime,
    /// 16 zero bytes ‖ tag ‖ ciphertext.
    #[serde(with = "hex_vec")]
    pub ciphertext_and_tag: Vec<u8>,
}

/// An opened envelope: the plaintext (zeroized on drop) and who sealed it.
pub struct Opened {
    /// The plaintext bytes.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The sender's `verification_key`.
    pub sender: IdentityPublic,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("sender", &self.sender)
            .field("len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// The 24-byte nonce: SHA-512 over the version byte, `random`, the big-endian Unix seconds,
/// the recipient's key and the sender's key, first 24 bytes.
fn nonce(
    random: &[u8; 16],
    created_at: OffsetDateTime,
    recipient: &IdentityPublic,
    sender: &IdentityPublic,
) -> Result<[u8; 24], E2eeError> {
    let seconds = u64::try_from(created_at.unix_timestamp()).map_err(|_| E2eeError::CreatedAt)?;
    let mut hash = Sha512::new();
    hash.update([VERSION_BYTE]);
    hash.update(random);
    hash.update(seconds.to_be_bytes());
    hash.update(recipient.as_bytes());
    hash.update(sender.as_bytes());
    let digest = hash.finalize();
    let mut out = [0u8; 24];
    out.copy_from_slice(&digest[..24]);
    Ok(out)
}

impl Envelope {
    /// Seals `plaintext` from `sender` to `recipient`, with fresh randomness and the current
    /// time (written to the millisecond, as the SDK's `toISOString`).
    pub fn seal(
        sender: &IdentitySecret,
        recipient: &IdentityPublic,
        plaintext: &[u8],
    ) -> Result<Self, E2eeError> {
        let mut random = [0u8; 16];
        OsRng.fill_bytes(&mut random);
        let now = OffsetDateTime::now_utc();
        let created_at = now
            .replace_nanosecond(now.nanosecond() - now.nanosecond() % 1_000_000)
            .unwrap_or(now);
        Self::seal_with(sender, recipient, plaintext, random, created_at)
    }

    /// Seals with the given `random` and `created_at`: for fixed test vectors.
    pub fn seal_with(
        sender: &IdentitySecret,
        recipient: &IdentityPublic,
        plaintext: &[u8],
        random: [u8; 16],
        created_at: OffsetDateTime,
    ) -> Result<Self, E2eeError> {
        let me = sender.public_key();
        let nonce = nonce(&random, created_at, recipient, &me)?;
        let salsa = SalsaBox::new(&PublicKey::from(*recipient.as_bytes()), &sender.0);
        let mut body = Zeroizing::new(plaintext.to_vec());
        let tag = salsa
            .encrypt_in_place_detached(&Nonce::from(nonce), b"", &mut body)
            .map_err(|_| E2eeError::Malformed("the plaintext is too long".into()))?;
        let mut ciphertext_and_tag = Vec::with_capacity(BOX_ZERO_BYTES + TAG_LEN + body.len());
        ciphertext_and_tag.extend_from_slice(&[0u8; BOX_ZERO_BYTES]);
        ciphertext_and_tag.extend_from_slice(&tag);
        ciphertext_and_tag.extend_from_slice(&body);
        Ok(Self::V1(PayloadV1 {
            verification_key: me,
            random,
            created_at,
            ciphertext_and_tag,
        }))
    }

    /// Serialises `value` to JSON and seals it.
    pub fn seal_json<T: Serialize>(
        sender: &IdentitySecret,
        recipient: &IdentityPublic,
        value: &T,
    ) -> Result<Self, E2eeError> {
        let json =
            Zeroizing::new(serde_json::to_vec(value).map_err(|e| E2eeError::Json(e.to_string()))?);
        Self::seal(sender, recipient, &json)
    }

    /// The version-1 fields.
    pub fn payload(&self) -> &PayloadV1 {
        match self {
            Self::V1(p) => p,
        }
    }

    /// Who sealed it (unauthenticated until it opens).
    pub fn sender(&self) -> IdentityPublic {
        self.payload().verification_key
    }

    /// Opens the box with `recipient`'s secret key.
    pub fn open(&self, recipient: &IdentitySecret) -> Result<Opened, E2eeError> {
        let p = self.payload();
        let me = recipient.public_key();
        let nonce = nonce(&p.random, p.created_at, &me, &p.verification_key)?;
        let data = &p.ciphertext_and_tag;
        if data.len() < BOX_ZERO_BYTES + TAG_LEN {
            return Err(E2eeError::Open);
        }
        let (zeros, rest) = data.split_at(BOX_ZERO_BYTES);
        if zeros.iter().any(|b| *b != 0) {
            return Err(E2eeError::Open);
        }
        let (tag, ciphertext) = rest.split_at(TAG_LEN);
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| E2eeError::Open)?;
        let salsa = SalsaBox::new(
            &PublicKey::from(*p.verification_key.as_bytes()),
            &recipient.0,
        );
        let mut body = Zeroizing::new(ciphertext.to_vec());
        salsa
            .decrypt_in_place_detached(
                &Nonce::from(nonce),
                b"",
                &mut body,
                &Tag::<SalsaBox>::from(tag),
            )
            .map_err(|_| E2eeError::Open)?;
        Ok(Opened {
            plaintext: body,
            sender: p.verification_key,
        })
    }

    /// Opens the box and parses its JSON.
    pub fn open_json<T: DeserializeOwned>(
        &self,
        recipient: &IdentitySecret,
    ) -> Result<(T, IdentityPublic), E2eeError> {
        let opened = self.open(recipient)?;
        let value = serde_json::from_slice(&opened.plaintext)
            .map_err(|e| E2eeError::Json(e.to_string()))?;
        Ok((value, opened.sender))
    }
}

/// The client's side of one exchange with one node: a fresh key pair, the node's identity key
/// from its handshake; requests are sealed to the node, answers must come from it.
pub struct ClientChannel {
    secret: IdentitySecret,
    node: IdentityPublic,
}

impl ClientChannel {
    /// A channel to the node whose handshake reported `node_identity_key`, with a fresh key.
    pub fn new(node_identity_key: IdentityPublic) -> Self {
        Self::with_secret(IdentitySecret::generate(), node_identity_key)
    }

    /// A channel with a given client key.
    pub fn with_secret(secret: IdentitySecret, node_identity_key: IdentityPublic) -> Self {
        Self {
            secret,
            node: node_identity_key,
        }
    }

    /// The node's key.
    pub fn node_key(&self) -> IdentityPublic {
        self.node
    }

    /// The client's public key (the request's `verification_key`).
    pub fn client_key(&self) -> IdentityPublic {
        self.secret.public_key()
    }

    /// Seals a request body (JSON) to the node.
    pub fn seal_request<T: Serialize>(&self, request: &T) -> Result<Envelope, E2eeError> {
        Envelope::seal_json(&self.secret, &self.node, request)
    }

    /// Opens the node's answer: refused unless sealed by the node key the request went to.
    pub fn open_response<R: DeserializeOwned>(&self, answer: &Envelope) -> Result<R, E2eeError> {
        let found = answer.sender();
        if found != self.node {
            return Err(E2eeError::Sender {
                expected: self.node,
                found,
            });
        }
        let (value, _) = answer.open_json(&self.secret)?;
        Ok(value)
    }
}

impl fmt::Debug for ClientChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientChannel")
            .field("client", &self.client_key())
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// The node's side: opens a request with its identity key, and returns the body and the
/// client's key to seal the answer to.
pub fn open_request<T: DeserializeOwned>(
    node: &IdentitySecret,
    request: &Envelope,
) -> Result<(T, IdentityPublic), E2eeError> {
    request.open_json(node)
}

/// The node's side: seals an answer (JSON) to the client that sent the request.
pub fn seal_response<R: Serialize>(
    node: &IdentitySecret,
    client: &IdentityPublic,
    answer: &R,
) -> Result<Envelope, E2eeError> {
    Envelope::seal_json(node, client, answer)
}

fn decode_hex(text: &str, what: &str) -> Result<Vec<u8>, String> {
    if text.starts_with("0x") {
        return Err(format!("{what} has a 0x prefix"));
    }
    hex::decode(text).map_err(|_| format!("{what} is not hex"))
}

mod hex_key {
    use super::*;

    pub(super) fn serialize<S: Serializer>(k: &IdentityPublic, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&k.to_hex())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<IdentityPublic, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = decode_hex(&text, "verification_key").map_err(serde::de::Error::custom)?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("verification_key is not 32 bytes"))?;
        Ok(IdentityPublic(bytes))
    }
}

mod hex_fixed {
    use super::*;

    pub(super) fn serialize<S: Serializer>(b: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 16], D::Error> {
        let text = String::deserialize(d)?;
        decode_hex(&text, "random")
            .map_err(serde::de::Error::custom)?
            .try_into()
            .map_err(|_| serde::de::Error::custom("random is not 16 bytes"))
    }
}

mod hex_vec {
    use super::*;

    pub(super) fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        decode_hex(&text, "ciphertext_and_tag").map_err(serde::de::Error::custom)
    }
}

/// RFC 3339 in, `YYYY-MM-DDTHH:MM:SS.mmmZ` out (whatever precision `created_at` holds below a
/// millisecond is not written; only whole seconds enter the nonce).
mod rfc3339 {
    use super::*;
    use lit_companion_session::timefmt::{iso_millis, parse_rfc3339};

    pub(super) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = iso_millis(*t).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        parse_rfc3339(&text).ok_or_else(|| serde::de::Error::custom("created_at is not RFC 3339"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use serde_json::{json, Value};

    fn keys() -> (IdentitySecret, IdentitySecret) {
        (
            IdentitySecret::from_bytes(&[1; 32]),
            IdentitySecret::from_bytes(&[2; 32]),
        )
    }

    #[test]
    fn request_and_answer_round_trip_through_json() {
        let node = IdentitySecret::generate();
        let channel = ClientChannel::new(node.public_key());
        let request = json!({"sessionKey": "lit:session:ab", "curveType": "BLS"});
        let wire = serde_json::to_string(&channel.seal_request(&request).unwrap()).unwrap();

        let envelope: Envelope = serde_json::from_str(&wire).unwrap();
        let (body, client): (Value, _) = open_request(&node, &envelope).unwrap();
        assert_eq!(body, request);
        assert_eq!(client, channel.client_key());

        let answer = json!({"ok": true, "data": {"result": "success"}});
        let sealed = seal_response(&node, &client, &answer).unwrap();
        let wire = serde_json::to_value(&sealed).unwrap();
        assert_eq!(wire["version"], "1");
        assert_eq!(
            wire["payload"]["verification_key"],
            node.public_key().to_hex()
        );
        let back: Value = channel
            .open_response(&serde_json::from_value(wire).unwrap())
            .unwrap();
        assert_eq!(back, answer);
    }

    /// The SDK's `walletEncrypt` steps run with TweetNaCl 1.0.3 (the library `@lit-protocol/nacl`
    /// forks) on fixed inputs: sender secret 0x01…01, recipient secret 0x02…02, random
    /// 0x00…0f, created at 2025-05-07T16:12:23.456Z.
    const TWEETNACL_VECTOR: &str = r#"{"version":"1","payload":{"verification_key":"a4e09292b651c278b9772c569f5fa9bb13d906b46ab68c9df9dc2b4409f8a209","random":"000102030405060708090a0b0c0d0e0f","created_at":"2025-05-07T16:12:23.456Z","ciphertext_and_tag":"00000000000000000000000000000000148a4b60767e3906d7df01d0e8f7dd2dd176ffd0dd52b49ac1fa6bb75be0322d7a90a166382bb5ef02a94a82d1068dcb532ec988011050c20993dc582e7eac392f"}}"#;
    const VECTOR_PLAINTEXT: &[u8] = br#"{"curveType":"BLS","sessionKey":"lit:session:00"}"#;

    #[test]
    fn tweetnacl_vector_opens_and_reseals_byte_for_byte() {
        let (sender, recipient) = keys();
        assert_eq!(
            recipient.public_key().to_hex(),
            "ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59"
        );
        let envelope: Envelope = serde_json::from_str(TWEETNACL_VECTOR).unwrap();
        let opened = envelope.open(&recipient).unwrap();
        assert_eq!(&*opened.plaintext, VECTOR_PLAINTEXT);
        assert_eq!(opened.sender, sender.public_key());

        let p = envelope.payload();
        let again = Envelope::seal_with(
            &sender,
            &recipient.public_key(),
            VECTOR_PLAINTEXT,
            p.random,
            p.created_at,
        )
        .unwrap();
        assert_eq!(serde_json::to_string(&again).unwrap(), TWEETNACL_VECTOR);
    }

    #[test]
    fn the_layout_is_sixteen_zeros_tag_then_ciphertext() {
        let (a, b) = keys();
        let e = Envelope::seal(&a, &b.public_key(), b"hello").unwrap();
        let ct = &e.payload().ciphertext_and_tag;
        assert_eq!(ct.len(), 16 + 16 + 5);
        assert!(ct[..16].iter().all(|x| *x == 0));
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let (a, b) = keys();
        let e = Envelope::seal(&a, &b.public_key(), b"a secret message").unwrap();
        let len = e.payload().ciphertext_and_tag.len();
        for i in 0..len {
            let mut bad = e.clone();
            let Envelope::V1(p) = &mut bad;
            p.ciphertext_and_tag[i] ^= 0x01;
            assert_eq!(bad.open(&b).unwrap_err(), E2eeError::Open, "byte {i}");
        }
        // The header is bound through the nonce.
        let mut bad = e.clone();
        let Envelope::V1(p) = &mut bad;
        p.random[0] ^= 1;
        assert_eq!(bad.open(&b).unwrap_err(), E2eeError::Open);
        let mut bad = e.clone();
        let Envelope::V1(p) = &mut bad;
        p.created_at += time::Duration::seconds(1);
        assert_eq!(bad.open(&b).unwrap_err(), E2eeError::Open);
        let mut bad = e.clone();
        let Envelope::V1(p) = &mut bad;
        p.verification_key = IdentitySecret::generate().public_key();
        assert_eq!(bad.open(&b).unwrap_err(), E2eeError::Open);
        // A sub-second change leaves the nonce's whole seconds alone.
        let mut same = e.clone();
        let Envelope::V1(p) = &mut same;
        p.created_at = p.created_at.replace_millisecond(0).unwrap();
        assert_eq!(&*same.open(&b).unwrap().plaintext, b"a secret message");
    }

    #[test]
    fn another_recipient_cannot_open_it() {
        let (a, b) = keys();
        let e = Envelope::seal(&a, &b.public_key(), b"for b").unwrap();
        assert_eq!(
            e.open(&IdentitySecret::generate()).unwrap_err(),
            E2eeError::Open
        );
        // Nor can the sender.
        assert_eq!(e.open(&a).unwrap_err(), E2eeError::Open);
    }

    #[test]
    fn a_client_takes_answers_only_from_its_node() {
        let node = IdentitySecret::generate();
        let other = IdentitySecret::generate();
        let channel = ClientChannel::new(node.public_key());
        let forged = seal_response(&other, &channel.client_key(), &json!({"ok": true})).unwrap();
        assert!(matches!(
            channel.open_response::<Value>(&forged),
            Err(E2eeError::Sender { .. })
        ));
    }

    #[test]
    fn malformed_envelopes_are_refused() {
        let (a, b) = keys();
        let good =
            serde_json::to_value(Envelope::seal(&a, &b.public_key(), b"x").unwrap()).unwrap();
        let mut v2 = good.clone();
        v2["version"] = json!("2");
        let mut prefixed = good.clone();
        prefixed["payload"]["random"] = json!(format!("0x{}", "00".repeat(16)));
        let mut short = good.clone();
        short["payload"]["verification_key"] = json!("00");
        let mut time = good.clone();
        time["payload"]["created_at"] = json!("yesterday");
        for bad in [v2, prefixed, short, time] {
            assert!(serde_json::from_value::<Envelope>(bad).is_err());
        }
        let mut extra = good;
        extra["payload"]["session_signature"] = json!("ignored, as by nodes");
        assert!(serde_json::from_value::<Envelope>(extra).is_ok());
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let secret = IdentitySecret::from_bytes(&[0xab; 32]);
        let text = format!("{secret:?}");
        assert!(!text.contains(&"ab".repeat(8)), "{text}");
        assert!(text.contains(&secret.public_key().to_hex()));
    }
}
