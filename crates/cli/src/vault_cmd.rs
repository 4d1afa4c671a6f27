//! `wallet …`, `sessions …` and the vault-backed `session sign`.

use std::{path::PathBuf, sync::Arc};

use clap::{Args, Subcommand};
use lit_companion_session::{
    explain::describe_requests, Address, Generation, Origin, PkpPublicKey, ResourceAbilityRequest,
};
use lit_companion_vault::{
    metadata::WalletKind, paths::default_data_dir, Grantee, Issuance, Need, NewSession, OsKeychain,
    Revoke, SignRequest, Vault, VaultError,
};
use serde_json::json;
use time::OffsetDateTime;

use crate::{
    cmd::Failure,
    input::{read_key_file, read_stdin},
};

/// Where the vault lives.
#[derive(Debug, Args, Default)]
pub(crate) struct VaultArgs {
    /// The data directory (default: the platform's, or $LIT_COMPANION_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WalletCommand {
    /// Create a wallet key in the OS keychain.
    New {
        /// A name for it.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Import a private key (hex) from stdin or a file (mode 0600); never from the command line.
    Import {
        /// A name for it.
        #[arg(long, default_value = "")]
        label: String,
        /// Read the key from this file instead of stdin.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Add a browser wallet (MetaMask, Rabby, a Ledger behind one) by its address: it signs
    /// each new session in the requesting page, and nothing secret is stored for it.
    AddExternal {
        /// The wallet's address.
        address: String,
        /// A name for it (e.g. the browser wallet's name).
        #[arg(long, default_value = "Browser wallet")]
        label: String,
    },
    /// Add a PKP by its public key (`0x04…`): the Lit network signs its sessions once the
    /// wallet named by --auth (one of yours, local or browser) signs in for it. Nothing secret
    /// is stored for it.
    AddPkp {
        /// The PKP's public key, uncompressed (`0x04` + 128 hex) or compressed.
        public_key: String,
        /// The wallet that signs in for it (its auth method, an EOA).
        #[arg(long, value_name = "0xWALLET")]
        auth: String,
        /// A name for it.
        #[arg(long, default_value = "PKP")]
        label: String,
    },
    /// List wallets by address, label and kind (`local`: the key is in the OS keychain;
    /// `external`: a browser wallet signs; `pkp`: the Lit network signs once its wallet signs
    /// in).
    List,
    /// Print a wallet's private key (hex). Only on explicit request.
    Export {
        /// The wallet's address.
        address: String,
    },
    /// Remove a wallet (and revoke its sessions); its key leaves the keychain.
    Remove {
        /// The wallet's address.
        address: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SessionsCommand {
    /// List sessions: origin, network, wallet, what they may do, until when.
    List {
        /// Only this origin's.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Revoke sessions: their keys leave the keychain at once.
    Revoke {
        /// One session, by its public key.
        #[arg(long, conflicts_with_all = ["origin", "all"])]
        session: Option<String>,
        /// Every session of an origin.
        #[arg(long, conflicts_with = "all")]
        origin: Option<String>,
        /// Everything.
        #[arg(long)]
        all: bool,
    },
}

const REVOKE_NOTE: &str =
    "sessionSigs already handed out stay valid at the Lit nodes until they expire; revoking stops new ones";

pub(crate) fn vault_error(e: VaultError) -> Failure {
    let code = e.code();
    let hint = match &e {
        VaultError::Keychain(lit_companion_vault::KeychainError::Locked) => {
            " (unlock your keyring, e.g. by logging in, then retry)"
        }
        VaultError::Keychain(lit_companion_vault::KeychainError::Unavailable(_)) => {
            " (a Secret Service such as gnome-keyring must run on the D-Bus session bus)"
        }
        _ => "",
    };
    Failure::of(e.kind(), format!("{code}: {e}{hint}"))
}

/// Opens the vault (repairing and sweeping as it does).
/// The data directory: `--data-dir`, else the platform's.
pub(crate) fn data_dir(args: &VaultArgs) -> Result<PathBuf, Failure> {
    match &args.data_dir {
        Some(d) => Ok(d.clone()),
        None => default_data_dir()
            .ok_or_else(|| Failure::input("no data directory: set HOME or --data-dir")),
    }
}

pub(crate) fn open(args: &VaultArgs) -> Result<Vault, Failure> {
    let dir = data_dir(args)?;
    let (vault, _) = Vault::open(
        &dir,
        Arc::new(OsKeychain::from_env()),
        OffsetDateTime::now_utc(),
    )
    .map_err(vault_error)?;
    Ok(vault)
}

fn parse_address(text: &str) -> Result<Address, Failure> {
    Address::parse_any_case(text).map_err(|e| Failure::input(format!("address: {e}")))
}

fn pretty(v: &serde_json::Value) -> Result<String, Failure> {
    serde_json::to_string_pretty(v).map_err(|e| Failure::input(format!("output: {e}")))
}

pub(crate) fn wallet(cmd: WalletCommand, args: &VaultArgs) -> Result<String, Failure> {
    let vault = open(args)?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        WalletCommand::New { label } => {
            let address = vault.create_wallet(&label, now).map_err(vault_error)?;
            pretty(&json!({ "address": address.to_checksum() }))
        }
        WalletCommand::Import { label, file } => {
            let key = match file {
                Some(path) => read_key_file(&path)?,
                None => zeroize::Zeroizing::new(read_stdin()?.trim().to_owned()),
            };
            let address = vault
                .import_wallet(&key, &label, now)
                .map_err(vault_error)?;
            pretty(&json!({ "address": address.to_checksum() }))
        }
        WalletCommand::AddExternal { address, label } => {
            let address = parse_address(&address)?;
            vault
                .add_external_wallet(&address, &label, now)
                .map_err(vault_error)?;
            pretty(&json!({ "address": address.to_checksum(), "kind": WalletKind::External }))
        }
        WalletCommand::AddPkp {
            public_key,
            auth,
            label,
        } => {
            let key = PkpPublicKey::parse(&public_key)
                .map_err(|e| Failure::input(format!("public key: {e}")))?;
            let auth = parse_address(&auth)?;
            let address = vault
                .add_pkp(&key, &auth, &label, now)
                .map_err(vault_error)?;
            pretty(&json!({
                "address": address.to_checksum(),
                "kind": WalletKind::Pkp,
                "publicKey": key.to_hex(),
                "tokenId": key.token_id(),
                "auth": auth.to_checksum(),
            }))
        }
        WalletCommand::List => {
            let wallets = vault.wallets().map_err(vault_error)?;
            let list: Vec<_> = wallets
                .iter()
                .map(|w| {
                    let mut item = json!({ "address": w.address, "label": w.label, "kind": w.kind, "createdAt": w.created_at });
                    if let Some(pkp) = &w.pkp {
                        item["publicKey"] = json!(pkp.public_key);
                        item["auth"] = json!(pkp.auth);
                        if let Ok(key) = PkpPublicKey::parse(&pkp.public_key) {
                            item["tokenId"] = json!(key.token_id());
                        }
                    }
                    item
                })
                .collect();
            pretty(&json!(list))
        }
        WalletCommand::Export { address } => {
            let address = parse_address(&address)?;
            let key = vault.export_wallet(&address, now).map_err(vault_error)?;
            eprintln!("warning: this is the private key of {address}; anyone who sees it controls the account");
            Ok(format!("0x{}", key.as_str()))
        }
        WalletCommand::Remove { address } => {
            let address = parse_address(&address)?;
            let revoked = vault.remove_wallet(&address, now).map_err(vault_error)?;
            if revoked > 0 {
                eprintln!("note: {REVOKE_NOTE}");
            }
            pretty(&json!({ "removed": address.to_checksum(), "revokedSessions": revoked }))
        }
    }
}

pub(crate) fn sessions(cmd: SessionsCommand, args: &VaultArgs) -> Result<String, Failure> {
    let vault = open(args)?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        SessionsCommand::List { origin } => {
            let origin = origin
                .map(|o| Origin::parse(&o).map(|o| o.to_string()))
                .transpose()
                .map_err(|e| Failure::input(e.to_string()))?;
            let list: Vec<_> = vault
                .sessions()
                .map_err(vault_error)?
                .into_iter()
                .filter(|s| origin.as_ref().is_none_or(|o| *o == s.origin))
                .map(|s| {
                    let sentences: Vec<String> = describe_requests(&s.granted).into_iter().map(|l| l.sentence).collect();
                    json!({
                        "sessionKey": s.public_key, "origin": s.origin, "network": s.network, "wallet": s.wallet,
                        "expiresAt": s.expires_at, "state": s.state, "mayDo": sentences, "deadReason": s.dead_reason,
                    })
                })
                .collect();
            pretty(&json!(list))
        }
        SessionsCommand::Revoke {
            session,
            origin,
            all,
        } => {
            let origin = origin
                .map(|o| Origin::parse(&o).map(|o| o.to_string()))
                .transpose()
                .map_err(|e| Failure::input(e.to_string()))?;
            let which = match (&session, &origin, all) {
                (Some(s), None, false) => Revoke::Session(s),
                (None, Some(o), false) => Revoke::Origin(o),
                (None, None, true) => Revoke::All,
                _ => {
                    return Err(Failure::input(
                        "say which: --session KEY, --origin ORIGIN or --all",
                    ))
                }
            };
            let revoked = vault.revoke(which, now).map_err(vault_error)?;
            eprintln!("note: {REVOKE_NOTE}");
            pretty(&json!({ "revoked": revoked, "note": REVOKE_NOTE }))
        }
    }
}

/// What the vault-backed `session sign` needs besides the shared flags.
#[derive(Debug)]
pub(crate) struct VaultSign<'a> {
    pub(crate) wallet: &'a str,
    pub(crate) origin: &'a str,
    pub(crate) domain: Option<&'a str>,
    pub(crate) network: &'a str,
    pub(crate) generation: Generation,
    pub(crate) requests: &'a [ResourceAbilityRequest],
    pub(crate) statement: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) now: OffsetDateTime,
    pub(crate) expiration: OffsetDateTime,
    pub(crate) nodes: &'a [String],
    pub(crate) delegations: &'a [lit_companion_session::AuthSig],
    pub(crate) max_price_wei: Option<u128>,
}

/// Reuses the origin's live session when it covers the request; otherwise signs a new AuthSig
/// (for what was granted plus what is new) and stores it. The operator running the command is
/// the one approving.
pub(crate) fn sign(p: &VaultSign<'_>, args: &VaultArgs) -> Result<String, Failure> {
    let origin = Origin::parse(p.origin).map_err(|e| Failure::input(format!("--origin: {e}")))?;
    let domain = origin.authority();
    if let Some(d) = p.domain {
        if d != domain {
            return Err(Failure::input(format!(
                "--domain {d} is not the origin's host {domain}: refused"
            )));
        }
    }
    let wallet = parse_address(p.wallet)?;
    let vault = open(args)?;
    let origin_text = origin.to_string();
    let who = Grantee {
        origin: &origin_text,
        network: p.network,
        wallet,
    };
    let need = Need::at(p.requests, p.now, p.max_price_wei);
    let (live, reused) = match vault.session_for(&who, &need).map_err(vault_error)? {
        Issuance::Live(live) => (live, true),
        Issuance::Ask(ask) => {
            // The operator running the command is the one approving.
            eprintln!("note: signing a new AuthSig: {ask}");
            let live = vault
                .create_session(
                    &who,
                    &ask.grant,
                    &NewSession {
                        domain: &domain,
                        statement: p.statement,
                        nonce: p.nonce,
                        now: p.now,
                        expiration: p.expiration,
                        max_price_wei: p.max_price_wei,
                    },
                )
                .map_err(vault_error)?;
            (live, false)
        }
    };
    let sigs = live
        .sign(&SignRequest {
            generation: p.generation,
            requests: p.requests,
            nodes: p.nodes,
            now: p.now,
            expiration: p.expiration,
            delegations: p.delegations,
            max_price_wei: p.max_price_wei,
        })
        .map_err(vault_error)?;
    if reused {
        vault.note_reuse(&live);
        vault.flush_reuse(p.now).map_err(vault_error)?;
    }
    serde_json::to_string_pretty(&sigs).map_err(|e| Failure::input(format!("output: {e}")))
}
