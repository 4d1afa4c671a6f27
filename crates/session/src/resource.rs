//! The Lit resource/ability model and the SDK's JSON shape for a request.
//!
//! A resource is `<prefix>://<id>`; an ability is the SDK's name for what may be done with it
//! (`pkp-signing`, ...). Each ability maps onto one ERC-5573 ReCap `<Namespace>/<Ability>` pair
//! (Lit JS SDK `getRecapNamespaceAndAbility`). Datil networks (SDK v7) know the rate-limit
//! (Capacity Credit) delegation, Naga networks (SDK v8) the payment delegation.

use std::{fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer, Serialize};

use crate::{error::ResourceError, network::Generation};

/// The kind of Lit resource, i.e. the URI scheme of its resource key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ResourcePrefix {
    /// `lit-pkp`: a Programmable Key Pair, by token id.
    Pkp,
    /// `lit-accesscontrolcondition`: data protected by access-control conditions.
    AccessControlCondition,
    /// `lit-litaction`: a Lit Action, by IPFS CID.
    LitAction,
    /// `lit-ratelimitincrease`: a Capacity Credit NFT (Datil).
    RateLimitIncrease,
    /// `lit-paymentdelegation`: the Lit balance used to pay for requests (Naga).
    PaymentDelegation,
}

impl ResourcePrefix {
    /// Every prefix, in a stable order.
    pub const ALL: [ResourcePrefix; 5] = [
        Self::Pkp,
        Self::AccessControlCondition,
        Self::LitAction,
        Self::RateLimitIncrease,
        Self::PaymentDelegation,
    ];

    /// The scheme as the SDK writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pkp => "lit-pkp",
            Self::AccessControlCondition => "lit-accesscontrolcondition",
            Self::LitAction => "lit-litaction",
            Self::RateLimitIncrease => "lit-ratelimitincrease",
            Self::PaymentDelegation => "lit-paymentdelegation",
        }
    }

    /// Whether this network generation knows the prefix.
    pub fn exists_on(self, generation: Generation) -> bool {
        match self {
            Self::RateLimitIncrease => generation == Generation::Datil,
            Self::PaymentDelegation => generation == Generation::Naga,
            _ => true,
        }
    }
}

impl FromStr for ResourcePrefix {
    type Err = ResourceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ResourceError::UnknownPrefix(s.to_owned()))
    }
}

impl fmt::Display for ResourcePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What may be done with a resource, by the SDK's name (`LIT_ABILITY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Ability {
    /// `pkp-signing`: sign with a PKP.
    PkpSigning,
    /// `access-control-condition-decryption`: decrypt data behind conditions.
    AccessControlConditionDecryption,
    /// `access-control-condition-signing`: get a signed JWT for meeting conditions.
    AccessControlConditionSigning,
    /// `lit-action-execution`: run a Lit Action.
    LitActionExecution,
    /// `rate-limit-increase-auth`: use a Capacity Credit (Datil).
    RateLimitIncreaseAuth,
    /// `lit-payment-delegation`: spend from the Lit balance (Naga).
    PaymentDelegation,
}

impl Ability {
    /// Every ability, in a stable order.
    pub const ALL: [Ability; 6] = [
        Self::PkpSigning,
        Self::AccessControlConditionDecryption,
        Self::AccessControlConditionSigning,
        Self::LitActionExecution,
        Self::RateLimitIncreaseAuth,
        Self::PaymentDelegation,
    ];

    /// The SDK's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PkpSigning => "pkp-signing",
            Self::AccessControlConditionDecryption => "access-control-condition-decryption",
            Self::AccessControlConditionSigning => "access-control-condition-signing",
            Self::LitActionExecution => "lit-action-execution",
            Self::RateLimitIncreaseAuth => "rate-limit-increase-auth",
            Self::PaymentDelegation => "lit-payment-delegation",
        }
    }

    /// The ReCap namespace and ability name (SDK `getRecapNamespaceAndAbility`).
    pub fn recap(self) -> RecapAbility {
        match self {
            Self::PkpSigning | Self::AccessControlConditionSigning => {
                RecapAbility::THRESHOLD_SIGNING
            }
            Self::AccessControlConditionDecryption => RecapAbility::THRESHOLD_DECRYPTION,
            Self::LitActionExecution => RecapAbility::THRESHOLD_EXECUTION,
            Self::RateLimitIncreaseAuth | Self::PaymentDelegation => RecapAbility::AUTH_AUTH,
        }
    }

    /// The only resource kind this ability applies to.
    pub fn prefix(self) -> ResourcePrefix {
        match self {
            Self::PkpSigning => ResourcePrefix::Pkp,
            Self::AccessControlConditionDecryption | Self::AccessControlConditionSigning => {
                ResourcePrefix::AccessControlCondition
            }
            Self::LitActionExecution => ResourcePrefix::LitAction,
            Self::RateLimitIncreaseAuth => ResourcePrefix::RateLimitIncrease,
            Self::PaymentDelegation => ResourcePrefix::PaymentDelegation,
        }
    }
}

impl FromStr for Ability {
    type Err = ResourceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ResourceError::UnknownAbility(s.to_owned()))
    }
}

impl fmt::Display for Ability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ReCap ability key `<namespace>/<name>` (ERC-5573 "ability" strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecapAbility {
    /// The namespace, e.g. `Threshold`.
    pub namespace: &'static str,
    /// The name within the namespace, e.g. `Signing`.
    pub name: &'static str,
}

impl RecapAbility {
    /// `Threshold/Signing`.
    pub const THRESHOLD_SIGNING: Self = Self {
        namespace: "Threshold",
        name: "Signing",
    };
    /// `Threshold/Decryption`.
    pub const THRESHOLD_DECRYPTION: Self = Self {
        namespace: "Threshold",
        name: "Decryption",
    };
    /// `Threshold/Execution`.
    pub const THRESHOLD_EXECUTION: Self = Self {
        namespace: "Threshold",
        name: "Execution",
    };
    /// `Auth/Auth`.
    pub const AUTH_AUTH: Self = Self {
        namespace: "Auth",
        name: "Auth",
    };
    /// `*/*`: every ability.
    pub const ALL: Self = Self {
        namespace: "*",
        name: "*",
    };

    /// The key as written in the ReCap JSON.
    pub fn key(self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A Lit resource: a prefix and a normalised id (`*` for every resource of that kind).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LitResource {
    prefix: ResourcePrefix,
    id: String,
}

impl LitResource {
    /// Validates and normalises an id for `prefix`. PKP ids lose a `0x`, are left-padded to 64
    /// hex digits and lower-cased, as the SDK's `formatPKPResource` does, so that the same PKP
    /// always yields the same resource key.
    pub fn new(prefix: ResourcePrefix, id: &str) -> Result<Self, ResourceError> {
        let bad = || ResourceError::BadId {
            prefix: prefix.as_str(),
            id: id.to_owned(),
        };
        if id == "*" {
            return Ok(Self {
                prefix,
                id: id.to_owned(),
            });
        }
        let id = match prefix {
            ResourcePrefix::Pkp => {
                let hex = id.strip_prefix("0x").unwrap_or(id);
                if hex.is_empty() || hex.len() > 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad());
                }
                format!("{:0>64}", hex.to_ascii_lowercase())
            }
            ResourcePrefix::AccessControlCondition => {
                // `<hashed access-control conditions>/<dataToEncryptHash>`, both hex.
                let mut parts = id.split('/');
                let ok = parts.clone().count() == 2
                    && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit()));
                if !ok {
                    return Err(bad());
                }
                id.to_owned()
            }
            ResourcePrefix::LitAction => {
                // An IPFS CID: base58btc (Qm…) or multibase base32/base36 — alphanumerics only.
                if id.len() < 2 || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(bad());
                }
                id.to_owned()
            }
            ResourcePrefix::RateLimitIncrease => {
                // Capacity Credit token ids are decimal uint256 values.
                if id.is_empty() || id.len() > 78 || !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                id.to_owned()
            }
            // The SDK only ever writes the payment-delegation resource as `*`.
            ResourcePrefix::PaymentDelegation => return Err(bad()),
        };
        Ok(Self { prefix, id })
    }

    /// The wildcard resource `<prefix>://*`.
    pub fn wildcard(prefix: ResourcePrefix) -> Self {
        Self {
            prefix,
            id: "*".to_owned(),
        }
    }

    /// Parses a resource key `<prefix>://<id>`.
    pub fn parse_key(key: &str) -> Result<Self, ResourceError> {
        let (prefix, id) = key
            .split_once("://")
            .ok_or_else(|| ResourceError::BadKey(key.to_owned()))?;
        Self::new(prefix.parse()?, id)
    }

    /// The kind of resource.
    pub fn prefix(&self) -> ResourcePrefix {
        self.prefix
    }

    /// The normalised id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether this names every resource of its kind.
    pub fn is_wildcard(&self) -> bool {
        self.id == "*"
    }

    /// `<prefix>://<id>`: the key used in ReCap `att` (SDK `getResourceKey`).
    pub fn key(&self) -> String {
        format!("{}://{}", self.prefix.as_str(), self.id)
    }
}

impl fmt::Display for LitResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// One entry of `resourceAbilityRequests`: an ability on a resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAbilityRequest {
    /// The resource.
    pub resource: LitResource,
    /// The ability.
    pub ability: Ability,
}

/// `<ability> on <resource>`, e.g. `pkp-signing on lit-pkp://9f19…`: the technical line logs,
/// errors and the history's details use.
impl fmt::Display for ResourceAbilityRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.ability, self.resource)
    }
}

/// The requests as one technical line: `a on x, b on y`.
pub fn list_requests(requests: &[ResourceAbilityRequest]) -> String {
    let names: Vec<String> = requests.iter().map(ToString::to_string).collect();
    names.join(", ")
}

impl ResourceAbilityRequest {
    /// Pairs a resource with an ability, refusing pairs the SDK cannot express (e.g.
    /// `pkp-signing` on a Lit Action).
    pub fn new(resource: LitResource, ability: Ability) -> Result<Self, ResourceError> {
        if ability.prefix() != resource.prefix() {
            return Err(ResourceError::AbilityMismatch {
                ability: ability.as_str(),
                prefix: resource.prefix().as_str(),
            });
        }
        Ok(Self { resource, ability })
    }

    /// Refuses a request that the given network generation does not know.
    pub fn check_generation(&self, generation: Generation) -> Result<(), ResourceError> {
        if self.resource.prefix().exists_on(generation) {
            Ok(())
        } else {
            Err(ResourceError::WrongGeneration {
                prefix: self.resource.prefix().as_str(),
                generation,
            })
        }
    }

    /// Parses a JSON array of requests in the SDK's shape.
    pub fn parse_list(json: &str) -> Result<Vec<Self>, ResourceError> {
        let list: Vec<Self> =
            serde_json::from_str(json).map_err(|e| ResourceError::Json(e.to_string()))?;
        if list.is_empty() {
            return Err(ResourceError::Empty);
        }
        Ok(list)
    }

    /// The wire form for a network generation: v7 writes `resource` before `resourcePrefix`,
    /// v8 the other way round. The node does not care; byte-compatibility with the SDK does.
    pub fn to_wire(&self, generation: Generation) -> WireRequest<'_> {
        WireRequest {
            request: self,
            generation,
        }
    }
}

/// Serialises a [`ResourceAbilityRequest`] exactly as a given SDK generation does.
#[derive(Debug, Clone, Copy)]
pub struct WireRequest<'a> {
    request: &'a ResourceAbilityRequest,
    generation: Generation,
}

impl Serialize for WireRequest<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Res<'a>(&'a LitResource, Generation);
        impl Serialize for Res<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut s = serializer.serialize_struct("LitResource", 2)?;
                if self.1 == Generation::Naga {
                    s.serialize_field("resourcePrefix", self.0.prefix.as_str())?;
                    s.serialize_field("resource", &self.0.id)?;
                } else {
                    s.serialize_field("resource", &self.0.id)?;
                    s.serialize_field("resourcePrefix", self.0.prefix.as_str())?;
                }
                s.end()
            }
        }
        let mut s = serializer.serialize_struct("ResourceAbilityRequest", 2)?;
        s.serialize_field("resource", &Res(&self.request.resource, self.generation))?;
        s.serialize_field("ability", self.request.ability.as_str())?;
        s.end()
    }
}

impl Serialize for ResourceAbilityRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire(Generation::Datil).serialize(serializer)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResource {
    resource: String,
    #[serde(rename = "resourcePrefix")]
    resource_prefix: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    resource: RawResource,
    ability: String,
    /// The v8 SDK's optional per-request data; only an absent, null or empty value is accepted,
    /// because nothing here would carry it into the ReCap.
    #[serde(default)]
    data: Option<serde_json::Value>,
}

impl<'de> Deserialize<'de> for ResourceAbilityRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawRequest::deserialize(deserializer)?;
        if let Some(data) = &raw.data {
            let empty = data.is_null() || data.as_object().is_some_and(|m| m.is_empty());
            if !empty {
                return Err(de::Error::custom("request `data` is not supported"));
            }
        }
        let prefix: ResourcePrefix = raw
            .resource
            .resource_prefix
            .parse()
            .map_err(de::Error::custom)?;
        let resource =
            LitResource::new(prefix, &raw.resource.resource).map_err(de::Error::custom)?;
        let ability: Ability = raw.ability.parse().map_err(de::Error::custom)?;
        ResourceAbilityRequest::new(resource, ability).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkp_ids_are_normalised_like_the_sdk() {
        let r = LitResource::new(ResourcePrefix::Pkp, "0xABC").unwrap();
        assert_eq!(r.id(), format!("{}abc", "0".repeat(61)));
        assert_eq!(r.key(), format!("lit-pkp://{}abc", "0".repeat(61)));
        assert!(LitResource::new(ResourcePrefix::Pkp, &"f".repeat(65)).is_err());
        assert!(LitResource::new(ResourcePrefix::Pkp, "0xzz").is_err());
        assert!(LitResource::new(ResourcePrefix::Pkp, "*")
            .unwrap()
            .is_wildcard());
    }

    #[test]
    fn sdk_shape_parses_in_either_key_order_and_serialises_per_generation() {
        let v7 =
            r#"[{"resource":{"resource":"*","resourcePrefix":"lit-pkp"},"ability":"pkp-signing"}]"#;
        let v8 =
            r#"[{"resource":{"resourcePrefix":"lit-pkp","resource":"*"},"ability":"pkp-signing"}]"#;
        let a = ResourceAbilityRequest::parse_list(v7).unwrap();
        let b = ResourceAbilityRequest::parse_list(v8).unwrap();
        assert_eq!(a, b);
        let out7 = serde_json::to_string(
            &a.iter()
                .map(|r| r.to_wire(Generation::Datil))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let out8 = serde_json::to_string(
            &a.iter()
                .map(|r| r.to_wire(Generation::Naga))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(out7, v7);
        assert_eq!(out8, v8);
    }

    #[test]
    fn mismatched_and_unknown_requests_are_refused() {
        let bad = [
            r#"[{"resource":{"resource":"*","resourcePrefix":"lit-litaction"},"ability":"pkp-signing"}]"#,
            r#"[{"resource":{"resource":"*","resourcePrefix":"lit-nope"},"ability":"pkp-signing"}]"#,
            r#"[{"resource":{"resource":"*","resourcePrefix":"lit-pkp"},"ability":"pkp-signing","extra":1}]"#,
            r#"[{"resource":{"resource":"*","resourcePrefix":"lit-pkp"},"ability":"pkp-signing","data":{"x":1}}]"#,
            r#"[{"resource":{"resource":"abc'","resourcePrefix":"lit-litaction"},"ability":"lit-action-execution"}]"#,
            r#"[]"#,
            r#"{"#,
        ];
        for text in bad {
            assert!(ResourceAbilityRequest::parse_list(text).is_err(), "{text}");
        }
    }

    #[test]
    fn delegation_resources_belong_to_one_generation() {
        let rli = ResourceAbilityRequest::new(
            LitResource::wildcard(ResourcePrefix::RateLimitIncrease),
            Ability::RateLimitIncreaseAuth,
        )
        .unwrap();
        assert!(rli.check_generation(Generation::Datil).is_ok());
        assert!(rli.check_generation(Generation::Naga).is_err());
        let pay = ResourceAbilityRequest::new(
            LitResource::wildcard(ResourcePrefix::PaymentDelegation),
            Ability::PaymentDelegation,
        )
        .unwrap();
        assert!(pay.check_generation(Generation::Naga).is_ok());
        assert!(pay.check_generation(Generation::Datil).is_err());
    }
}
