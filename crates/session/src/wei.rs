//! Amounts of wei: what a Naga request may pay (`maxPrice`), the user's caps, a policy's limit.
//! Written as the SDK writes `maxPrice`: a decimal string of digits, no sign, exponent or `0x`.

use std::{fmt, str::FromStr};

/// An amount of wei (at most 2^128 − 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Wei(pub u128);

/// Text that is not a decimal number of wei.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a decimal number of wei")]
pub struct WeiError(pub String);

impl Wei {
    /// 1.0 of a network's token (18 decimals).
    pub const ONE_TOKEN: Wei = Wei(1_000_000_000_000_000_000);
    /// The most one request may pay on a network whose cap the user has not set.
    pub const DEFAULT_CAP: Wei = Wei::ONE_TOKEN;

    /// As a decimal amount of the token, trailing zeros trimmed ("1.0", "0.0025").
    pub fn units(self) -> String {
        let one = Self::ONE_TOKEN.0;
        let whole = self.0 / one;
        let frac = format!("{:018}", self.0 % one);
        let frac = frac.trim_end_matches('0');
        format!("{whole}.{}", if frac.is_empty() { "0" } else { frac })
    }
}

impl FromStr for Wei {
    type Err = WeiError;

    /// The one parser of wei in the companion.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WeiError(s.to_owned()));
        }
        s.parse().map(Wei).map_err(|_| WeiError(s.to_owned()))
    }
}

impl fmt::Display for Wei {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

crate::serde_as_text!(Wei);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits_only_round_trip() {
        for text in [
            "0",
            "1",
            "1000000000000000000",
            "340282366920938463463374607431768211455",
        ] {
            let w: Wei = text.parse().unwrap();
            assert_eq!(w.to_string(), text);
            assert_eq!(
                serde_json::from_str::<Wei>(&format!("\"{text}\"")).unwrap(),
                w
            );
        }
        for bad in [
            "",
            "-1",
            "+1",
            "1e18",
            "0x10",
            " 1",
            "1.5",
            "340282366920938463463374607431768211456",
        ] {
            assert!(bad.parse::<Wei>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn units() {
        assert_eq!(Wei(2_500_000_000_000_000).units(), "0.0025");
        assert_eq!(Wei::DEFAULT_CAP.units(), "1.0");
    }
}
