//! Ed25519 session keys.
//!
//! A session key is the short-lived key a Lit node sees on every request. Its public key is
//! written as 64 lowercase hex characters (the SIWE `uri` is `lit:session:<that hex>`). We keep
//! only the 32-byte seed; the JS SDK v7 stores `secretKey` as 128 hex (seed ‖ public key), v8 the
//! 64-hex seed, and we export either on request.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand_core::OsRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::KeyError;

/// The 32-byte secret seed of a session key. Never printed; zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SessionSeed([u8; 32]);

impl SessionSeed {
    /// Wraps raw seed bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses 64 hex characters (`0x` optional, surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = crate::hexutil::decode_fixed::<32>(text).map_err(|_| KeyError::SessionSeed)?;
        Ok(Self(*bytes))
    }

    /// The raw seed bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for SessionSeed {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SessionSeed {}

impl fmt::Debug for SessionSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSeed").finish_non_exhaustive()
    }
}

/// An ed25519 session keypair. `Debug` shows the public key only.
#[derive(Clone)]
pub struct SessionKeyPair {
    signing: SigningKey,
}

impl SessionKeyPair {
    /// A fresh keypair from the operating system's random source.
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut OsRng),
        }
    }

    /// The keypair derived from a seed (RFC 8032 §5.1.5).
    pub fn from_seed(seed: &SessionSeed) -> Self {
        Self {
            signing: SigningKey::from_bytes(seed.as_bytes()),
        }
    }

    /// Parses the SDK's v7 `secretKey` (128 hex: seed ‖ public key); the public half must match.
    pub fn from_v7_secret_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = crate::hexutil::decode_fixed::<64>(text).map_err(|_| KeyError::SessionSeed)?;
        let signing =
            SigningKey::from_keypair_bytes(&bytes).map_err(|_| KeyError::KeypairMismatch)?;
        Ok(Self { signing })
    }

    /// The seed, for storage in the keychain.
    pub fn seed(&self) -> SessionSeed {
        SessionSeed(self.signing.to_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> SessionPublicKey {
        SessionPublicKey(self.signing.verifying_key())
    }

    /// Export in the JS SDK v7 form: `secretKey` = 128 hex (seed ‖ public key).
    pub fn export_v7_secret_hex(&self) -> Zeroizing<String> {
        let bytes = Zeroizing::new(self.signing.to_keypair_bytes());
        Zeroizing::new(hex::encode(bytes.as_slice()))
    }

    /// Export in the JS SDK v8 form: the 64-hex seed.
    pub fn export_v8_seed_hex(&self) -> Zeroizing<String> {
        let bytes = Zeroizing::new(self.signing.to_bytes());
        Zeroizing::new(hex::encode(bytes.as_slice()))
    }

    /// Ed25519 signature over exactly `message` (no prehash, no prefix).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for SessionKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKeyPair")
            .field("public_key", &self.public_key().to_hex())
            .finish_non_exhaustive()
    }
}

/// An ed25519 session public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SessionPublicKey(VerifyingKey);

impl SessionPublicKey {
    /// Parses 64 hex characters (no `0x`: the SDK never writes one here). Upper case is refused,
    /// because the key also appears inside the SIWE `uri`, where it is compared as text.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        if text.len() != 64
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(KeyError::SessionPublicKey);
        }
        let bytes =
            crate::hexutil::decode_fixed::<32>(text).map_err(|_| KeyError::SessionPublicKey)?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| KeyError::SessionPublicKey)
    }

    /// 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// Verifies with ed25519 `verify_strict` (rejects small-order keys and non-canonical `R`),
    /// which is what Lit nodes use.
    pub fn verify_strict(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verify_strict(message, &sig).is_ok()
    }
}

impl fmt::Debug for SessionPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionPublicKey({})", self.to_hex())
    }
}

impl fmt::Display for SessionPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_round_trips_through_both_export_forms() {
        let pair = SessionKeyPair::from_seed(&SessionSeed::from_bytes([7; 32]));
        let v8 = pair.export_v8_seed_hex();
        assert_eq!(v8.as_str(), "07".repeat(32));
        let v7 = pair.export_v7_secret_hex();
        assert_eq!(&v7[..64], v8.as_str());
        assert_eq!(&v7[64..], pair.public_key().to_hex());
        let back = SessionKeyPair::from_v7_secret_hex(&v7).unwrap();
        assert_eq!(back.public_key(), pair.public_key());
        assert_eq!(SessionSeed::from_hex(&v8).unwrap(), pair.seed());
    }

    #[test]
    fn v7_secret_with_wrong_public_half_is_refused() {
        let pair = SessionKeyPair::from_seed(&SessionSeed::from_bytes([7; 32]));
        let mut v7 = pair.export_v7_secret_hex().to_string();
        v7.replace_range(64..66, if &v7[64..66] == "00" { "01" } else { "00" });
        assert!(matches!(
            SessionKeyPair::from_v7_secret_hex(&v7),
            Err(KeyError::KeypairMismatch)
        ));
    }

    #[test]
    fn debug_never_prints_the_seed() {
        let pair = SessionKeyPair::from_seed(&SessionSeed::from_bytes([0xab; 32]));
        let shown = format!("{pair:?} {:?}", pair.seed());
        assert!(!shown.contains(&"ab".repeat(32)), "{shown}");
        assert!(shown.contains(&pair.public_key().to_hex()));
    }

    #[test]
    fn signatures_verify_strictly_and_fail_when_tampered() {
        let pair = SessionKeyPair::generate();
        let sig = pair.sign(b"hello");
        assert!(pair.public_key().verify_strict(b"hello", &sig));
        assert!(!pair.public_key().verify_strict(b"hellp", &sig));
    }

    #[test]
    fn uppercase_public_key_is_refused() {
        let hex = SessionKeyPair::generate()
            .public_key()
            .to_hex()
            .to_uppercase();
        assert!(SessionPublicKey::from_hex(&hex).is_err());
    }
}
