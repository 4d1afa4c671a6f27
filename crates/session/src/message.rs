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

/// The statement of a PKP session's SIWE, before the ReCap statement (SDK v7
/// `LitNodeClientNodeJs.signSessionKey`, v8 `createPkpAuthContext`: "Lit Protocol PKP session
/// signature"). Nodes refuse one that contains `lit-resolvedauthcontext` and prepend nothing.
pub const PKP_SESSION_STATEMENT: &str = "Lit Protocol PKP session signature";

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

/// What a wallet signs as a PKP's auth method (`authMethodType` 1, an EOA; lit-peer
/// `pkp/auth/wallet.rs`): a plain SIWE with no ReCap, whose `uri` is the caller's origin (nodes
/// refuse `lit:session:…` and `lit:capability:delegation` here) and whose expiration nodes
/// require. It grants nothing by itself; it lets the network sign sessions for the PKP until
/// it expires, so the companion keeps it in the keychain and never hands it out.
#[derive(Debug, Clone)]
pub struct AuthMethodMessage<'a> {
    /// The caller's host (`host[:port]`).
    pub domain: &'a str,
    /// The wallet that signs in.
    pub address: Address,
    /// The PKP it signs in for (named in the statement, so the wallet shows it).
    pub pkp: Address,
    /// The caller's origin as a URI (`https://app.example.com`).
    pub uri: &'a str,
    /// The latest block hash the network's nodes agree on.
    pub nonce: &'a str,
    /// When it is signed.
    pub issued_at: OffsetDateTime,
    /// When it lapses: never after the session it serves.
    pub expiration: OffsetDateTime,
}

impl AuthMethodMessage<'_> {
    /// The EIP-4361 text, checked to survive parse → print.
    pub fn build(&self) -> Result<String, MessageError> {
        check_common(self.domain, "", self.nonce, self.issued_at, self.expiration)?;
        if self.uri.starts_with("lit:") {
            return Err(MessageError::NotRoundTrip(format!(
                "an auth method's uri may not be {:?}",
                self.uri
            )));
        }
        let text = format!(
            "{domain} wants you to sign in with your Ethereum account:\n{address}\n\nSign in to the Lit network as the owner of PKP {pkp}; it may then sign a session for that PKP that Lit Companion asked you to approve.\n\nURI: {uri}\nVersion: 1\nChain ID: {chain}\nNonce: {nonce}\nIssued At: {iat}\nExpiration Time: {exp}",
            domain = self.domain,
            address = self.address.to_checksum(),
            pkp = self.pkp.to_checksum(),
            uri = self.uri,
            chain = CHAIN_ID,
            nonce = self.nonce,
            iat = iso_millis(self.issued_at)?,
            exp = iso_millis(self.expiration)?,
        );
        round_trip(text)
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
    check_common(p.domain, p.statement, p.nonce, p.issued_at, p.expiration)?;
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
    round_trip(text)
}

fn check_common(
    domain: &str,
    statement: &str,
    nonce: &str,
    issued_at: OffsetDateTime,
    expiration: OffsetDateTime,
) -> Result<(), MessageError> {
    if domain.is_empty()
        || !domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_~".contains(&b))
    {
        return Err(MessageError::Domain(domain.to_owned()));
    }
    if statement.contains(['\n', '\r']) {
        return Err(MessageError::Statement);
    }
    if nonce.len() < 8 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(MessageError::Nonce);
    }
    if expiration <= issued_at {
        return Err(MessageError::Expiration);
    }
    Ok(())
}

/// Nodes verify over the re-printed parse of a message, so only a text that prints back to
/// itself is signed.
fn round_trip(text: String) -> Result<String, MessageError> {
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
    fn an_auth_method_message_names_the_pkp_and_is_no_session_message() {
        let wallet = WalletKey::from_bytes(&[0x11; 32]).unwrap();
        let pkp = WalletKey::from_bytes(&[0x22; 32]).unwrap().address();
        let m = AuthMethodMessage {
            domain: "app.example.com",
            address: wallet.address(),
            pkp,
            uri: "https://app.example.com",
            nonce: "0xabcdef0123456789",
            issued_at: parse_rfc3339("2026-01-01T00:00:00Z").unwrap(),
            expiration: parse_rfc3339("2026-01-01T01:00:00Z").unwrap(),
        };
        let text = m.build().unwrap();
        let parsed = siwe::Message::from_str(&text).unwrap();
        assert_eq!(parsed.uri.as_str(), "https://app.example.com");
        assert!(parsed.resources.is_empty());
        assert!(parsed.expiration_time.is_some());
        assert!(text.contains(&pkp.to_checksum()));
        for uri in ["lit:session:ab", DELEGATION_URI] {
            assert!(AuthMethodMessage { uri, ..m.clone() }.build().is_err());
        }
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
