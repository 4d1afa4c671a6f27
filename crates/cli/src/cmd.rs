//! The command tree and its handlers. Handlers parse, call the core crate, and map errors.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use lit_companion_session::{
    authsig::AuthSig,
    explain::{describe_recap, explain_siwe},
    keys::{SessionKeyPair, SessionSeed},
    message::SessionMessage,
    recap::Recap,
    resource::{Ability, LitResource, ResourceAbilityRequest},
    session_sigs::{sign_session_sigs, SessionParams, SessionSigs},
    timefmt::{iso_millis, parse_rfc3339, truncate_millis},
    verify::{verify_for_node, NodeContext},
    wallet::WalletKey,
    ErrorKind, Generation, NetworkKey, Wei,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{
    browser_cmd::{self, BrowserArgs},
    history_cmd::{self, HistoryArgs},
    input::{read_key_file, read_stdin},
    link_cmd,
    serve_cmd::{self, PairCommand, ServeArgs},
    vault_cmd::{self, SessionsCommand, VaultArgs, WalletCommand},
};

/// A failure: a one-line message and an exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) exit_code: u8,
}

/// The exit codes (README "Exit codes"): one per kind of failure, so that a script can tell a
/// locked keychain from a typo.
pub(crate) mod exit {
    /// A signature was checked and refused, or the companion answered no.
    pub(crate) const REFUSED: u8 = 1;
    /// Bad input: arguments, stdin, a file's content.
    pub(crate) const INPUT: u8 = 2;
    /// `store get`: no such key (the SDK storage protocol's "not found").
    pub(crate) const NOT_FOUND: u8 = 3;
    /// The OS keychain is locked, missing or failing.
    pub(crate) const KEYCHAIN: u8 = 4;
    /// The Lit nodes or the chain could not be reached, or disagree; or the companion is not
    /// running.
    pub(crate) const NETWORK: u8 = 5;
    /// A file or directory could not be read or written.
    pub(crate) const FILES: u8 = 6;
    /// A bug.
    pub(crate) const INTERNAL: u8 = 70;
}

impl Failure {
    /// Bad input: exit 2.
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Input, message)
    }
    /// A signature was checked and refused: exit 1.
    fn refused(message: impl Into<String>) -> Self {
        Self::of(ErrorKind::Refused, message)
    }
    /// A failure of the given kind, with its exit code.
    pub(crate) fn of(kind: ErrorKind, message: impl Into<String>) -> Self {
        let exit_code = match kind {
            ErrorKind::Refused => exit::REFUSED,
            ErrorKind::Keychain => exit::KEYCHAIN,
            ErrorKind::Network => exit::NETWORK,
            ErrorKind::Files => exit::FILES,
            ErrorKind::Internal => exit::INTERNAL,
            _ => exit::INPUT,
        };
        Self {
            message: message.into(),
            exit_code,
        }
    }
}

fn input_err<E: std::fmt::Display>(context: &str) -> impl FnOnce(E) -> Failure + '_ {
    move |e| Failure::input(format!("{context}: {e}"))
}

/// Lit session signatures without handing anyone a private key.
#[derive(Debug, Parser)]
#[command(name = "lit-companion", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    vault: VaultArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make or check sessionSigs.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Work with ERC-5573 ReCap URIs.
    #[command(subcommand)]
    Recap(RecapCommand),
    /// Work with SIWE (EIP-4361) messages.
    #[command(subcommand)]
    Siwe(SiweCommand),
    /// Wallet keys in the OS keychain.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Sessions the vault keeps (one per origin, network and wallet).
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// The activity history the app shows, newest first: time, site, what happened, how often.
    History(HistoryArgs),
    /// An app's own items in the OS keychain (the Lit SDK's storage for Node.js programs).
    #[command(subcommand)]
    Store(crate::store_cmd::StoreCommand),
    /// The Lit networks the companion serves: built in, and your own.
    #[command(subcommand)]
    Network(crate::network_cmd::NetworkCommand),
    /// Serve sessionSigs to dapps over loopback HTTP, headless.
    Serve(ServeArgs),
    /// The desktop companion: every road, the prompts, the tray icon, and the app's window
    /// (`lit-companion-app`) opened when wanted. What the desktop app runs.
    Tray {
        /// Start in the tray, without opening the window (how it starts at login).
        #[arg(long)]
        hidden: bool,
    },
    /// Pairing tokens for local programs without an origin.
    #[command(subcommand)]
    Pair(PairCommand),
    /// Register the native-messaging host with the browsers (idempotent).
    InstallBrowserHost(BrowserArgs),
    /// Remove the native-messaging host registrations.
    UninstallBrowserHost(BrowserArgs),
    /// Check the browser host manifests, the host binary, the socket, the running companion, and
    /// whether the app starts at login.
    Doctor(BrowserArgs),
    /// Hand a lit-companion:// link to the running companion (what the OS runs for such links).
    OpenUrl {
        /// The link.
        url: String,
    },
    /// Register this program as the handler of lit-companion:// links (Linux: .desktop + xdg-mime;
    /// Windows: the user's HKCU\Software\Classes\lit-companion key).
    RegisterUrlHandler,
    /// Remove the lit-companion:// handler registration.
    UnregisterUrlHandler,
}

#[derive(Debug, Subcommand)]
enum SessionCommand {
    /// Sign sessionSigs for the requests on stdin (a JSON array in the SDK's shape).
    Sign(Box<SignArgs>),
    /// Check the sessionSigs map on stdin as the given node would.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("signer").required(true).args(["wallet_key_file", "wallet"])))]
struct SignArgs {
    /// File holding the wallet's private key as hex (mode 0600). Headless use, no vault.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["wallet", "origin"])]
    wallet_key_file: Option<PathBuf>,
    /// File holding the 32-byte session seed as hex (mode 0600); a fresh key when omitted.
    #[arg(long, value_name = "FILE", requires = "wallet_key_file")]
    session_seed_file: Option<PathBuf>,
    /// A wallet in the vault (its address): the session key and AuthSig are kept in the OS
    /// keychain and reused for this origin while they cover the request.
    #[arg(long, value_name = "ADDRESS", requires = "origin")]
    wallet: Option<String>,
    /// The origin the session is for (https://app.example.com); the SIWE domain is its host.
    #[arg(long, value_name = "ORIGIN", requires = "wallet")]
    origin: Option<String>,
    /// A node URL (http(s)://host:port); repeat for each node.
    #[arg(long = "node", value_name = "URL", required = true)]
    nodes: Vec<String>,
    /// The SIWE nonce: the latest Ethereum block hash from the nodes' handshake.
    #[arg(long, value_name = "HEX")]
    nonce: String,
    /// When the session ends (RFC 3339); at most 30 days away.
    #[arg(long, value_name = "RFC3339")]
    expiration: String,
    /// datil-dev, datil-test, datil, naga-dev, naga-test or naga; picks the wire format.
    #[arg(long, value_name = "NAME")]
    network: String,
    /// The SIWE domain (the requesting app's host); with --origin it must be the origin's host.
    #[arg(long)]
    domain: Option<String>,
    /// The app's statement, placed before the capability statement.
    #[arg(long, default_value = "")]
    statement: String,
    /// Naga: the most a node may charge per request, in wei (decimal); at most, and by default,
    /// the cap set for the network (`lit-companion network cap`; 10^18, i.e. 1.0, unless
    /// changed). (The JS SDK's default is effectively unlimited; we cap it.)
    #[arg(long, value_name = "WEI")]
    max_price: Option<Wei>,
    /// Signing time (RFC 3339); now when omitted. For reproducible output.
    #[arg(long, value_name = "RFC3339")]
    issued_at: Option<String>,
    /// A capacity or payment delegation AuthSig (JSON file) to carry; repeatable.
    #[arg(long = "delegation", value_name = "FILE")]
    delegations: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The node whose entry to check (its URL, as a key of the map).
    #[arg(long, value_name = "URL")]
    node: String,
    /// The node's clock (RFC 3339); now when omitted.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// A resource the request needs, as PREFIX://ID.
    #[arg(long, value_name = "PREFIX://ID", requires = "ability")]
    resource: Option<String>,
    /// The ability the request needs.
    #[arg(long, value_name = "NAME", requires = "resource")]
    ability: Option<String>,
    /// The node's network; inferred from the message (maxPrice means Naga) when omitted.
    #[arg(long, value_name = "NAME")]
    network: Option<String>,
    /// The network's BLS public key (96 hex, the handshake's networkPublicKey), which verifies
    /// a PKP session's LIT_BLS capability; such a session is refused without it.
    #[arg(long, value_name = "HEX")]
    network_key: Option<String>,
}

#[derive(Debug, Subcommand)]
enum RecapCommand {
    /// Decode a urn:recap: URI into JSON with plain-language lines.
    Decode {
        /// The urn:recap: URI.
        urn: String,
    },
}

#[derive(Debug, Subcommand)]
enum SiweCommand {
    /// Explain the SIWE message on stdin: what it grants, for how long, what is risky.
    Explain {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a parsed command, returning what to print.
pub(crate) fn run(cli: Cli) -> Result<String, Failure> {
    match cli.command {
        Command::Session(SessionCommand::Sign(args)) => sign(*args, &cli.vault),
        Command::Session(SessionCommand::Verify(args)) => verify(args),
        Command::Recap(RecapCommand::Decode { urn }) => recap_decode(&urn),
        Command::Siwe(SiweCommand::Explain { json }) => siwe_explain(json),
        Command::Wallet(cmd) => vault_cmd::wallet(cmd, &cli.vault),
        Command::Sessions(cmd) => vault_cmd::sessions(cmd, &cli.vault),
        Command::History(args) => history_cmd::history(&args, &cli.vault),
        Command::Store(cmd) => crate::store_cmd::store(cmd),
        Command::Network(cmd) => crate::network_cmd::network(cmd, &cli.vault),
        Command::Serve(args) => serve_cmd::serve(args, &cli.vault),
        Command::Tray { hidden } => serve_cmd::tray(hidden, &cli.vault),
        Command::Pair(cmd) => serve_cmd::pair(cmd, &cli.vault),
        Command::InstallBrowserHost(args) => browser_cmd::install_host(&args),
        Command::UninstallBrowserHost(args) => browser_cmd::uninstall_host(&args),
        Command::Doctor(args) => browser_cmd::doctor(&args),
        Command::OpenUrl { url } => link_cmd::open_url(&url),
        Command::RegisterUrlHandler => link_cmd::register(),
        Command::UnregisterUrlHandler => link_cmd::unregister(),
    }
}

fn parse_time(text: &str, what: &str) -> Result<OffsetDateTime, Failure> {
    parse_rfc3339(text)
        .ok_or_else(|| Failure::input(format!("{what} {text:?} is not an RFC 3339 time")))
}

fn sign(args: SignArgs, vault_args: &VaultArgs) -> Result<String, Failure> {
    let generation = crate::network_cmd::generation_of(&args.network, vault_args)?;
    let requests =
        ResourceAbilityRequest::parse_list(&read_stdin()?).map_err(input_err("stdin"))?;
    for r in &requests {
        r.check_generation(generation).map_err(input_err("stdin"))?;
    }
    let issued_at = match &args.issued_at {
        Some(t) => parse_time(t, "--issued-at")?,
        None => truncate_millis(OffsetDateTime::now_utc()),
    };
    let expiration = parse_time(&args.expiration, "--expiration")?;
    let cap = crate::network_cmd::cap_of(&args.network, vault_args)?;
    let max_price_wei = max_price(generation, args.max_price, cap)?;
    let delegations = read_delegations(&args.delegations)?;
    if let (Some(wallet), Some(origin)) = (&args.wallet, &args.origin) {
        return vault_cmd::sign(
            &vault_cmd::VaultSign {
                wallet,
                origin,
                domain: args.domain.as_deref(),
                network: &args.network,
                generation,
                requests: &requests,
                statement: &args.statement,
                nonce: &args.nonce,
                now: issued_at,
                expiration,
                nodes: &args.nodes,
                delegations: &delegations,
                max_price_wei,
            },
            vault_args,
        );
    }
    let key_file = args
        .wallet_key_file
        .as_ref()
        .ok_or_else(|| Failure::input("--wallet-key-file or --wallet is required"))?;
    let wallet =
        WalletKey::from_hex(&read_key_file(key_file)?).map_err(input_err("--wallet-key-file"))?;
    let session = match &args.session_seed_file {
        Some(path) => SessionKeyPair::from_seed(
            &SessionSeed::from_hex(&read_key_file(path)?)
                .map_err(input_err("--session-seed-file"))?,
        ),
        None => SessionKeyPair::generate(),
    };
    let siwe = SessionMessage {
        domain: args.domain.as_deref().unwrap_or("localhost"),
        address: wallet.address(),
        statement: &args.statement,
        session_key: &session.public_key().to_hex(),
        nonce: &args.nonce,
        issued_at,
        expiration,
        grant: &requests,
    }
    .build()
    .map_err(input_err("SIWE message"))?;
    let wallet_auth_sig = AuthSig::sign(&wallet, siwe).map_err(input_err("wallet"))?;
    let sigs = sign_session_sigs(&SessionParams {
        generation,
        session_key: &session,
        requests: &requests,
        wallet_auth_sig: &wallet_auth_sig,
        delegation_auth_sigs: &delegations,
        issued_at,
        expiration,
        node_urls: &args.nodes,
        max_price_wei,
    })
    .map_err(input_err("sessionSigs"))?;
    serde_json::to_string_pretty(&sigs).map_err(input_err("output"))
}

/// The price a Naga request may pay: what `--max-price` says, never above the user's cap for
/// the network (the same cap the engine holds every road to); the cap when none is given.
fn max_price(
    generation: Generation,
    given: Option<Wei>,
    cap: Wei,
) -> Result<Option<u128>, Failure> {
    match (generation, given) {
        (Generation::Naga, Some(p)) if p > cap => Err(Failure::input(format!(
            "--max-price {p} wei is above the cap of {cap} wei per request set for this network \
             (lit-companion network cap)"
        ))),
        (Generation::Naga, Some(p)) => Ok(Some(p.0)),
        (Generation::Naga, None) => {
            eprintln!(
                "note: maxPrice defaults to the network's cap, {cap} wei ({}) per request; set it with --max-price",
                cap.units()
            );
            Ok(Some(cap.0))
        }
        (Generation::Datil, Some(_)) => {
            Err(Failure::input("--max-price applies to Naga networks only"))
        }
        (Generation::Datil, None) => Ok(None),
    }
}

fn read_delegations(paths: &[PathBuf]) -> Result<Vec<AuthSig>, Failure> {
    let mut delegations = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
        let auth_sig = AuthSig::from_json(&text).map_err(input_err("--delegation"))?;
        auth_sig
            .verify_signature()
            .map_err(input_err("--delegation"))?;
        delegations.push(auth_sig);
    }
    Ok(delegations)
}

fn verify(args: VerifyArgs) -> Result<String, Failure> {
    let map: SessionSigs = serde_json::from_str(&read_stdin()?)
        .map_err(input_err("stdin is not a sessionSigs map"))?;
    let now = match &args.now {
        Some(t) => parse_time(t, "--now")?,
        None => OffsetDateTime::now_utc(),
    };
    let request = match (&args.resource, &args.ability) {
        (Some(res), Some(ab)) => {
            let resource = LitResource::parse_key(res).map_err(input_err("--resource"))?;
            let ability: Ability = ab.parse().map_err(input_err("--ability"))?;
            Some(ResourceAbilityRequest::new(resource, ability).map_err(input_err("--ability"))?)
        }
        _ => None,
    };
    let generation = match &args.network {
        Some(n) => crate::network_cmd::generation_of(n, &VaultArgs::default())?,
        None => infer_generation(&map, &args.node),
    };
    let network_key: Option<NetworkKey> = match &args.network_key {
        Some(hex) => Some(hex.parse().map_err(input_err("--network-key"))?),
        None => None,
    };
    let ctx = NodeContext {
        node_address: &args.node,
        generation,
        now,
        request: request.as_ref(),
        network_key: network_key.as_ref(),
    };
    let session = verify_for_node(&map, &args.node, &ctx)
        .map_err(|e| Failure::refused(format!("{}: {e}", e.code())))?;
    let summary = json!({
        "valid": true,
        "node": args.node,
        "generation": generation.to_string(),
        "sessionKey": session.session_key.to_hex(),
        "wallet": session.wallet.to_checksum(),
        "issuedAt": iso_millis(session.issued_at).unwrap_or_default(),
        "expiration": iso_millis(session.expiration).unwrap_or_default(),
        "requests": session.requests,
        "granted": describe_recap(&session.recap),
        "delegators": session.delegations.iter().map(|a| a.to_checksum()).collect::<Vec<_>>(),
        "maxPrice": session.max_price_wei.map(|p| p.to_string()),
    });
    serde_json::to_string_pretty(&summary).map_err(input_err("output"))
}

/// Naga messages carry `maxPrice`; Datil messages do not.
fn infer_generation(map: &SessionSigs, node: &str) -> Generation {
    let has_max_price = map
        .get(node)
        .and_then(|e| serde_json::from_str::<Value>(&e.signed_message).ok())
        .is_some_and(|v| v.get("maxPrice").is_some());
    if has_max_price {
        Generation::Naga
    } else {
        Generation::Datil
    }
}

fn recap_decode(urn: &str) -> Result<String, Failure> {
    let recap = Recap::decode(urn.trim()).map_err(input_err("ReCap"))?;
    let json_text = recap.to_canonical_json().map_err(input_err("ReCap"))?;
    let value: Value = serde_json::from_str(&json_text).map_err(input_err("ReCap"))?;
    let out = json!({
        "recap": value,
        "statement": recap.statement(),
        "capabilities": describe_recap(&recap),
    });
    serde_json::to_string_pretty(&out).map_err(input_err("output"))
}

fn siwe_explain(as_json: bool) -> Result<String, Failure> {
    let text = read_stdin()?;
    let explanation =
        explain_siwe(text.trim_end_matches(['\n', '\r'])).map_err(input_err("SIWE message"))?;
    if as_json {
        serde_json::to_string_pretty(&explanation).map_err(input_err("output"))
    } else {
        Ok(explanation.to_text().trim_end().to_owned())
    }
}
