//! ERC-5573 ReCap: capabilities carried in a SIWE message's last resource.
//!
//! Encoding (ERC-5573 §"ReCap URI Scheme"): `urn:recap:` followed by base64url *without
//! padding* (RFC 4648 §5) of the canonical JSON (RFC 8785: no white space, object keys sorted
//! at every level) of `{"att":{<resource>:{<namespace>/<ability>:[<caveats>…]}},"prf":[…]}`.
//! An unrestricted ability carries `[{}]`. The SIWE statement must end with the text
//! [`Recap::statement`] derives from `att` (ERC-5573 §"ReCap Translation Algorithm").

use std::collections::BTreeMap;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::{Map, Value};

use crate::{
    error::RecapError,
    resource::{LitResource, RecapAbility, ResourceAbilityRequest},
};

/// The URN scheme prefix of an encoded ReCap.
pub const RECAP_PREFIX: &str = "urn:recap:";

/// The fixed opening of the ReCap statement (ERC-5573).
pub const STATEMENT_PREFIX: &str =
    "I further authorize the stated URI to perform the following actions on my behalf:";

/// Caveats of one ability: the list of restriction objects (`[{}]` = unrestricted).
pub type Caveats = Vec<Map<String, Value>>;

/// A decoded ReCap. `att` maps a resource URI to its abilities; both levels are kept sorted,
/// as canonical JSON requires.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recap {
    att: BTreeMap<String, BTreeMap<String, Caveats>>,
    prf: Vec<String>,
}

impl Recap {
    /// An empty ReCap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Least privilege: exactly the requested resources and abilities, each unrestricted,
    /// never widened to a wildcard.
    pub fn for_requests(requests: &[ResourceAbilityRequest]) -> Self {
        let mut recap = Self::new();
        for r in requests {
            recap.add(&r.resource.key(), r.ability.recap(), Map::new());
        }
        recap
    }

    /// Adds one caveat object for an ability on a resource URI.
    pub fn add(&mut self, resource_uri: &str, ability: RecapAbility, caveat: Map<String, Value>) {
        let list = self
            .att
            .entry(resource_uri.to_owned())
            .or_default()
            .entry(ability.key())
            .or_default();
        if !list.contains(&caveat) {
            list.push(caveat);
        }
    }

    /// The attenuations: resource URI → ability key → caveats.
    pub fn attenuations(&self) -> &BTreeMap<String, BTreeMap<String, Caveats>> {
        &self.att
    }

    /// The proofs (CIDs of parent delegations); Lit sessions carry none.
    pub fn proofs(&self) -> &[String] {
        &self.prf
    }

    /// Whether this ReCap grants `request`: the node looks up `<prefix>://*` first, then the
    /// exact resource key, and accepts the mapped `<namespace>/<ability>` or `*/*`.
    pub fn covers(&self, request: &ResourceAbilityRequest) -> bool {
        let wanted = request.ability.recap().key();
        let keys = [
            LitResource::wildcard(request.resource.prefix()).key(),
            request.resource.key(),
        ];
        keys.iter().any(|k| {
            self.att.get(k).is_some_and(|abilities| {
                abilities.contains_key(&wanted) || abilities.contains_key("*/*")
            })
        })
    }

    /// The requests this ReCap does not grant, in the order given.
    pub fn missing<'a>(
        &self,
        requests: &'a [ResourceAbilityRequest],
    ) -> Vec<&'a ResourceAbilityRequest> {
        requests.iter().filter(|r| !self.covers(r)).collect()
    }

    /// The canonical JSON (RFC 8785) text.
    pub fn to_canonical_json(&self) -> Result<String, RecapError> {
        let mut out = String::new();
        write_canonical(&self.to_value(), &mut out)?;
        Ok(out)
    }

    fn to_value(&self) -> Value {
        let att: Map<String, Value> = self
            .att
            .iter()
            .map(|(res, abilities)| {
                let inner: Map<String, Value> = abilities
                    .iter()
                    .map(|(k, caveats)| {
                        (
                            k.clone(),
                            Value::Array(caveats.iter().cloned().map(Value::Object).collect()),
                        )
                    })
                    .collect();
                (res.clone(), Value::Object(inner))
            })
            .collect();
        let prf = self.prf.iter().cloned().map(Value::String).collect();
        let mut root = Map::new();
        root.insert("att".to_owned(), Value::Object(att));
        root.insert("prf".to_owned(), Value::Array(prf));
        Value::Object(root)
    }

    /// `urn:recap:<base64url, no padding>`.
    pub fn encode(&self) -> Result<String, RecapError> {
        Ok(format!(
            "{RECAP_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(self.to_canonical_json()?)
        ))
    }

    /// Decodes a `urn:recap:` URI. Refuses padding, JSON that is not canonical (unsorted keys,
    /// white space), unknown top-level keys, and ability keys without a namespace.
    pub fn decode(urn: &str) -> Result<Self, RecapError> {
        let payload = urn
            .strip_prefix(RECAP_PREFIX)
            .ok_or(RecapError::NotARecap)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| RecapError::Base64)?;
        let text = String::from_utf8(bytes).map_err(|_| RecapError::Json("not UTF-8".into()))?;
        let value: Value =
            serde_json::from_str(&text).map_err(|e| RecapError::Json(e.to_string()))?;
        let recap = Self::from_value(value)?;
        if recap.to_canonical_json()? != text {
            return Err(RecapError::NotCanonical);
        }
        Ok(recap)
    }

    fn from_value(value: Value) -> Result<Self, RecapError> {
        let shape = |what: &str| RecapError::Shape(what.to_owned());
        let Value::Object(mut root) = value else {
            return Err(shape("top level is not an object"));
        };
        let att = root.remove("att").ok_or_else(|| shape("missing `att`"))?;
        let prf = root.remove("prf").ok_or_else(|| shape("missing `prf`"))?;
        if !root.is_empty() {
            return Err(shape("unknown top-level key"));
        }
        let Value::Object(att) = att else {
            return Err(shape("`att` is not an object"));
        };
        let mut out = Self::new();
        for (resource, abilities) in att {
            if !resource.contains(':') {
                return Err(shape("resource is not a URI"));
            }
            let Value::Object(abilities) = abilities else {
                return Err(shape("abilities are not an object"));
            };
            let mut map = BTreeMap::new();
            for (ability, caveats) in abilities {
                let well_formed = ability.split_once('/').is_some_and(|(ns, name)| {
                    !ns.is_empty() && !name.is_empty() && !name.contains('/')
                });
                if !well_formed {
                    return Err(shape("ability is not `<namespace>/<name>`"));
                }
                let Value::Array(list) = caveats else {
                    return Err(shape("caveats are not a list"));
                };
                let list = list
                    .into_iter()
                    .map(|c| match c {
                        Value::Object(m) => Ok(m),
                        _ => Err(shape("caveat is not an object")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                map.insert(ability, list);
            }
            out.att.insert(resource, map);
        }
        let Value::Array(prf) = prf else {
            return Err(shape("`prf` is not a list"));
        };
        out.prf = prf
            .into_iter()
            .map(|p| match p {
                Value::String(s) => Ok(s),
                _ => Err(shape("proof is not a string")),
            })
            .collect::<Result<_, _>>()?;
        Ok(out)
    }

    /// The human-readable statement ERC-5573 derives from `att`: for each resource (sorted),
    /// for each namespace (sorted), ` (N) '<ns>': '<a>', '<b>' for '<resource>'.`
    pub fn statement(&self) -> String {
        let mut text = String::from(STATEMENT_PREFIX);
        let mut section = 1;
        for (resource, abilities) in &self.att {
            let mut by_ns: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for key in abilities.keys() {
                let (ns, name) = key.split_once('/').unwrap_or((key.as_str(), ""));
                by_ns.entry(ns).or_default().push(name);
            }
            for (ns, names) in by_ns {
                let names: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
                text.push_str(&format!(
                    " ({section}) '{ns}': {} for '{resource}'.",
                    names.join(", ")
                ));
                section += 1;
            }
        }
        text
    }

    /// Checks a SIWE statement against this ReCap: it must end with [`Recap::statement`].
    pub fn verify_statement(&self, siwe_statement: Option<&str>) -> Result<(), RecapError> {
        let expected = self.statement();
        match siwe_statement {
            Some(s) if s.ends_with(&expected) => Ok(()),
            _ => Err(RecapError::StatementMismatch),
        }
    }

    /// Extracts the ReCap of a SIWE message's resources: exactly one `urn:recap:` resource, and
    /// it is the last one (ERC-5573: "the last resource").
    pub fn extract<'a>(resources: impl IntoIterator<Item = &'a str>) -> Result<Self, RecapError> {
        let resources: Vec<&str> = resources.into_iter().collect();
        let recaps = resources
            .iter()
            .filter(|r| r.starts_with(RECAP_PREFIX))
            .count();
        match (recaps, resources.last()) {
            (0, _) => Err(RecapError::Missing),
            (1, Some(last)) if last.starts_with(RECAP_PREFIX) => Self::decode(last),
            (1, _) => Err(RecapError::NotLast),
            _ => Err(RecapError::Several),
        }
    }
}

/// RFC 8785 canonical JSON for the values a ReCap holds. Object keys are sorted by UTF-16 code
/// units (§3.2.3); strings are escaped as ECMAScript `JSON.stringify` does, which is what
/// serde_json writes. Non-integer numbers are refused: their ECMAScript form differs from Rust's.
fn write_canonical(value: &Value, out: &mut String) -> Result<(), RecapError> {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => out.push_str(&value.to_string()),
        Value::Number(n) => {
            if n.is_f64() {
                return Err(RecapError::NonIntegerNumber);
            }
            out.push_str(&n.to_string());
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out)?;
                }
            }
            out.push('}');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Ability, ResourcePrefix};

    const DESIGN_RECAP: &str = "urn:recap:eyJhdHQiOnsibGl0LWFjY2Vzc2NvbnRyb2xjb25kaXRpb246Ly8qIjp7IlRocmVzaG9sZC9EZWNyeXB0aW9uIjpbe31dfSwibGl0LWxpdGFjdGlvbjovLyoiOnsiVGhyZXNob2xkL0V4ZWN1dGlvbiI6W3t9XX0sImxpdC1wa3A6Ly8qIjp7IlRocmVzaG9sZC9TaWduaW5nIjpbe31dfX0sInByZiI6W119";

    fn wildcards() -> Vec<ResourceAbilityRequest> {
        vec![
            ResourceAbilityRequest::new(
                LitResource::wildcard(ResourcePrefix::Pkp),
                Ability::PkpSigning,
            )
            .unwrap(),
            ResourceAbilityRequest::new(
                LitResource::wildcard(ResourcePrefix::LitAction),
                Ability::LitActionExecution,
            )
            .unwrap(),
            ResourceAbilityRequest::new(
                LitResource::wildcard(ResourcePrefix::AccessControlCondition),
                Ability::AccessControlConditionDecryption,
            )
            .unwrap(),
        ]
    }

    #[test]
    fn sdk_recap_decodes_and_re_encodes_byte_for_byte() {
        let recap = Recap::decode(DESIGN_RECAP).unwrap();
        assert_eq!(recap.encode().unwrap(), DESIGN_RECAP);
        assert_eq!(
            Recap::for_requests(&wildcards()).encode().unwrap(),
            DESIGN_RECAP
        );
        assert_eq!(
            recap.statement(),
            "I further authorize the stated URI to perform the following actions on my behalf: (1) 'Threshold': 'Decryption' for 'lit-accesscontrolcondition://*'. (2) 'Threshold': 'Execution' for 'lit-litaction://*'. (3) 'Threshold': 'Signing' for 'lit-pkp://*'."
        );
    }

    #[test]
    fn unsorted_padded_or_spaced_json_is_refused() {
        let unsorted = r#"{"prf":[],"att":{}}"#;
        let spaced = r#"{"att": {},"prf":[]}"#;
        for text in [unsorted, spaced] {
            let urn = format!("{RECAP_PREFIX}{}", URL_SAFE_NO_PAD.encode(text));
            assert!(
                matches!(Recap::decode(&urn), Err(RecapError::NotCanonical)),
                "{text}"
            );
        }
        let padded = format!(
            "{RECAP_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE.encode(r#"{"att":{},"prf":[]}"#)
        );
        assert!(padded.ends_with('='));
        assert!(matches!(Recap::decode(&padded), Err(RecapError::Base64)));
        let extra = format!(
            "{RECAP_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(r#"{"att":{},"prf":[],"x":1}"#)
        );
        assert!(matches!(Recap::decode(&extra), Err(RecapError::Shape(_))));
    }

    #[test]
    fn coverage_matches_wildcard_then_exact_and_every_ability() {
        let pkp = LitResource::new(ResourcePrefix::Pkp, "0x1234").unwrap();
        let exact = ResourceAbilityRequest::new(pkp.clone(), Ability::PkpSigning).unwrap();
        let other = ResourceAbilityRequest::new(
            LitResource::new(ResourcePrefix::Pkp, "0x99").unwrap(),
            Ability::PkpSigning,
        )
        .unwrap();
        let recap = Recap::for_requests(std::slice::from_ref(&exact));
        assert!(recap.covers(&exact));
        assert!(
            !recap.covers(&other),
            "a specific grant must not cover another PKP"
        );
        assert_eq!(recap.missing(&[exact.clone(), other.clone()]), vec![&other]);

        let wild = Recap::for_requests(&wildcards());
        assert!(wild.covers(&exact) && wild.covers(&other));

        let mut all = Recap::new();
        all.add(&pkp.key(), RecapAbility::ALL, Map::new());
        assert!(all.covers(&exact));
        let decrypt = ResourceAbilityRequest::new(
            LitResource::wildcard(ResourcePrefix::AccessControlCondition),
            Ability::AccessControlConditionDecryption,
        )
        .unwrap();
        assert!(!all.covers(&decrypt));
    }

    #[test]
    fn least_privilege_yields_exactly_the_requested_resource() {
        let pkp = LitResource::new(ResourcePrefix::Pkp, "abcd").unwrap();
        let recap =
            Recap::for_requests(&[
                ResourceAbilityRequest::new(pkp.clone(), Ability::PkpSigning).unwrap(),
            ]);
        let keys: Vec<&String> = recap.attenuations().keys().collect();
        assert_eq!(keys, vec![&pkp.key()]);
        assert!(!recap.attenuations().keys().any(|k| k.ends_with("://*")));
    }

    #[test]
    fn statement_groups_abilities_by_namespace() {
        let mut recap = Recap::new();
        recap.add(
            "lit-accesscontrolcondition://*",
            RecapAbility::THRESHOLD_SIGNING,
            Map::new(),
        );
        recap.add(
            "lit-accesscontrolcondition://*",
            RecapAbility::THRESHOLD_DECRYPTION,
            Map::new(),
        );
        assert!(recap.statement().ends_with(
            " (1) 'Threshold': 'Decryption', 'Signing' for 'lit-accesscontrolcondition://*'."
        ));
        assert!(recap
            .verify_statement(Some(&format!("App. {}", recap.statement())))
            .is_ok());
        assert!(recap.verify_statement(Some("App.")).is_err());
        assert!(recap.verify_statement(None).is_err());
    }

    #[test]
    fn recap_must_be_the_single_last_resource() {
        assert!(Recap::extract(["https://a.example", DESIGN_RECAP]).is_ok());
        assert!(matches!(
            Recap::extract([DESIGN_RECAP, "https://a.example"]),
            Err(RecapError::NotLast)
        ));
        assert!(matches!(
            Recap::extract([DESIGN_RECAP, DESIGN_RECAP]),
            Err(RecapError::Several)
        ));
        assert!(matches!(
            Recap::extract(["https://a.example"]),
            Err(RecapError::Missing)
        ));
    }
}
