//! `history`: the activity history the app's Activity screen shows, newest first.

use clap::Args;
use lit_companion_vault::{history::ActivityLine, GrantKey};
use time::OffsetDateTime;

use crate::{
    cmd::Failure,
    vault_cmd::{self, VaultArgs},
};

/// `history` flags.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Only this caller's lines: a web origin (https://app.example.com), a deep link's claim
    /// (unverified:https://app.example.com) or a local program (pairing:NAME).
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<String>,
    /// Print the lines as a JSON array (fields: at, event, origin, site, summary, detail,
    /// count).
    #[arg(long)]
    json: bool,
}

pub(crate) fn history(args: &HistoryArgs, vault_args: &VaultArgs) -> Result<String, Failure> {
    let only = args
        .origin
        .as_deref()
        .map(|o| {
            o.parse::<GrantKey>()
                .map_err(|e| Failure::input(format!("--origin: {e}")))
        })
        .transpose()?;
    let vault = vault_cmd::open(vault_args)?;
    let lines: Vec<ActivityLine> = vault
        .activity(OffsetDateTime::now_utc())
        .map_err(vault_cmd::vault_error)?
        .into_iter()
        .filter(|line| only.as_ref().is_none_or(|key| is_of(line, key)))
        .collect();
    if args.json {
        return serde_json::to_string_pretty(&lines)
            .map_err(|e| Failure::input(format!("output: {e}")));
    }
    if lines.is_empty() {
        return Ok(match only {
            Some(key) => format!("No activity recorded for {}.", key.label()),
            None => "No activity recorded.".to_owned(),
        });
    }
    Ok(lines
        .iter()
        .map(ActivityLine::to_text)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Whether `line` is about the caller `key` names (compared as grant keys, so that
/// `https://app.example.com:443` finds what is stored as `https://app.example.com`).
fn is_of(line: &ActivityLine, key: &GrantKey) -> bool {
    line.origin
        .as_deref()
        .and_then(|o| o.parse::<GrantKey>().ok())
        .is_some_and(|o| o == *key)
}
