//! Typed errors, one enum per phase: keys, resources, ReCaps, message building, AuthSigs,
//! signing, and the node-grade verifier. None of them carries key material.

use crate::network::Generation;

/// What kind of failure an error is, across the crates: each crate's error says its kind, and
/// programs map kinds to what they show (the CLI's exit codes, README "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// What was asked for or given is not acceptable (a bad argument, file content or request).
    Input,
    /// A signature or message was checked and refused, or the user said no.
    Refused,
    /// The OS keychain is locked, missing or failing.
    Keychain,
    /// The Lit nodes or the chain could not be reached, or disagree.
    Network,
    /// A file or directory could not be read or written.
    Files,
    /// A bug.
    Internal,
}

/// A key or address could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// A wallet private key must be 32 bytes of hex, non-zero and below the curve order.
    #[error("wallet key is not a valid secp256k1 private key (64 hex digits)")]
    WalletKey,
    /// A session seed must be 32 bytes of hex.
    #[error("session seed is not 64 hex digits")]
    SessionSeed,
    /// The public half of a v7 `secretKey` does not belong to its seed.
    #[error("session secret key: public half does not match the seed")]
    KeypairMismatch,
    /// A session public key must be 64 lowercase hex digits naming a valid ed25519 point.
    #[error("session public key is not 64 lowercase hex digits of a valid ed25519 key")]
    SessionPublicKey,
    /// An address must be `0x` + 40 hex digits.
    #[error("address is not 0x followed by 40 hex digits")]
    Address,
    /// An address must carry its EIP-55 checksum.
    #[error("address is not EIP-55 checksummed")]
    AddressChecksum,
    /// A PKP public key must be a secp256k1 point: `0x04` + 128 hex (or compressed, 66 hex).
    #[error("PKP public key is not a secp256k1 public key (0x04 followed by 128 hex digits)")]
    PkpPublicKey,
    /// The signing backend failed (it does not for valid keys).
    #[error("signing failed")]
    Signing,
}

/// A resource, ability, request or network name could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourceError {
    /// Not one of the Lit resource prefixes.
    #[error("unknown resource prefix {0:?}")]
    UnknownPrefix(String),
    /// Not one of the SDK's ability names.
    #[error("unknown ability {0:?}")]
    UnknownAbility(String),
    /// The id does not fit its prefix.
    #[error("invalid id {id:?} for {prefix}")]
    BadId {
        /// The prefix.
        prefix: &'static str,
        /// The id as given.
        id: String,
    },
    /// Not `<prefix>://<id>`.
    #[error("invalid resource key {0:?} (expected <prefix>://<id>)")]
    BadKey(String),
    /// The ability does not apply to that kind of resource.
    #[error("ability {ability} does not apply to {prefix} resources")]
    AbilityMismatch {
        /// The ability.
        ability: &'static str,
        /// The resource prefix.
        prefix: &'static str,
    },
    /// The resource kind does not exist on that network generation.
    #[error("{prefix} resources do not exist on {generation} networks")]
    WrongGeneration {
        /// The prefix.
        prefix: &'static str,
        /// The generation.
        generation: Generation,
    },
    /// Not one of the Lit network names.
    #[error("unknown network {0:?} (expected datil-dev, datil-test, datil, naga-dev, naga-test or naga)")]
    UnknownNetwork(String),
    /// The request list is not valid JSON in the SDK's shape.
    #[error("resource/ability requests: {0}")]
    Json(String),
    /// The request list is empty.
    #[error("resource/ability requests: the list is empty")]
    Empty,
}

/// A ReCap could not be decoded or does not match its statement.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecapError {
    /// The resource does not start with `urn:recap:`.
    #[error("resource is not a urn:recap: URI")]
    NotARecap,
    /// Not base64url without padding.
    #[error("ReCap payload is not base64url without padding")]
    Base64,
    /// Not JSON.
    #[error("ReCap payload is not JSON: {0}")]
    Json(String),
    /// JSON that is not in canonical form (keys unsorted, white space).
    #[error("ReCap JSON is not canonical (keys must be sorted, no white space)")]
    NotCanonical,
    /// JSON of the wrong shape.
    #[error("ReCap JSON has the wrong shape: {0}")]
    Shape(String),
    /// A caveat holds a non-integer number, whose canonical form we do not produce.
    #[error("ReCap JSON holds a non-integer number")]
    NonIntegerNumber,
    /// The SIWE statement does not end with the text derived from the ReCap.
    #[error("SIWE statement does not end with the ReCap statement")]
    StatementMismatch,
    /// The SIWE message has no ReCap resource.
    #[error("SIWE message carries no ReCap")]
    Missing,
    /// The ReCap is not the last resource.
    #[error("the ReCap is not the last SIWE resource")]
    NotLast,
    /// More than one ReCap resource.
    #[error("SIWE message carries more than one ReCap")]
    Several,
}

/// A SIWE message could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// The domain is not an RFC 3986 authority.
    #[error("SIWE domain {0:?} is not a host[:port]")]
    Domain(String),
    /// The statement may not contain a line break (EIP-4361).
    #[error("SIWE statement may not contain a line break")]
    Statement,
    /// The nonce must be at least 8 alphanumeric characters (EIP-4361).
    #[error("SIWE nonce must be at least 8 alphanumeric characters")]
    Nonce,
    /// The expiration is not after issuedAt.
    #[error("expiration must be after issuedAt")]
    Expiration,
    /// A time outside the years 0000-9999.
    #[error("time out of range")]
    Time,
    /// The ReCap could not be encoded.
    #[error(transparent)]
    Recap(#[from] RecapError),
    /// The text did not survive parse -> print (a bug or an exotic field value).
    #[error("SIWE message does not survive parse -> print unchanged: {0}")]
    NotRoundTrip(String),
}

/// An AuthSig failed a check. The variant names the check.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthSigError {
    /// Not an object with exactly `sig`, `derivedVia`, `signedMessage`, `address`.
    #[error("AuthSig is malformed: {0}")]
    Malformed(String),
    /// `derivedVia` is not `web3.eth.personal.sign`.
    #[error("AuthSig derivedVia {0:?} is not supported")]
    DerivedVia(String),
    /// The SIWE message does not parse.
    #[error("AuthSig SIWE message does not parse: {0}")]
    Siwe(String),
    /// The SIWE text is not what re-printing it gives, so a node would verify other bytes.
    #[error("AuthSig SIWE message is not in canonical EIP-4361 form")]
    SiweNotCanonical,
    /// `address` is not EIP-55 checksummed.
    #[error("AuthSig address is not EIP-55 checksummed")]
    AddressChecksum,
    /// `address` differs from the SIWE message's address.
    #[error("AuthSig address differs from the SIWE message's address")]
    AddressMismatch,
    /// `sig` is not 65 bytes of 0x-hex.
    #[error("AuthSig sig is not 0x + 130 hex digits")]
    SignatureEncoding,
    /// The signature does not recover to the address.
    #[error("AuthSig signature was not made by {0}")]
    BadSignature(String),
    /// The SIWE `notBefore` lies in the future.
    #[error("AuthSig is not valid yet")]
    NotYetValid,
    /// The SIWE `expirationTime` has passed.
    #[error("AuthSig has expired")]
    Expired,
    /// The SIWE `uri` is not the expected one.
    #[error("AuthSig uri {found:?} is not {expected:?}")]
    Uri {
        /// What the node expects.
        expected: String,
        /// What the message says.
        found: String,
    },
    /// The ReCap is missing, malformed or does not match the statement.
    #[error(transparent)]
    Recap(#[from] RecapError),
    /// The ReCap does not grant the resource (the node's own words).
    #[error("Resource id not found in auth_sig capabilities: {0}")]
    NotCovered(String),
    /// A delegation AuthSig is not addressed to the session's wallet, or is otherwise unusable.
    #[error("delegation AuthSig: {0}")]
    Delegation(String),
    /// `algo` does not fit the check: a wallet AuthSig has none, a PKP's is `LIT_BLS` (empty
    /// when absent).
    #[error("AuthSig algo {0:?} is not supported")]
    Algo(String),
    /// A `LIT_BLS` AuthSig reached a check that knows no network public key to verify it
    /// against: it is refused, never accepted unchecked.
    #[error("a LIT_BLS AuthSig needs the network's BLS public key, and none is known")]
    NoNetworkKey,
    /// The `LIT_BLS` signature is malformed or does not verify against the network key.
    #[error("LIT_BLS AuthSig: {0}")]
    Bls(#[from] BlsError),
}

/// sessionSigs could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// A key problem.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A request problem.
    #[error(transparent)]
    Resource(#[from] ResourceError),
    /// A message problem.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The wallet AuthSig is unusable.
    #[error(transparent)]
    AuthSig(#[from] AuthSigError),
    /// The session would get more than its AuthSig grants.
    #[error("the AuthSig does not grant: {0}")]
    NotGranted(String),
    /// No node URLs.
    #[error("at least one node URL is needed")]
    NoNodes,
    /// A node URL is not `http(s)://host[:port]`.
    #[error("node URL {0:?} is not http(s)://host[:port]")]
    NodeUrl(String),
    /// The lifetime is not positive or exceeds 30 days (nodes refuse longer sessions).
    #[error("session lifetime must be positive and at most 30 days")]
    Lifetime,
    /// Naga sessions need a `maxPrice`; Datil sessions must not have one.
    #[error("maxPrice is required on Naga networks and not allowed on Datil networks")]
    MaxPrice,
}

/// Why a Lit node would refuse a session signature. [`VerifyError::code`] gives a stable,
/// machine-readable name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// No entry for that node in the map.
    #[error("no session signature for node {0}")]
    NoEntry(String),
    /// The entry is not the expected object.
    #[error("session signature entry is malformed: {0}")]
    Malformed(String),
    /// `derivedVia` is not `litSessionSignViaNacl` or `algo` is not `ed25519`.
    #[error("session signature is not an ed25519 session signature")]
    Algorithm,
    /// `address` is not an ed25519 public key in 64 lowercase hex.
    #[error("session signature address is not a valid ed25519 public key")]
    SessionKey,
    /// `sig` is not 128 hex digits, or does not verify (strictly) over `signedMessage`.
    #[error("session signature does not verify over signedMessage")]
    Signature,
    /// `signedMessage` is not the expected JSON.
    #[error("signedMessage is malformed: {0}")]
    Message(String),
    /// `signedMessage.sessionKey` is not the signing key.
    #[error("signedMessage.sessionKey is not the key that signed it")]
    SessionKeyMismatch,
    /// `issuedAt` is more than 60 s ahead of the node's clock.
    #[error("session issuedAt is in the future")]
    IssuedInFuture,
    /// `expiration` is before `issuedAt`.
    #[error("session expiration is before issuedAt")]
    ExpiresBeforeIssued,
    /// `expiration` passed more than 60 s ago.
    #[error("session has expired")]
    Expired,
    /// `expiration − issuedAt` exceeds 30 days.
    #[error("session lifetime exceeds 30 days")]
    LifetimeTooLong,
    /// `nodeAddress` names another node.
    #[error("session signature is for node {found}, not {expected}")]
    WrongNode {
        /// This node's `host:port`.
        expected: String,
        /// What the message names.
        found: String,
    },
    /// Naga needs `maxPrice`.
    #[error("signedMessage.maxPrice is missing or not 0x-hex")]
    MaxPrice,
    /// The resource/ability is not among `resourceAbilityRequests`.
    #[error("the session did not request {0}")]
    NotRequested(String),
    /// There is no capability AuthSig for this session key.
    #[error("no capability AuthSig for this session key")]
    NoCapability,
    /// The session's capability AuthSig failed a check.
    #[error(transparent)]
    Capability(#[from] AuthSigError),
}

impl VerifyError {
    /// A stable, machine-readable name for the failed check.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoEntry(_) => "no_entry",
            Self::Malformed(_) => "malformed_entry",
            Self::Algorithm => "bad_algorithm",
            Self::SessionKey => "bad_session_key",
            Self::Signature => "bad_session_signature",
            Self::Message(_) => "malformed_signed_message",
            Self::SessionKeyMismatch => "session_key_mismatch",
            Self::IssuedInFuture => "issued_in_future",
            Self::ExpiresBeforeIssued => "expires_before_issued",
            Self::Expired => "expired",
            Self::LifetimeTooLong => "lifetime_too_long",
            Self::WrongNode { .. } => "wrong_node",
            Self::MaxPrice => "bad_max_price",
            Self::NotRequested(_) => "resource_not_requested",
            Self::NoCapability => "no_capability",
            Self::Capability(e) => match e {
                AuthSigError::Malformed(_) => "authsig_malformed",
                AuthSigError::DerivedVia(_) => "authsig_derived_via",
                AuthSigError::Siwe(_) => "authsig_siwe_parse",
                AuthSigError::SiweNotCanonical => "authsig_siwe_not_canonical",
                AuthSigError::AddressChecksum => "authsig_address_not_checksummed",
                AuthSigError::AddressMismatch => "authsig_address_mismatch",
                AuthSigError::SignatureEncoding => "authsig_signature_encoding",
                AuthSigError::BadSignature(_) => "authsig_bad_signature",
                AuthSigError::NotYetValid => "authsig_not_yet_valid",
                AuthSigError::Expired => "authsig_expired",
                AuthSigError::Uri { .. } => "authsig_uri_mismatch",
                AuthSigError::Recap(_) => "authsig_recap_invalid",
                AuthSigError::NotCovered(_) => "resource_not_covered",
                AuthSigError::Delegation(_) => "delegation_invalid",
                AuthSigError::Algo(_) => "authsig_algo",
                AuthSigError::NoNetworkKey => "no_network_key",
                AuthSigError::Bls(BlsError::Verification) => "authsig_bad_bls_signature",
                AuthSigError::Bls(_) => "authsig_bls_malformed",
            },
        }
    }
}

/// A BLS12-381 key, share or signature could not be read, combined or verified
/// ([`crate::bls`]).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlsError {
    /// A network public key must be 96 hex digits (`0x` optional) of a compressed G1 point in
    /// the prime-order subgroup, not the identity.
    #[error("BLS network key is not 96 hex digits of a compressed BLS12-381 G1 point")]
    NetworkKey,
    /// A signature must be 192 hex digits of a compressed G2 point in the prime-order subgroup,
    /// not the identity.
    #[error("BLS signature is not 192 hex digits of a compressed BLS12-381 G2 point")]
    Signature,
    /// An AuthSig `sig` of algo `LIT_BLS` must be exactly `{"ProofOfPossession":"<192 hex>"}`.
    #[error("LIT_BLS sig is not {{\"ProofOfPossession\":\"<192 lowercase hex>\"}}")]
    AuthSigSig,
    /// A signature share is not in the Datil (`{"ProofOfPossession":"<194 hex>"}`) or Naga
    /// (`{"ProofOfPossession":{"identifier":…,"value":…}}`) form.
    #[error("BLS signature share is malformed: {0}")]
    Share(String),
    /// A share identifier is zero, not a canonical scalar, or (in the Datil form, which has one
    /// byte for it) above 255.
    #[error("BLS share identifier is zero, not a canonical scalar, or does not fit its form")]
    Identifier,
    /// Fewer shares than the threshold.
    #[error("{got} BLS signature shares, {need} needed")]
    TooFewShares {
        /// Shares given.
        got: usize,
        /// The threshold.
        need: usize,
    },
    /// Two shares carry the same identifier.
    #[error("two BLS signature shares have the same identifier")]
    DuplicateIdentifier,
    /// Dealing needs `1 <= threshold <= of <= 255` and `1 <= index <= of`.
    #[error("BLS dealing needs 1 <= threshold <= of <= 255 and 1 <= index <= of")]
    Dealing,
    /// The seed hashes to a zero key (probability about 2^-255; choose another seed).
    #[error("BLS seed gives a zero key")]
    ZeroKey,
    /// The shares could not be combined.
    #[error("BLS signature shares could not be combined")]
    Combine,
    /// The signature does not verify over the message against the key.
    #[error("BLS signature does not verify against the network key")]
    Verification,
}
