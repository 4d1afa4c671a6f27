//! A PKP (programmable key pair): a secp256k1 key the Lit network holds in shares. Its public
//! key names it everywhere: the nodes take it as `pkpPublicKey` (uncompressed, `0x04…`), its
//! Ethereum address is the one a PKP session's SIWE carries, and its token id (the PKPNFT id
//! on the chain) is keccak256 of the uncompressed key (Lit `PKPNFT` / SDK `getTokenIdFromPubkey`).

use std::{fmt, str::FromStr};

use k256::elliptic_curve::sec1::ToEncodedPoint;
use sha3::{Digest, Keccak256};

use crate::{error::KeyError, wallet::Address};

/// A PKP's public key, held uncompressed (65 bytes, `0x04` ‖ x ‖ y).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PkpPublicKey([u8; 65]);

impl PkpPublicKey {
    /// Parses `0x` (optional) + hex of an uncompressed (130 hex, `04…`) or compressed
    /// (66 hex, `02…`/`03…`) secp256k1 point; refuses anything that is not on the curve.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let digits = text.trim();
        let digits = digits.strip_prefix("0x").unwrap_or(digits);
        if digits.len() != 130 && digits.len() != 66 {
            return Err(KeyError::PkpPublicKey);
        }
        let bytes = hex::decode(digits).map_err(|_| KeyError::PkpPublicKey)?;
        let key = k256::PublicKey::from_sec1_bytes(&bytes).map_err(|_| KeyError::PkpPublicKey)?;
        let point = key.to_encoded_point(false);
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        Ok(Self(out))
    }

    /// `0x04…` (132 characters): the form nodes and the SDK take as `pkpPublicKey`.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// The PKP's Ethereum address: keccak256(x ‖ y), last 20 bytes.
    pub fn address(&self) -> Address {
        let hash = Keccak256::digest(&self.0[1..]);
        let mut out = [0u8; 20];
        out.copy_from_slice(&hash[12..]);
        Address(out)
    }

    /// The PKPNFT token id: keccak256 of the uncompressed key (with its `04`), as `0x` + 64 hex.
    pub fn token_id(&self) -> String {
        format!("0x{}", hex::encode(Keccak256::digest(self.0)))
    }

    /// The raw 65 bytes.
    pub fn as_bytes(&self) -> &[u8; 65] {
        &self.0
    }
}

impl FromStr for PkpPublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `0x04…`: a public key is public.
impl fmt::Display for PkpPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PkpPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PkpPublicKey({})", self.address())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use crate::WalletKey;

    #[test]
    fn address_and_forms_agree_with_the_wallet_key_of_the_same_point() {
        let wallet = WalletKey::generate();
        let point = wallet.public_key_uncompressed();
        let pkp = PkpPublicKey::parse(&hex::encode(point)).unwrap();
        assert_eq!(pkp.address(), wallet.address());
        assert_eq!(pkp.to_hex().len(), 132);
        // The compressed form names the same key.
        let compressed = k256::PublicKey::from_sec1_bytes(&point)
            .unwrap()
            .to_encoded_point(true);
        let again = PkpPublicKey::parse(&hex::encode(compressed.as_bytes())).unwrap();
        assert_eq!(again, pkp);
    }

    #[test]
    fn token_id_is_keccak_of_the_uncompressed_key() {
        // The generator point G: a key whose hashes anyone can recompute.
        let g = "0x0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\
                 483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
        let pkp = PkpPublicKey::parse(g).unwrap();
        assert_eq!(
            pkp.address().to_checksum(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
        assert_eq!(
            pkp.token_id(),
            format!(
                "0x{}",
                hex::encode(Keccak256::digest(hex::decode(&g[2..]).unwrap()))
            )
        );
    }

    #[test]
    fn refuses_what_is_not_a_point() {
        for bad in [
            "",
            "0x04",
            &"0".repeat(130),
            &format!("04{}", "f".repeat(128)),
        ] {
            assert_eq!(
                PkpPublicKey::parse(bad),
                Err(KeyError::PkpPublicKey),
                "{bad}"
            );
        }
    }
}
