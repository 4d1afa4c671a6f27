//! The session SIWE message (EIP-4361) that a wallet signs to empower a session key.
//!
//! Lit nodes verify the wallet signature over `siwe::Message::to_string()` of the *parsed*
//! message, not over the bytes they received, so the text we sign must survive parse -> print
//! unchanged; [`build`] checks that before returning.

use std::str::FromStr;

use time::OffsetDateTime;

use crate::{error::MessageError, recap::Recap, timefmt::iso_millis, wallet::Address};

/// The SIWE `uri` of a capability delegation AuthSig (SDK `createCapacityDelegationAuthSig`).
pub const DELEGATION_URI: &str = "lit:capability:delegation";

/// The EIP-155 chain id in every Lit SIWE message. Lit's SDKs (v7 and v8) write 1 whatever
/// chain the network's contracts live on, and nodes check the signature, not the chain.
pub const CHAIN_ID: u64 = 1;

/// The SIWE `uri` that binds an AuthSig to one session key.
pub fn session_uri(session_public_key_hex: &str) -> String {
    format!("lit:session:{session_public_key_hex}")
}

/// What a session's AuthSig says: who signs, for whom, what, until when. The `uri`, the chain
/// id and the ReCap are not the caller's to choose: [`SessionMessage::build`] derives them.
#[derive(Debug, Clone)]
pub struct SessionMessage<'a> {
    /// The verified origin's host (`host[:port]`): wallets show it, nodes ignore it.
    pub domain: &'a str,
    /// The signing wallet.
    pub address: Address,
    /// The app's own statement (may be empty).
    pub statement: &'a str,
    /// The session key the AuthSig empowers (64 hex), or a placeholder for a preview.
    pub session_key: &'a str,
    /// The latest block hash the network's nodes agree on.
    pub nonce: &'a str,
    /// When the message is signed.
    pub issued_at: OffsetDateTime,
    /// When the grant lapses.
    pub expiration: OffsetDateTime,
    /// Exactly what the user approved; written as one ReCap (ERC-5573), last among the
    /// resources.
    pub grant: &'a [crate::resource::ResourceAbilityRequest],
}

impl SessionMessage<'_> {
    /// The EIP-4361 text: `uri` = `lit:session:<key>`, chain id [`CHAIN_ID`], the grant as a
    /// ReCap. Checked to survive parse → print, as nodes re-render it before verifying.
    pub fn build(&self) -> Result<String, MessageError> {
        build(&MessageParams {
            domain: self.domain,
            address: self.address,
            statement: self.statement,
            uri: &session_uri(self.session_key),
            nonce: self.nonce,
            issued_at: self.issued_at,
            expiration: self.expiration,
            recap: &Recap::for_requests(self.grant),
        })
    }
}

/// The fields of a ReCap-carrying SIWE message.
#[derive(Debug, Clone)]
pub struct MessageParams<'a> {
    /// The requesting origin's host (`host[:port]`), e.g. `app.example.com`.
    pub domain: &'a str,
    /// The signing wallet.
    pub address: Address,
    /// The app's own statement; the ReCap statement follows it after one space.
    pub statement: &'a str,
    /// `lit:session:<key>` or [`DELEGATION_URI`].
    pub uri: &'a str,
    /// At least 8 alphanumerics; Lit SDKs use the latest Ethereum block hash.
    pub nonce: &'a str,
    /// When the message is signed.
    pub issued_at: OffsetDateTime,
    /// When the capabilities lapse.
    pub expiration: OffsetDateTime,
    /// The capabilities, written as the last (and only) resource.
    pub recap: &'a Recap,
}

/// Renders the EIP-4361 text and checks that it parses back to itself.
///
/// The statement is `<app statement> <ReCap statement>`; with an empty app statement the line
/// starts with a space, which is what the Lit SDK (via siwe-recap `addToSiweMessage`) produces
/// and what nodes accept (they check only that the statement ends with the ReCap text).
pub fn build(p: &MessageParams<'_>) -> Result<String, MessageError> {
    if p.domain.is_empty()
        || !p
            .domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_~".contains(&b))
    {
        return Err(MessageError::Domain(p.domain.to_owned()));
    }
    if p.statement.contains(['\n', '\r']) {
        return Err(MessageError::Statement);
    }
    if p.nonce.len() < 8 || !p.nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(MessageError::Nonce);
    }
    if p.expiration <= p.issued_at {
        return Err(MessageError::Expiration);
    }
    let statement = format!("{} {}", p.statement, p.recap.statement());
    let text = format!(
        "{domain} wants you to sign in with your Ethereum account:\n{address}\n\n{statement}\n\nURI: {uri}\nVersion: 1\nChain ID: {chain}\nNonce: {nonce}\nIssued At: {iat}\nExpiration Time: {exp}\nResources:\n- {recap}",
        domain = p.domain,
        address = p.address.to_checksum(),
        uri = p.uri,
        chain = CHAIN_ID,
        nonce = p.nonce,
        iat = iso_millis(p.issued_at)?,
        exp = iso_millis(p.expiration)?,
        recap = p.recap.encode()?,
    );
    let parsed =
        siwe::Message::from_str(&text).map_err(|e| MessageError::NotRoundTrip(e.to_string()))?;
    if parsed.to_string() != text {
        return Err(MessageError::NotRoundTrip("re-printed text differs".into()));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        keys::{SessionKeyPair, SessionSeed},
        resource::{Ability, LitResource, ResourceAbilityRequest, ResourcePrefix},
        timefmt::parse_rfc3339,
        wallet::WalletKey,
    };

    /// DESIGN §3: produced by the official SDK with wallet key 0x11…11, session seed 0x07…07.
    pub(crate) const SDK_GOLDEN: &str = include_str!("../tests/vectors/sdk_v7_session_siwe.txt");

    #[test]
    fn rebuilds_the_sdk_golden_message_byte_for_byte() {
        let wallet = WalletKey::from_bytes(&[0x11; 32]).unwrap();
        let session = SessionKeyPair::from_seed(&SessionSeed::from_bytes([7; 32]));
        let requests = [
            (
                ResourcePrefix::AccessControlCondition,
                Ability::AccessControlConditionDecryption,
            ),
            (ResourcePrefix::LitAction, Ability::LitActionExecution),
            (ResourcePrefix::Pkp, Ability::PkpSigning),
        ]
        .map(|(p, a)| ResourceAbilityRequest::new(LitResource::wildcard(p), a).unwrap());
        let text = SessionMessage {
            domain: "localhost",
            address: wallet.address(),
            statement: "This is a test statement.  You can put anything you want here.",
            session_key: &session.public_key().to_hex(),
            nonce: &format!("0x{}", "ab".repeat(32)),
            issued_at: parse_rfc3339("2026-11-24T21:42:09.296Z").unwrap(),
            expiration: parse_rfc3339("2030-01-01T00:00:00.000Z").unwrap(),
            grant: &requests,
        }
        .build()
        .unwrap();
        assert_eq!(text, SDK_GOLDEN.trim_end_matches('\n'));
    }

    #[test]
    fn bad_fields_are_refused() {
        let recap = Recap::new();
        let base = MessageParams {
            domain: "localhost",
            address: WalletKey::from_bytes(&[0x11; 32]).unwrap().address(),
            statement: "",
            uri: DELEGATION_URI,
            nonce: "abcdefgh12",
            issued_at: parse_rfc3339("2026-01-01T00:00:00Z").unwrap(),
            expiration: parse_rfc3339("2026-01-02T00:00:00Z").unwrap(),
            recap: &recap,
        };
        assert!(build(&base).is_ok());
        assert!(build(&base).unwrap().contains("\n\n I further authorize"));
        assert_eq!(
            build(&MessageParams {
                domain: "a b",
                ..base.clone()
            }),
            Err(MessageError::Domain("a b".into()))
        );
        assert_eq!(
            build(&MessageParams {
                statement: "x\ny",
                ..base.clone()
            }),
            Err(MessageError::Statement)
        );
        assert_eq!(
            build(&MessageParams {
                nonce: "short",
                ..base.clone()
            }),
            Err(MessageError::Nonce)
        );
        assert_eq!(
            build(&MessageParams {
                nonce: "abc def ghi",
                ..base.clone()
            }),
            Err(MessageError::Nonce)
        );
        assert_eq!(
            build(&MessageParams {
                expiration: base.issued_at,
                ..base.clone()
            }),
            Err(MessageError::Expiration)
        );
    }
}
