//! Pairing tokens for local programs without an origin (scripts, CI runners): `lcp_` + 64 hex,
//! shown once; only the SHA-256 is stored and checked in constant time.
//!
//! A pairing's sessions are kept under the grant key `pairing:<name>`. They belong to the token
//! they were granted to: withdrawing the token, or issuing a new one under the same name,
//! revokes them in the same write, so that a new pairing of that name starts with nothing.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{iso, Revoke, Vault};
use crate::{
    error::VaultError,
    grant_key::GrantKey,
    history::{self, HistoryEvent},
    metadata::PairingRecord,
};

impl Vault {
    /// Issues a pairing token for a local program: `lcp_` + 64 hex, shown once; only its
    /// SHA-256 is stored. Re-pairing a name replaces its token and revokes the sessions the old
    /// token was granted: the new pairing starts with nothing.
    pub fn create_pairing(
        &self,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Zeroizing<String>, VaultError> {
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(VaultError::Invalid(
                "a pairing name is 1-64 letters, digits, '-', '_' or '.'".into(),
            ));
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, raw.as_mut_slice());
        let token = Zeroizing::new(format!("lcp_{}", hex::encode(raw.as_slice())));
        let digest = hex::encode(Sha256::digest(token.as_bytes()));
        let key = GrantKey::Pairing(name.to_owned()).to_string();
        let revoked = self.edit(|m, _| {
            m.pairings.retain(|p| p.name != name);
            let revoked = self.retire(m, Revoke::Origin(&key), now)?;
            m.pairings.push(PairingRecord {
                name: name.to_owned(),
                token_sha256: digest,
                created_at: iso(now)?,
            });
            m.log(history::pairing(
                &iso(now)?,
                HistoryEvent::PairingCreated,
                format!("Issued a pairing token to local program \"{name}\""),
                format!("pairing token for {name}"),
            ));
            Ok(revoked)
        })?;
        // The old sessions are retired on record (never served again); their keys leave the
        // keychain now or, if it is locked, at the next maintenance. The token is shown either
        // way: it is stored and cannot be shown again.
        if revoked > 0 {
            if let Err(e) = self.maintain(now) {
                tracing::warn!(error = %e, "removing a replaced pairing's session keys");
            }
        }
        Ok(token)
    }

    /// The name a token was issued to, compared in constant time against every stored digest.
    /// Reads no keychain and writes nothing: cheap enough for every request.
    pub fn check_pairing(&self, token: &str) -> Result<Option<PairingRecord>, VaultError> {
        let digest = Sha256::digest(token.as_bytes());
        let mut found = None;
        for p in &self.shared()?.pairings {
            let Ok(stored) = hex::decode(&p.token_sha256) else {
                continue;
            };
            if bool::from(stored.as_slice().ct_eq(digest.as_ref())) {
                found = Some(p.clone());
            }
        }
        Ok(found)
    }

    /// The pairings (names and dates only).
    pub fn pairings(&self) -> Result<Vec<PairingRecord>, VaultError> {
        Ok(self.shared()?.pairings.clone())
    }

    /// Withdraws a pairing token and revokes its sessions (grant key `pairing:<name>`), in one
    /// write: from then on neither the token nor any session granted to it serves a request.
    /// Their keys then leave memory and the keychain. The number of sessions revoked.
    pub fn revoke_pairing(&self, name: &str, now: OffsetDateTime) -> Result<usize, VaultError> {
        let key = GrantKey::Pairing(name.to_owned()).to_string();
        let revoked = self.edit(|m, _| {
            let before = m.pairings.len();
            m.pairings.retain(|p| p.name != name);
            if m.pairings.len() == before {
                return Err(VaultError::UnknownPairing(name.to_owned()));
            }
            let revoked = self.retire(m, Revoke::Origin(&key), now)?;
            m.log(history::pairing(
                &iso(now)?,
                HistoryEvent::PairingRevoked,
                format!("Withdrew the pairing token of local program \"{name}\""),
                format!("pairing token for {name}; {revoked} session(s) revoked"),
            ));
            Ok(revoked)
        })?;
        if revoked > 0 {
            self.maintain(now)?;
        }
        Ok(revoked)
    }
}
