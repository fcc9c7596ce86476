//! `careid mock serve`: runs the mock CIS2 provider in the foreground and prints what a client
//! needs to use it (issuer, client ids and secrets) until Ctrl-C.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use mock_cis2::{ArmedFault, AutoLogin, ClientRegistry, Directory, MockCis2, Mode, RunningMock};

#[derive(Debug, Subcommand)]
pub enum MockCommand {
    /// Run the mock provider until Ctrl-C, printing its issuer, clients and secrets.
    #[command(after_help = "Examples:
  careid mock serve --port 9000 --auto-login 555057896106
  careid mock serve --fault wrong_issuer --fault http_503@token:2")]
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The port to listen on, on 127.0.0.1 and ::1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Sign this test user in without a page: the authenticator and role as named, else the
    /// user's first (crates/mock-cis2/README.md).
    #[arg(
        long,
        value_name = "USER_ID[:AUTHENTICATOR[:ROLE_ID[:CHANGED_ROLE_ID]]]",
        value_parser = parse_auto_login
    )]
    auto_login: Option<AutoLogin>,
    /// A file of test users, shaped like the built-in data/users.json.
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// A file of registered clients, shaped like the built-in data/clients.json.
    #[arg(long, value_name = "FILE")]
    clients: Option<PathBuf>,
    /// The issuer string, used exactly as written; `{port}` stands for the bound port.
    #[arg(long, value_name = "STRING")]
    issuer: Option<String>,
    /// Emit the assurance level claims as numbers instead of strings (the same as
    /// --mode assurance_levels_as_numbers).
    #[arg(long)]
    assurance_levels_as_numbers: bool,
    /// Switch on a mode that shows CIS2 as it may really be; repeatable. Names are listed in
    /// crates/mock-cis2/MODES.md: lean_discovery, errors_without_iss, amr_as_string,
    /// roles_as_object, role_ids_as_numbers, role_fields_missing[=FIELD,...],
    /// assurance_levels_as_numbers, clock_skew=SECONDS.
    #[arg(long, value_name = "NAME[=VALUE]", value_parser = parse_mode)]
    mode: Vec<Mode>,
    /// Arm a fault for negative testing, at one endpoint or all, for COUNT requests or until
    /// cleared; repeatable. The names are listed in crates/mock-cis2/FAULTS.md (for example
    /// wrong_issuer, or http_503@token:2).
    #[arg(
        long,
        value_name = "NAME[@ENDPOINT][=MILLISECONDS][:COUNT]",
        value_parser = parse_fault
    )]
    fault: Vec<ArmedFault>,
    /// Register a careid broker at this public URL as CIS2 would: a private_key_jwt client
    /// (555000000008.apps.national) with jwks_uri URL/jwks and back-channel logout to
    /// URL/backchannel-logout.
    #[arg(long, value_name = "URL")]
    broker: Option<String>,
}

fn parse_fault(text: &str) -> Result<ArmedFault, String> {
    text.parse()
        .map_err(|error: mock_cis2::UnknownFault| error.to_string())
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    text.parse()
        .map_err(|error: mock_cis2::UnknownMode| error.to_string())
}

fn parse_auto_login(text: &str) -> Result<AutoLogin, String> {
    text.parse()
}

pub fn run(command: MockCommand) -> anyhow::Result<()> {
    let MockCommand::Serve(args) = command;
    let mut mock = MockCis2::new()
        .port(args.port)
        .assurance_levels_as_numbers(args.assurance_levels_as_numbers);
    if let Some(path) = &args.users {
        mock = mock.users(Directory::from_path(path)?);
    }
    if let Some(path) = &args.clients {
        mock = mock.clients(ClientRegistry::from_path(path)?);
    }
    if let Some(issuer) = args.issuer {
        mock = mock.issuer(issuer);
    }
    if let Some(auto_login) = args.auto_login.clone() {
        mock = mock.auto_login(auto_login);
    }
    if let Some(broker) = args.broker {
        mock = mock.broker(broker);
    }
    for fault in args.fault {
        mock = mock.fault(fault);
    }
    for mode in args.mode {
        mock = mock.mode(mode);
    }
    // The rest of the CLI is synchronous; the mock alone needs a runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let running = mock
            .start()
            .await
            .context("the mock CIS2 provider did not start")?;
        print_banner(&running, args.auto_login.as_ref());
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        eprintln!("careid: stopping the mock CIS2 provider");
        running.shutdown().await;
        Ok(())
    })
}

fn print_banner(running: &RunningMock, auto_login: Option<&AutoLogin>) {
    println!("Mock CIS2 provider (development keys, NOT NHS CIS2)");
    println!("issuer:    {}", running.issuer());
    println!(
        "discovery: {}/.well-known/openid-configuration",
        running.issuer().trim_end_matches('/')
    );
    let addresses: Vec<String> = running
        .addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    println!("listening: {}", addresses.join(", "));
    println!("admin:     {} (loopback only)", running.admin_url());
    println!(
        "faults:    {} (JSON, loopback only)",
        running.admin_faults_url()
    );
    let faults: Vec<String> = running
        .armed_faults()
        .iter()
        .map(ToString::to_string)
        .collect();
    if !faults.is_empty() {
        println!("FAULTS:    {}", faults.join(", "));
    }
    let modes: Vec<String> = running.modes().iter().map(ToString::to_string).collect();
    if !modes.is_empty() {
        println!("modes:     {}", modes.join(", "));
    }
    match auto_login {
        Some(auto_login) => println!("auto-login: {auto_login}"),
        None => println!("sign-in:   a page lists the test users"),
    }
    println!("clients:");
    for client in running.clients().clients() {
        println!("  client_id:     {}", client.client_id);
        println!(
            "    auth method: {}",
            client.token_endpoint_auth_method.as_str()
        );
        if let Some(secret) = &client.client_secret {
            println!("    secret:      {secret}");
        }
        if let Some(jwks_uri) = &client.jwks_uri {
            println!("    jwks_uri:    {jwks_uri}");
        }
        if let Some(logout) = &client.backchannel_logout_uri {
            println!("    back-channel logout: {logout}");
        }
        println!("    redirects:   {}", client.redirect_uris.join(" "));
        if !client.description.is_empty() {
            println!("    note:        {}", client.description);
        }
    }
    println!("Press Ctrl-C to stop.");
}
