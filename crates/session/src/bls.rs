//! The Lit network's BLS12-381 threshold signatures: what turns a PKP's authentication into a
//! session capability (`algo: "LIT_BLS"`).
//!
//! The scheme is blsful's `Bls12381G2Impl` with the proof-of-possession ciphersuite (IETF
//! draft-irtf-cfrg-bls-signature §4.2.3): public keys in G1 (48 bytes compressed), signatures
//! in G2 (96 bytes compressed), hash-to-G2 with `ExpandMsgXmd<Sha256>` and the DST
//! [`SIGNATURE_DST`]. Each node holds a Shamir share of the network key and signs with it; the
//! client combines `threshold` shares by Lagrange interpolation at x = 0 over the share
//! identifiers (Lit `@lit-protocol/crypto` `combineSignatureShares`, blsful
//! `Signature::from_shares`).
//!
//! What a node signs for a PKP session is [`session_hash`] of the SIWE text, not the text
//! itself. Shares travel in two JSON forms:
//! - Datil (blsful 2.x, SDK v7): `{"ProofOfPossession":"<194 hex>"}`, one identifier byte then
//!   the compressed G2 point;
//! - Naga (blsful 3.x, SDK v8): `{"ProofOfPossession":{"identifier":"<64 hex>","value":"<192
//!   hex>"}}`, the identifier a full scalar in little-endian byte order (the order under which
//!   the js-sdk `naga` branch's `packages/wasm/src/lib/bls.spec.ts` shares combine to a
//!   signature that verifies; `tests/vectors/bls.json`).
//!
//! Naga identifiers are arbitrary field elements, not small integers, so a share's identifier
//! is kept as a scalar; [`SignatureShare::identifier`] names it as a number when it is one.

use std::{fmt, str::FromStr};

use blsful::{
    inner_types::{Field, G1Affine, G1Projective, G2Affine, G2Projective, Scalar},
    vsss_rs::GroupShare,
    Bls12381G2Impl, BlsSignaturePop, HashToPoint, InnerPointShareG2, PublicKey, SecretKey,
    Signature,
};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::{error::BlsError, hexutil::strip_0x, wallet::eip191_hash};

/// The hash-to-curve domain separation tag of the signatures Lit nodes make
/// (blsful `<Bls12381G2Impl as BlsSignaturePop>::SIG_DST`).
pub const SIGNATURE_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// The prefix nodes put before the hex EIP-191 hash of a SIWE text they sign
/// (lit-peer `auth/auth_material.rs`, `siwe_hash_to_bls_session_hash`).
pub const SESSION_PREFIX: &str = "lit_session:";

/// The 32 bytes a Lit node signs with its key share for a PKP session:
/// `SHA-256(utf8("lit_session:" ‖ lowercase hex of the EIP-191 hash of siwe_text))`
/// (lit-peer `auth/auth_material.rs` `siwe_hash_to_bls_session_hash`; the response's
/// `dataSigned` is this, in hex).
///
/// Nodes hash their own re-rendering of the parsed SIWE message; this hashes `siwe_text` as
/// given, which is the same for the canonical text the verifier insists on.
pub fn session_hash(siwe_text: &str) -> [u8; 32] {
    let eip191 = eip191_hash(siwe_text.as_bytes());
    let mut h = Sha256::new();
    h.update(SESSION_PREFIX.as_bytes());
    h.update(hex::encode(eip191).as_bytes());
    h.finalize().into()
}

/// The network's BLS public key (`blsRootPubkey`, the handshake's `networkPublicKey`): a
/// BLS12-381 G1 point. Text form: 96 hex digits of its compressed encoding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NetworkKey(G1Projective);

impl NetworkKey {
    /// 96 lowercase hex digits, no `0x` (the form nodes send).
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; 48] {
        G1Affine::from(self.0).to_compressed()
    }

    /// Reads 48 compressed bytes: a point on the curve, in the prime-order subgroup, not the
    /// identity.
    pub fn from_bytes(bytes: &[u8; 48]) -> Result<Self, BlsError> {
        let point = Option::<G1Affine>::from(G1Affine::from_compressed(bytes))
            .ok_or(BlsError::NetworkKey)?;
        if bool::from(point.is_identity()) {
            return Err(BlsError::NetworkKey);
        }
        Ok(Self(point.into()))
    }

    fn public_key(&self) -> PublicKey<Bls12381G2Impl> {
        PublicKey(self.0)
    }
}

impl FromStr for NetworkKey {
    type Err = BlsError;

    /// 96 hex digits, `0x` optional, surrounding white space ignored.
    fn from_str(text: &str) -> Result<Self, BlsError> {
        let mut bytes = [0u8; 48];
        hex::decode_to_slice(strip_0x(text), &mut bytes).map_err(|_| BlsError::NetworkKey)?;
        Self::from_bytes(&bytes)
    }
}

impl fmt::Display for NetworkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for NetworkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetworkKey({})", self.to_hex())
    }
}

/// The largest share identifier: Datil shares carry it in one byte.
pub const MAX_SHARES: u16 = 255;

/// One node's secret share of a network key: its 1-based index (the Shamir x-coordinate and
/// the identifier of its signature shares) and the polynomial's value there. Never printed;
/// zeroized on drop.
pub struct KeyShare {
    index: u16,
    secret: Scalar,
}

impl KeyShare {
    /// Deterministic dealing, for simulated networks and tests: the share `index` (1..=`of`)
    /// of a degree `threshold − 1` polynomial whose coefficient k is blsful's hash-to-scalar
    /// (`SecretKey::from_hash`, HKDF-SHA-256 with the IETF KeyGen salt) of `seed ‖ k` (k as two
    /// big-endian bytes). Separate processes given the same seed deal consistent shares, and
    /// any `threshold` of them sign for [`network_key_from_seed`]`(seed)`, whatever `threshold`
    /// and `of` are.
    ///
    /// Not a key ceremony: whoever knows the seed knows the key.
    pub fn deal(seed: &[u8], index: u16, of: u16, threshold: u16) -> Result<KeyShare, BlsError> {
        if threshold == 0 || threshold > of || of > MAX_SHARES || index == 0 || index > of {
            return Err(BlsError::Dealing);
        }
        let x = Scalar::from(u64::from(index));
        // Horner: a_{t-1}, then (acc · x + a_k) down to a_0.
        let mut acc = Scalar::ZERO;
        for k in (0..threshold).rev() {
            let mut coefficient = Zeroizing::new(coefficient(seed, k));
            acc = acc * x + *coefficient;
            coefficient.zeroize();
        }
        let share = KeyShare { index, secret: acc };
        if bool::from(share.secret.is_zero()) {
            return Err(BlsError::ZeroKey);
        }
        Ok(share)
    }

    /// The share's 1-based index, which is the identifier of the shares it signs.
    pub fn index(&self) -> u16 {
        self.index
    }

    /// A proof-of-possession ciphersuite signature share over exactly `msg` (no prehash beyond
    /// the ciphersuite's hash-to-G2 with [`SIGNATURE_DST`]): what blsful's
    /// `SecretKeyShare::sign(SignatureSchemes::ProofOfPossession, msg)` makes.
    pub fn sign(&self, msg: &[u8]) -> SignatureShare {
        SignatureShare {
            identifier: Scalar::from(u64::from(self.index)),
            value: sign_point(&self.secret, msg),
        }
    }
}

impl Drop for KeyShare {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShare")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The public key of the network [`KeyShare::deal`] deals from `seed`: the G1 generator times
/// the polynomial's constant term.
pub fn network_key_from_seed(seed: &[u8]) -> Result<NetworkKey, BlsError> {
    let secret = SecretKey::<Bls12381G2Impl>(coefficient(seed, 0));
    let key = NetworkKey(secret.public_key().0);
    let mut secret = secret;
    secret.0.zeroize();
    if bool::from(key.0.is_identity()) {
        return Err(BlsError::ZeroKey);
    }
    Ok(key)
}

/// Coefficient `k` of the dealing polynomial for `seed`.
fn coefficient(seed: &[u8], k: u16) -> Scalar {
    let mut input = Zeroizing::new(Vec::with_capacity(seed.len() + 2));
    input.extend_from_slice(seed);
    input.extend_from_slice(&k.to_be_bytes());
    let mut key = SecretKey::<Bls12381G2Impl>::from_hash(input.as_slice());
    let scalar = key.0;
    key.0.zeroize();
    scalar
}

/// `H(msg) · secret` with H the ciphersuite's hash-to-G2: blsful's `core_sign`, which fails
/// only for a zero key, which no [`KeyShare`] holds.
fn sign_point(secret: &Scalar, msg: &[u8]) -> G2Projective {
    <Bls12381G2Impl as HashToPoint>::hash_to_point(
        msg,
        <Bls12381G2Impl as BlsSignaturePop>::SIG_DST,
    ) * secret
}

/// One node's share of a signature: an identifier (the Shamir x-coordinate, never zero) and a
/// G2 point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureShare {
    identifier: Scalar,
    value: G2Projective,
}

impl SignatureShare {
    /// The Datil form (blsful 2.x, what `/web/sign_session_key/v1` answers):
    /// `{"ProofOfPossession":"<194 hex>"}`, the identifier byte then the compressed G2 point.
    /// Only identifiers 1..=255 have this form ([`BlsError::Identifier`] otherwise).
    pub fn to_v7_json(&self) -> Result<Value, BlsError> {
        let id = self
            .identifier()
            .filter(|id| *id <= 255)
            .ok_or(BlsError::Identifier)?;
        let mut bytes = Vec::with_capacity(97);
        bytes.push(id as u8);
        bytes.extend_from_slice(&G2Affine::from(self.value).to_compressed());
        Ok(json!({ "ProofOfPossession": hex::encode(bytes) }))
    }

    /// The Naga form (blsful 3.x, `/web/sign_session_key/v2`):
    /// `{"ProofOfPossession":{"identifier":"<64 hex, little-endian scalar>","value":"<192 hex>"}}`.
    pub fn to_v8_json(&self) -> Value {
        json!({
            "ProofOfPossession": {
                "identifier": self.identifier_hex(),
                "value": hex::encode(G2Affine::from(self.value).to_compressed()),
            }
        })
    }

    /// Reads either form, or a JSON string holding either (as the SDKs pass them to their
    /// combiners). Hex may be either case; nothing but these keys is accepted.
    pub fn from_json(value: &Value) -> Result<SignatureShare, BlsError> {
        match value {
            Value::String(text) => {
                let inner: Value = serde_json::from_str(text)
                    .map_err(|e| BlsError::Share(format!("not JSON: {e}")))?;
                if inner.is_string() {
                    return Err(BlsError::Share("a string inside a string".into()));
                }
                Self::from_json(&inner)
            }
            Value::Object(map) => match only_key(map, "ProofOfPossession")? {
                Value::String(v7) => Self::from_v7_hex(v7),
                Value::Object(v8) => Self::from_v8(v8),
                _ => Err(BlsError::Share(
                    "ProofOfPossession is neither a string nor an object".into(),
                )),
            },
            _ => Err(BlsError::Share("not an object".into())),
        }
    }

    /// The identifier as a number, when it is one below 2^16 (Datil's one-byte identifiers,
    /// and every share [`KeyShare::sign`] makes); `None` for Naga's full-scalar identifiers.
    pub fn identifier(&self) -> Option<u16> {
        let le = self.identifier.to_le_bytes();
        if le[2..].iter().all(|b| *b == 0) {
            Some(u16::from_le_bytes([le[0], le[1]]))
        } else {
            None
        }
    }

    /// The identifier as Naga writes it: 64 hex digits of the scalar, little-endian.
    pub fn identifier_hex(&self) -> String {
        hex::encode(self.identifier.to_le_bytes())
    }

    fn from_v7_hex(text: &str) -> Result<Self, BlsError> {
        let mut bytes = [0u8; 97];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| BlsError::Share("Datil form is not 194 hex digits".into()))?;
        if bytes[0] == 0 {
            return Err(BlsError::Identifier);
        }
        let mut point = [0u8; 96];
        point.copy_from_slice(&bytes[1..]);
        Ok(Self {
            identifier: Scalar::from(u64::from(bytes[0])),
            value: share_point(&point)?,
        })
    }

    fn from_v8(map: &Map<String, Value>) -> Result<Self, BlsError> {
        if map.len() != 2 {
            return Err(BlsError::Share(
                "Naga form has keys other than identifier and value".into(),
            ));
        }
        let field = |name: &str| {
            map.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| BlsError::Share(format!("Naga form has no string {name}")))
        };
        let mut id = [0u8; 32];
        hex::decode_to_slice(field("identifier")?, &mut id)
            .map_err(|_| BlsError::Share("identifier is not 64 hex digits".into()))?;
        let identifier =
            Option::<Scalar>::from(Scalar::from_le_bytes(&id)).ok_or(BlsError::Identifier)?;
        if bool::from(identifier.is_zero()) {
            return Err(BlsError::Identifier);
        }
        let mut point = [0u8; 96];
        hex::decode_to_slice(field("value")?, &mut point)
            .map_err(|_| BlsError::Share("value is not 192 hex digits".into()))?;
        Ok(Self {
            identifier,
            value: share_point(&point)?,
        })
    }
}

impl fmt::Debug for SignatureShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureShare")
            .field("identifier", &self.identifier_hex())
            .field(
                "value",
                &hex::encode(G2Affine::from(self.value).to_compressed()),
            )
            .finish()
    }
}

fn only_key<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a Value, BlsError> {
    match map.get(key) {
        Some(v) if map.len() == 1 => Ok(v),
        _ => Err(BlsError::Share(format!(
            "not an object with the one key {key}"
        ))),
    }
}

fn share_point(bytes: &[u8; 96]) -> Result<G2Projective, BlsError> {
    let point = Option::<G2Affine>::from(G2Affine::from_compressed(bytes))
        .ok_or_else(|| BlsError::Share("value is not a compressed G2 point".into()))?;
    if bool::from(point.is_identity()) {
        return Err(BlsError::Share("value is the identity".into()));
    }
    Ok(point.into())
}

/// A combined signature of the network: a G2 point. Text form: 192 hex digits of its
/// compressed encoding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BlsSignature(G2Projective);

impl BlsSignature {
    /// Lagrange interpolation at 0 over the shares' identifiers (blsful
    /// `Signature::from_shares`, which `@lit-protocol/crypto` `combineSignatureShares` runs).
    /// Refuses fewer than `threshold` shares (and none at all), and two shares with one
    /// identifier. Every share given is used; extra honest shares do not change the result.
    pub fn combine(shares: &[SignatureShare], threshold: usize) -> Result<BlsSignature, BlsError> {
        let need = threshold.max(1);
        if shares.len() < need {
            return Err(BlsError::TooFewShares {
                got: shares.len(),
                need,
            });
        }
        for (i, a) in shares.iter().enumerate() {
            if bool::from(a.identifier.is_zero()) {
                return Err(BlsError::Identifier);
            }
            if shares[..i].iter().any(|b| b.identifier == a.identifier) {
                return Err(BlsError::DuplicateIdentifier);
            }
        }
        if let [only] = shares {
            // One point: the interpolating polynomial is constant.
            return Ok(Self(only.value));
        }
        let blsful_shares: Vec<blsful::SignatureShare<Bls12381G2Impl>> = shares
            .iter()
            .map(|s| {
                blsful::SignatureShare::ProofOfPossession(InnerPointShareG2(GroupShare::from((
                    s.identifier,
                    s.value,
                ))))
            })
            .collect();
        let combined = Signature::from_shares(&blsful_shares).map_err(|_| BlsError::Combine)?;
        Ok(Self(*combined.as_raw_value()))
    }

    /// 192 lowercase hex digits, no `0x` (what the SDK's combiner returns).
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; 96] {
        G2Affine::from(self.0).to_compressed()
    }

    /// Reads 192 hex digits (`0x` optional): a point on the curve, in the prime-order
    /// subgroup, not the identity.
    pub fn from_hex(s: &str) -> Result<Self, BlsError> {
        let mut bytes = [0u8; 96];
        hex::decode_to_slice(strip_0x(s), &mut bytes).map_err(|_| BlsError::Signature)?;
        Self::from_bytes(&bytes)
    }

    /// Reads 96 compressed bytes (as [`BlsSignature::from_hex`]).
    pub fn from_bytes(bytes: &[u8; 96]) -> Result<Self, BlsError> {
        let point = Option::<G2Affine>::from(G2Affine::from_compressed(bytes))
            .ok_or(BlsError::Signature)?;
        if bool::from(point.is_identity()) {
            return Err(BlsError::Signature);
        }
        Ok(Self(point.into()))
    }

    /// Verifies over exactly `msg` against `key` in the proof-of-possession ciphersuite
    /// (blsful `Signature::ProofOfPossession(..).verify`, what nodes call).
    pub fn verify(&self, key: &NetworkKey, msg: &[u8]) -> Result<(), BlsError> {
        Signature::<Bls12381G2Impl>::ProofOfPossession(self.0)
            .verify(&key.public_key(), msg)
            .map_err(|_| BlsError::Verification)
    }

    /// The `sig` of a `LIT_BLS` AuthSig: exactly `{"ProofOfPossession":"<192 hex>"}`, the
    /// SDK's `JSON.stringify({ProofOfPossession: combined})`.
    pub fn to_authsig_sig(&self) -> String {
        format!(r#"{{"ProofOfPossession":"{}"}}"#, self.to_hex())
    }

    /// Reads a `LIT_BLS` AuthSig `sig`. Nodes parse it as any blsful `Signature` JSON; only
    /// the exact text [`BlsSignature::to_authsig_sig`] writes (what the SDKs write) is accepted.
    pub fn from_authsig_sig(s: &str) -> Result<Self, BlsError> {
        let hex = s
            .strip_prefix(r#"{"ProofOfPossession":""#)
            .and_then(|rest| rest.strip_suffix(r#""}"#))
            .filter(|h| h.len() == 192 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .ok_or(BlsError::AuthSigSig)?;
        Self::from_hex(hex)
    }
}

impl fmt::Debug for BlsSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlsSignature({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dst_is_blsfuls_proof_of_possession_tag() {
        assert_eq!(SIGNATURE_DST, <Bls12381G2Impl as BlsSignaturePop>::SIG_DST);
    }

    #[test]
    fn a_share_signs_as_blsfuls_secret_key_share_does() {
        let share = KeyShare::deal(b"seed", 2, 3, 2).unwrap();
        let ours = share.sign(b"message");
        let theirs =
            blsful::SecretKeyShare::<Bls12381G2Impl>((Scalar::from(2u64), share.secret).into())
                .sign_pop(b"message")
                .unwrap();
        let raw = theirs.as_raw_value();
        assert_eq!(raw.0.identifier.0, ours.identifier);
        assert_eq!(raw.0.value.0, ours.value);
    }

    #[test]
    fn one_share_of_a_one_of_n_key_is_the_signature() {
        let key = network_key_from_seed(b"solo").unwrap();
        let share = KeyShare::deal(b"solo", 3, 4, 1).unwrap();
        let sig = BlsSignature::combine(&[share.sign(b"m")], 1).unwrap();
        sig.verify(&key, b"m").unwrap();
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let share = KeyShare::deal(b"seed", 1, 1, 1).unwrap();
        let shown = format!("{share:?}");
        assert!(!shown.contains(&hex::encode(share.secret.to_be_bytes())));
        assert!(!shown.contains(&hex::encode(share.secret.to_le_bytes())));
        assert_eq!(shown, "KeyShare { index: 1, .. }");
    }
}
