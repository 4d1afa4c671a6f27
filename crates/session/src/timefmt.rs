//! Timestamps as the SDK writes them: ISO 8601 / RFC 3339 in UTC with milliseconds and `Z`
//! (JavaScript `Date.prototype.toISOString`), e.g. `2026-11-24T21:42:09.296Z`.

use time::{format_description::well_known::Rfc3339, OffsetDateTime, UtcOffset};

use crate::error::MessageError;

/// Formats `t` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (sub-millisecond digits dropped, as JS does).
pub fn iso_millis(t: OffsetDateTime) -> Result<String, MessageError> {
    let t = t.to_offset(UtcOffset::UTC);
    if !(0..=9999).contains(&t.year()) {
        return Err(MessageError::Time);
    }
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

/// Parses any RFC 3339 timestamp.
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// `t` truncated to whole milliseconds, so that formatting and re-parsing give the same value.
pub fn truncate_millis(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000_000).unwrap_or(t)
}

/// A moment kept in a record: parsed once when read, written as [`iso_millis`] text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// `t` (to the millisecond), when it can be written (years 0 to 9999).
    pub fn new(t: OffsetDateTime) -> Result<Self, MessageError> {
        let t = truncate_millis(t.to_offset(UtcOffset::UTC));
        iso_millis(t)?;
        Ok(Self(t))
    }

    /// The moment.
    pub fn at(self) -> OffsetDateTime {
        self.0
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `new` and `from_str` keep the year writable.
        f.write_str(&iso_millis(self.0).map_err(|_| std::fmt::Error)?)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = MessageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(parse_rfc3339(s).ok_or(MessageError::Time)?)
    }
}

crate::serde_as_text!(Timestamp);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_their_text() {
        let t: Timestamp = "2026-11-24T21:42:09.296Z".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-24T21:42:09.296Z");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert!("yesterday".parse::<Timestamp>().is_err());
        assert!("10000-01-01T00:00:00Z".parse::<Timestamp>().is_err());
    }

    #[test]
    fn formats_like_to_iso_string() {
        let t = parse_rfc3339("2026-11-24T21:42:09.296789Z").unwrap();
        assert_eq!(iso_millis(t).unwrap(), "2026-11-24T21:42:09.296Z");
        let t = parse_rfc3339("2030-01-01T01:00:00+01:00").unwrap();
        assert_eq!(iso_millis(t).unwrap(), "2030-01-01T00:00:00.000Z");
    }
}
