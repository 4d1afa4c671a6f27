//! The user's Ethereum key: EIP-191 `personal_sign`, EIP-55 addresses, recovery.
//!
//! What is signed: keccak256("\x19Ethereum Signed Message:\n" ‖ decimal byte length ‖ message)
//! (EIP-191 version 0x45), the same prehash `siwe` computes in `Message::eip191_hash`. The
//! signature is 65 bytes r ‖ s ‖ v with low `s` and v = 27 + recovery id.

use std::{fmt, str::FromStr};

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use rand_core::OsRng;
use sha3::{Digest, Keccak256};
use zeroize::Zeroizing;

use crate::error::KeyError;

/// A 20-byte Ethereum address. `Display` writes the EIP-55 checksummed form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The EIP-55 mixed-case form with `0x`.
    pub fn to_checksum(&self) -> String {
        siwe::eip55(&self.0)
    }

    /// Lowercase hex without `0x` (the form delegation ReCaps use in `delegate_to`).
    pub fn to_plain_lower(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses strictly: `0x` + 40 hex in the EIP-55 checksummed form. All-lowercase or
    /// all-uppercase text is refused too, because a SIWE message carries only the checksummed
    /// form (EIP-4361 §"Message Field Descriptions": `address` "MUST be EIP-55").
    pub fn parse_checksummed(text: &str) -> Result<Self, KeyError> {
        let digits = text.strip_prefix("0x").ok_or(KeyError::Address)?;
        if !siwe::is_checksum(digits) {
            return Err(KeyError::AddressChecksum);
        }
        Self::parse_any_case(text)
    }

    /// Parses `0x` (optional) + 40 hex in any case, for user input.
    pub fn parse_any_case(text: &str) -> Result<Self, KeyError> {
        let bytes = crate::hexutil::decode_fixed::<20>(text).map_err(|_| KeyError::Address)?;
        Ok(Self(*bytes))
    }

    /// "0x19E7…Ff2A": short form for prompts.
    pub fn short(&self) -> String {
        let full = self.to_checksum();
        format!("{}…{}", &full[..6], &full[full.len() - 4..])
    }

    fn from_verifying_key(key: &VerifyingKey) -> Self {
        let point = key.to_encoded_point(false);
        let hash = Keccak256::digest(&point.as_bytes()[1..]);
        let mut out = [0u8; 20];
        out.copy_from_slice(&hash[12..]);
        Self(out)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_checksum())
    }
}

impl FromStr for Address {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_any_case(s)
    }
}

/// The EIP-191 (version 0x45) prehash of `message`.
pub fn eip191_hash(message: &[u8]) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(b"\x19Ethereum Signed Message:\n");
    hasher.update(message.len().to_string().as_bytes());
    hasher.update(message);
    hasher.finalize().into()
}

/// A secp256k1 wallet key. Never printed (`Debug` shows the address); the inner key zeroizes
/// on drop.
#[derive(Clone)]
pub struct WalletKey {
    key: SigningKey,
    address: Address,
}

impl WalletKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        Self::from_signing_key(SigningKey::random(&mut OsRng))
    }

    /// Parses a 32-byte private key written as hex (`0x` optional).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = crate::hexutil::decode_fixed::<32>(text).map_err(|_| KeyError::WalletKey)?;
        Self::from_bytes(&bytes)
    }

    /// From 32 raw bytes; zero and values at or above the curve order are refused.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let key = SigningKey::from_slice(bytes).map_err(|_| KeyError::WalletKey)?;
        Ok(Self::from_signing_key(key))
    }

    fn from_signing_key(key: SigningKey) -> Self {
        let address = Address::from_verifying_key(key.verifying_key());
        Self { key, address }
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The public key, uncompressed (`04` ‖ x ‖ y): what names a PKP whose key this is
    /// ([`crate::pkp::PkpPublicKey`]).
    pub fn public_key_uncompressed(&self) -> [u8; 65] {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The private key as 64 hex characters, for an explicit export only.
    pub fn export_hex(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&self.key.to_bytes());
        Zeroizing::new(hex::encode(bytes.as_ref()))
    }

    /// EIP-191 `personal_sign` over `message`: 65 bytes r ‖ s ‖ v, v ∈ {27, 28}.
    pub fn personal_sign(&self, message: &[u8]) -> Result<[u8; 65], KeyError> {
        let hash = eip191_hash(message);
        let (sig, recid) = self
            .key
            .sign_prehash_recoverable(&hash)
            .map_err(|_| KeyError::Signing)?;
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + recid.to_byte();
        Ok(out)
    }
}

impl fmt::Debug for WalletKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletKey")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Recovers the signer of an EIP-191 `personal_sign` signature. `v` may be 27/28 or 0/1, as
/// wallets write both; high-`s` signatures are refused (EIP-2).
pub fn recover_personal(message: &[u8], sig: &[u8; 65]) -> Option<Address> {
    let signature = Signature::from_slice(&sig[..64]).ok()?;
    if signature.normalize_s().is_some() {
        return None;
    }
    let v = match sig[64] {
        27 | 28 => sig[64] - 27,
        0 | 1 => sig[64],
        _ => return None,
    };
    let recid = RecoveryId::from_byte(v)?;
    let key = VerifyingKey::recover_from_prehash(&eip191_hash(message), &signature, recid).ok()?;
    Some(Address::from_verifying_key(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_key_gives_known_address() {
        // Hardhat's first account: a widely published key/address pair.
        let key = WalletKey::from_hex(
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        )
        .unwrap();
        assert_eq!(
            key.address().to_checksum(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }

    #[test]
    fn design_wallet_address() {
        let key = WalletKey::from_bytes(&[0x11; 32]).unwrap();
        assert_eq!(
            key.address().to_checksum(),
            "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"
        );
    }

    #[test]
    fn personal_sign_recovers_and_tamper_fails() {
        let key = WalletKey::generate();
        let sig = key.personal_sign(b"hello world").unwrap();
        assert!(sig[64] == 27 || sig[64] == 28);
        assert_eq!(recover_personal(b"hello world", &sig), Some(key.address()));
        assert_ne!(recover_personal(b"hello worle", &sig), Some(key.address()));
        let mut bad_v = sig;
        bad_v[64] = 29;
        assert_eq!(recover_personal(b"hello world", &bad_v), None);
    }

    #[test]
    fn checksum_parsing_is_strict() {
        let good = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A";
        assert!(Address::parse_checksummed(good).is_ok());
        assert!(matches!(
            Address::parse_checksummed(&good.to_lowercase()),
            Err(KeyError::AddressChecksum)
        ));
        assert!(Address::parse_any_case(&good.to_lowercase()).is_ok());
    }

    #[test]
    fn zero_key_is_refused_and_debug_hides_the_key() {
        assert!(WalletKey::from_bytes(&[0; 32]).is_err());
        let key = WalletKey::from_bytes(&[0x11; 32]).unwrap();
        assert!(!format!("{key:?}").contains(&"11".repeat(32)));
    }
}
