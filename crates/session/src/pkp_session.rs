//! What the network signs for a PKP session, taken only when it is exactly what the user
//! approved: the nodes' shares over one message, enough of them, combining to a signature the
//! network key verifies (lit-peer `validate_bls_auth_sig_basic` checks the same on every
//! later request), over a message that names the PKP and this session key, ends no later than
//! approved, and grants nothing beyond the approved lines and the nodes' own
//! `lit-resolvedauthcontext://*` entry (which says how the PKP was authenticated).
//!
//! The AuthSig made from it is the SDK's (`getPkpSessionSigs` / `createPkpSessionSigs`):
//! `{sig: '{"ProofOfPossession":"<192 hex>"}', derivedVia: "lit.bls", signedMessage, address,
//! algo: "LIT_BLS"}`, `signedMessage` the message most nodes returned.

use std::str::FromStr;

use serde_json::Value;
use time::OffsetDateTime;

use crate::{
    authsig::AuthSig,
    bls::{session_hash, BlsSignature, NetworkKey, SignatureShare},
    error::BlsError,
    message::session_uri,
    recap::Recap,
    resource::{RecapAbility, ResourceAbilityRequest},
    wallet::Address,
};

/// The resource nodes add to a PKP session's ReCap: the resolved auth context, ability
/// `Auth/Auth` (lit-peer `sign_session_key`, `LitResourcePrefix::RA`).
pub const RESOLVED_AUTH_CONTEXT: &str = "lit-resolvedauthcontext://*";

/// Why what the nodes signed is not taken. Nothing is stored in any of these cases.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PkpSessionError {
    /// Fewer nodes than the threshold signed one and the same message.
    #[error("only {got} Lit nodes signed the same session message; {need} are needed")]
    TooFewShares {
        /// The largest number of nodes that agree on one message.
        got: usize,
        /// The network's threshold.
        need: usize,
    },
    /// A share does not parse, or the shares do not combine.
    #[error("the nodes' signature shares are unusable: {0}")]
    Shares(BlsError),
    /// The combined signature does not verify against the network key: a node signed
    /// something else, or under another key.
    #[error("the nodes' signature shares do not combine to a signature of the network's key")]
    NotTheNetworksSignature,
    /// The message does not parse as SIWE.
    #[error("the nodes returned a session message that is not SIWE: {0}")]
    Message(String),
    /// The message differs from what was asked in a way the user did not approve.
    #[error("the nodes returned a session message that differs from what you approved: {0}")]
    Differs(String),
}

/// What the user approved for the PKP session.
#[derive(Debug, Clone)]
pub struct Approved<'a> {
    /// The PKP's address.
    pub pkp: Address,
    /// The session public key (64 hex).
    pub session_key: &'a str,
    /// The latest the session may end.
    pub expiration: OffsetDateTime,
    /// The approved lines.
    pub grant: &'a [ResourceAbilityRequest],
}

/// One node's answer: its share (`signatureShare` as sent) and the message it signed.
#[derive(Debug, Clone, Copy)]
pub struct NodeShare<'a> {
    /// `{"ProofOfPossession": …}` in the Datil or Naga form.
    pub share: &'a Value,
    /// The SIWE text the node rebuilt and signed.
    pub siwe_message: &'a str,
}

/// The network's AuthSig for the approved session, from the nodes' answers: the message most
/// nodes signed, at least `threshold` shares over it combined, verified against `key` over
/// [`session_hash`] of that message, and the message checked against `approved`.
pub fn network_auth_sig(
    answers: &[NodeShare<'_>],
    threshold: usize,
    key: &NetworkKey,
    approved: &Approved<'_>,
) -> Result<AuthSig, PkpSessionError> {
    let mut groups: Vec<(&str, Vec<&Value>)> = Vec::new();
    for a in answers {
        match groups.iter_mut().find(|(m, _)| *m == a.siwe_message) {
            Some((_, shares)) => shares.push(a.share),
            None => groups.push((a.siwe_message, vec![a.share])),
        }
    }
    let need = threshold.max(1);
    let best = groups.into_iter().max_by_key(|(_, shares)| shares.len());
    let got = best.as_ref().map_or(0, |(_, shares)| shares.len());
    let Some((message, shares)) = best.filter(|_| got >= need) else {
        return Err(PkpSessionError::TooFewShares { got, need });
    };
    let shares = shares
        .into_iter()
        .map(SignatureShare::from_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(PkpSessionError::Shares)?;
    let signature = BlsSignature::combine(&shares, need).map_err(PkpSessionError::Shares)?;
    signature
        .verify(key, &session_hash(message))
        .map_err(|_| PkpSessionError::NotTheNetworksSignature)?;
    check_network_message(message, approved)?;
    Ok(AuthSig::lit_bls(
        &signature,
        message.to_owned(),
        approved.pkp.to_checksum(),
    ))
}

/// Checks the message the nodes signed against what the user approved: the PKP's address,
/// this session key's `uri`, an expiration no later than approved, one ReCap (the last
/// resource) that grants every approved line and nothing else but [`RESOLVED_AUTH_CONTEXT`]
/// `Auth/Auth`, and no proofs.
pub fn check_network_message(text: &str, approved: &Approved<'_>) -> Result<(), PkpSessionError> {
    let differs = |m: String| PkpSessionError::Differs(m);
    let message =
        siwe::Message::from_str(text).map_err(|e| PkpSessionError::Message(e.to_string()))?;
    if Address(message.address) != approved.pkp {
        return Err(differs(format!(
            "it is for {}, not the PKP {}",
            Address(message.address),
            approved.pkp
        )));
    }
    let uri = session_uri(approved.session_key);
    if message.uri.as_str() != uri {
        return Err(differs(format!(
            "it empowers {}, not this session's key",
            message.uri
        )));
    }
    let expiration = message
        .expiration_time
        .as_ref()
        .map(|t| *t.as_ref())
        .ok_or_else(|| differs("it has no expiration".into()))?;
    if expiration > approved.expiration {
        return Err(differs(format!(
            "it lasts until {expiration}, past the approved {}",
            approved.expiration
        )));
    }
    let recap = Recap::extract(message.resources.iter().map(|r| r.as_str()))
        .map_err(|e| differs(format!("its capabilities: {e}")))?;
    if !recap.proofs().is_empty() {
        return Err(differs("its capabilities carry proofs".into()));
    }
    let auth = RecapAbility::AUTH_AUTH.key();
    for (resource, abilities) in recap.attenuations() {
        for ability in abilities.keys() {
            let approved_line = approved
                .grant
                .iter()
                .any(|g| g.resource.key() == *resource && g.ability.recap().key() == *ability);
            let auth_context = resource == RESOLVED_AUTH_CONTEXT && *ability == auth;
            if !approved_line && !auth_context {
                return Err(differs(format!(
                    "it grants {ability} on {resource}, which you did not approve"
                )));
            }
        }
    }
    let missing = recap.missing(approved.grant);
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
        return Err(differs(format!(
            "it leaves out {} that you approved",
            names.join(", ")
        )));
    }
    Ok(())
}
