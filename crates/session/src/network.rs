//! Lit networks and the two SDK generations that talk to them.

use std::{fmt, str::FromStr};

use crate::error::ResourceError;

/// The wire-format generation: Datil networks speak the JS SDK v7 format, Naga networks v8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Generation {
    /// `datil-dev`, `datil-test`, `datil` (SDK v7).
    Datil,
    /// `naga-dev`, `naga-test`, `naga` (SDK v8).
    Naga,
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Datil => "Datil",
            Self::Naga => "Naga",
        })
    }
}

/// A Lit network by its SDK name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Network {
    /// `datil-dev`.
    DatilDev,
    /// `datil-test`.
    DatilTest,
    /// `datil`: the Datil main network.
    Datil,
    /// `naga-dev`.
    NagaDev,
    /// `naga-test`.
    NagaTest,
    /// `naga`: the Naga main network.
    Naga,
}

impl Network {
    /// Every network.
    pub const ALL: [Network; 6] = [
        Self::DatilDev,
        Self::DatilTest,
        Self::Datil,
        Self::NagaDev,
        Self::NagaTest,
        Self::Naga,
    ];

    /// The SDK's name (`LIT_NETWORK`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DatilDev => "datil-dev",
            Self::DatilTest => "datil-test",
            Self::Datil => "datil",
            Self::NagaDev => "naga-dev",
            Self::NagaTest => "naga-test",
            Self::Naga => "naga",
        }
    }

    /// Which wire format this network takes.
    pub fn generation(self) -> Generation {
        match self {
            Self::DatilDev | Self::DatilTest | Self::Datil => Generation::Datil,
            Self::NagaDev | Self::NagaTest | Self::Naga => Generation::Naga,
        }
    }

    /// Whether the network is a test network (its tokens have no value).
    pub fn is_test(self) -> bool {
        !matches!(self, Self::Datil | Self::Naga)
    }

    /// The name a person reads: "Datil (main network)", "Naga dev (test network)".
    pub fn label(self) -> &'static str {
        match self {
            Self::DatilDev => "Datil dev (test network)",
            Self::DatilTest => "Datil test (test network)",
            Self::Datil => "Datil (main network)",
            Self::NagaDev => "Naga dev (test network)",
            Self::NagaTest => "Naga test (test network)",
            Self::Naga => "Naga (main network)",
        }
    }
}

impl FromStr for Network {
    type Err = ResourceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| ResourceError::UnknownNetwork(s.to_owned()))
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
