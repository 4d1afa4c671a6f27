//! `lit-companion store`: the app item store (`lit_companion_vault::AppStore`) for programs
//! that use the Lit SDK themselves — the keychain behind `@lit-companion/client/storage`.
//!
//! Values travel on stdin and stdout only, never in argv or the environment, and are never
//! logged; keys (the SDK's storage keys: names, addresses, public keys) are arguments.

use std::io::{Read, Write};

use clap::{Args, Subcommand};
use lit_companion_vault::{
    app_store::MAX_VALUE_LEN, AppName, AppStore, AppStoreError, OsKeychain, VaultError,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::{cmd::Failure, vault_cmd::vault_error};

/// The exit code of `get` when there is no such item (nothing on stdout): distinct from the
/// failures (2), so that a caller tells "absent" from "broken".
const NOT_FOUND_EXIT: u8 = crate::cmd::exit::NOT_FOUND;

#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// Print an item's value (and a newline) on stdout; exit 3 when there is none.
    Get(ItemArgs),
    /// Store the value read from stdin (all of it, byte for byte) under KEY.
    Set(ItemArgs),
    /// Delete an item (nothing to delete is not an error).
    Delete(ItemArgs),
    /// List the app's keys as a JSON array.
    List(AppArgs),
    /// Delete every item of the app.
    Clear(AppArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AppArgs {
    /// The app whose items these are (1-64 letters, digits, '.', '_' or '-'); the keychain
    /// service is `lit-companion.store.<APP>`.
    #[arg(long, value_name = "APP")]
    app: String,
}

#[derive(Debug, Args)]
pub(crate) struct ItemArgs {
    #[command(flatten)]
    app: AppArgs,
    /// The item's key (the keychain account).
    key: String,
}

/// Runs a `store` command.
pub(crate) fn store(cmd: StoreCommand) -> Result<String, Failure> {
    match cmd {
        StoreCommand::Get(args) => {
            let store = open(&args.app)?;
            match store.get(&args.key).map_err(store_error)? {
                Some(value) => {
                    // Written here, not returned, so that the value is never copied into a
                    // `String` that outlives it; `main` prints the newline after it.
                    let mut stdout = std::io::stdout().lock();
                    stdout
                        .write_all(&value)
                        .and_then(|()| stdout.flush())
                        .map_err(|e| Failure::input(format!("cannot write stdout: {e}")))?;
                    Ok(String::new())
                }
                None => Err(Failure {
                    message: "not_found: no such item".into(),
                    exit_code: NOT_FOUND_EXIT,
                }),
            }
        }
        StoreCommand::Set(args) => {
            let store = open(&args.app)?;
            let value = read_value()?;
            store.set(&args.key, &value).map_err(store_error)?;
            pretty(&json!({ "stored": args.key, "bytes": value.len() }))
        }
        StoreCommand::Delete(args) => {
            let deleted = open(&args.app)?.delete(&args.key).map_err(store_error)?;
            pretty(&json!({ "deleted": deleted }))
        }
        StoreCommand::List(args) => pretty(&json!(open(&args)?.keys().map_err(store_error)?)),
        StoreCommand::Clear(args) => {
            pretty(&json!({ "deleted": open(&args)?.clear().map_err(store_error)? }))
        }
    }
}

fn open(args: &AppArgs) -> Result<AppStore, Failure> {
    let app = AppName::parse(&args.app).map_err(store_error)?;
    Ok(AppStore::new(&OsKeychain::from_env(), app))
}

/// Keychain failures say what to do, as every vault command does; the rest say what was wrong.
fn store_error(e: AppStoreError) -> Failure {
    match e {
        AppStoreError::Keychain(k) => vault_error(VaultError::Keychain(k)),
        other => Failure::input(format!("{}: {other}", other.code())),
    }
}

/// All of stdin as bytes (any bytes: the SDKs store JSON text), up to the store's limit.
fn read_value() -> Result<Zeroizing<Vec<u8>>, Failure> {
    // Room for the whole limit up front: a growing buffer would leave copies behind.
    let mut value = Zeroizing::new(Vec::with_capacity(MAX_VALUE_LEN + 1));
    std::io::stdin()
        .take(MAX_VALUE_LEN as u64 + 1)
        .read_to_end(&mut value)
        .map_err(|e| Failure::input(format!("cannot read stdin: {e}")))?;
    if value.len() > MAX_VALUE_LEN {
        return Err(store_error(AppStoreError::TooLarge {
            len: value.len(),
            max: MAX_VALUE_LEN,
        }));
    }
    Ok(value)
}

fn pretty(v: &serde_json::Value) -> Result<String, Failure> {
    serde_json::to_string_pretty(v).map_err(|e| Failure::input(format!("output: {e}")))
}
