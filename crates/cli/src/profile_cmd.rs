//! `careid profile ...`: list, show, add and remove environments, and keep a profile's client
//! secret or private key in the keychain (never in the profiles file).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use careid_core::{
    ClientAuth, Profile, ProfileEntry, PushedRequests, RedirectHost, RoleSelection, SecretString,
    SessionPolicy,
};
use clap::Subcommand;

use crate::context::Context;
use crate::json::{self, client_auth_text, credential_words, issuer_text, ProfileJson};
use crate::output::UsageError;

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List every profile: the built-in ones first, then custom ones.
    List,
    /// Show everything a profile holds.
    Show { name: String },
    /// Add a custom profile, or complete a built-in one (int, dep and live need a client id).
    Add(Box<AddArgs>),
    /// Remove a custom profile (or a built-in one's settings), its stored secret and session.
    Remove { name: String },
    /// The profile's client secret or private key, kept in the OS keychain.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Print the public JWK Set of the profile's private key (private_key_jwt): the JWKS to
    /// give CIS2 for your own registration. The private part is never printed.
    Jwks { name: String },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store the client secret or private key (PEM: PKCS#8 or PKCS#1 RSA, or EC P-256), read
    /// from stdin or --from-file.
    Set {
        name: String,
        /// Read the secret or PEM key from FILE instead of stdin.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
    /// Delete the stored client secret or private key.
    Delete { name: String },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    name: String,
    /// The issuer, exactly as the provider publishes it (CIS2's ends in `:443/...`).
    #[arg(long)]
    issuer: Option<String>,
    #[arg(long)]
    client_id: Option<String>,
    /// none, client_secret_basic, client_secret_post, client_secret_jwt or private_key_jwt.
    #[arg(long, value_name = "METHOD")]
    client_auth: Option<ClientAuth>,
    /// The client assertion's algorithm: RS256, RS512 or ES256 (private_key_jwt), HS256 or
    /// HS512 (client_secret_jwt).
    #[arg(long, value_name = "ALG")]
    assertion_alg: Option<String>,
    /// The key id registered for the private key, if not its RFC 7638 thumbprint.
    #[arg(long, value_name = "KID")]
    key_id: Option<String>,
    /// A registered redirect port on 127.0.0.1, tried in the order given; repeat for several.
    /// Replaces the profile's list (int, dep and live default to 23741, 23742 and 23743).
    #[arg(
        long = "redirect-port",
        value_name = "P",
        conflicts_with = "any_redirect_port"
    )]
    redirect_ports: Vec<u16>,
    /// Listen on any free port instead of a list: only for a provider that accepts any
    /// loopback port (RFC 8252 §7.3).
    #[arg(long)]
    any_redirect_port: bool,
    /// The host in the redirect URI, as registered: 127.0.0.1 (the default) or localhost. The
    /// listener binds 127.0.0.1 either way.
    #[arg(long, value_name = "127.0.0.1|localhost")]
    redirect_host: Option<RedirectHost>,
    /// The redirect path (default /callback).
    #[arg(long, value_name = "PATH")]
    redirect_path: Option<String>,
    /// A scope to request; repeat for several (must include openid).
    #[arg(long = "scope", value_name = "S")]
    scopes: Vec<String>,
    /// acr_values to request, e.g. AAL3_ANY.
    #[arg(long = "acr", value_name = "VALUES")]
    acr_values: Option<String>,
    /// prompt to send: login, none, consent or select_account.
    #[arg(long, value_name = "P")]
    prompt: Option<String>,
    /// max_age in seconds.
    #[arg(long, value_name = "S")]
    max_age: Option<u32>,
    /// The lowest id_assurance_level (1 to 3) the ID token may carry; none checked by default.
    #[arg(long, value_name = "LEVEL")]
    min_id_assurance_level: Option<u8>,
    /// Who asks for the role: the app (from UserInfo) or CIS2's own picker.
    #[arg(long, value_name = "app|cis2")]
    role_selection: Option<RoleSelection>,
    /// Ask for UserInfo as a signed JWT.
    #[arg(long)]
    userinfo_signed: bool,
    /// Push the authorization request (RFC 9126): auto (the default) when the provider offers
    /// it, always (refuse to sign in without it) or never.
    #[arg(long, value_name = "auto|always|never")]
    par: Option<PushedRequests>,
    #[arg(long)]
    description: Option<String>,
    /// Minutes of inactivity that end a session (default 15).
    #[arg(long, value_name = "MINUTES")]
    inactivity_minutes: Option<u32>,
    /// Hours after sign-in that end a session whatever happens (default 12).
    #[arg(long, value_name = "HOURS")]
    absolute_hours: Option<u32>,
    /// Clock skew allowed when checking token times (default 120).
    #[arg(long, value_name = "SECONDS")]
    clock_skew_seconds: Option<u32>,
    /// An audience besides the client id that ID tokens may also name; repeat for several.
    /// Any other audience is refused.
    #[arg(long = "trusted-audience", value_name = "AUD")]
    trusted_audiences: Vec<String>,
    /// Sign in through this careid broker (https, or http://127.0.0.1 for a local one), which
    /// holds the client credential: the profile then holds no client secret or private key.
    #[arg(long, value_name = "URL")]
    broker: Option<String>,
}

pub fn run(context: &Context, command: ProfileCommand) -> anyhow::Result<()> {
    match command {
        ProfileCommand::List => list(context),
        ProfileCommand::Show { name } => show(context, &name),
        ProfileCommand::Add(args) => add(context, *args),
        ProfileCommand::Remove { name } => remove(context, &name),
        ProfileCommand::Secret(SecretCommand::Set { name, from_file }) => {
            set_secret(context, &name, from_file)
        }
        ProfileCommand::Secret(SecretCommand::Delete { name }) => delete_secret(context, &name),
        ProfileCommand::Jwks { name } => jwks(context, &name),
    }
}

fn list(context: &Context) -> anyhow::Result<()> {
    let profiles = context.profiles()?.list()?;
    if context.args.json {
        let list: Vec<_> = profiles
            .iter()
            .map(|profile| profile_json(context, profile))
            .collect();
        return json::print(&list);
    }
    for profile in &profiles {
        let secret_missing = profile
            .credential_account()
            .is_some_and(|account| matches!(context.keychain().load(&account), Ok(None)));
        let ready = match profile.missing().first() {
            Some(missing) => format!("needs {missing}"),
            None if secret_missing => format!(
                "needs its {}: careid profile secret set {}",
                credential_words(profile),
                profile.name
            ),
            None => "ready".to_owned(),
        };
        println!(
            "{:<12} {:<22} {}  ({ready})",
            profile.name,
            client_auth_text(profile),
            issuer_text(profile)
        );
    }
    Ok(())
}

fn show(context: &Context, name: &str) -> anyhow::Result<()> {
    let profile = context.profiles()?.get(name)?;
    let shown = profile_json(context, &profile);
    if context.args.json {
        return json::print(&shown);
    }
    // The same fields as `--json`, one a line.
    let serde_json::Value::Object(fields) = serde_json::to_value(&shown)? else {
        unreachable!("a profile is an object")
    };
    for (key, value) in fields {
        let text = match value {
            serde_json::Value::String(text) => text,
            serde_json::Value::Null => "-".to_owned(),
            other => other.to_string(),
        };
        println!("{key:<20} {text}");
    }
    Ok(())
}

fn add(context: &Context, args: AddArgs) -> anyhow::Result<()> {
    let mut profiles = context.profiles()?;
    let session = (args.inactivity_minutes.is_some()
        || args.absolute_hours.is_some()
        || args.clock_skew_seconds.is_some())
    .then(|| {
        let default = SessionPolicy::default();
        SessionPolicy {
            inactivity_minutes: args
                .inactivity_minutes
                .unwrap_or(default.inactivity_minutes),
            absolute_hours: args.absolute_hours.unwrap_or(default.absolute_hours),
            clock_skew_seconds: args
                .clock_skew_seconds
                .unwrap_or(default.clock_skew_seconds),
            ..default
        }
    });
    let entry = ProfileEntry {
        description: args.description,
        issuer: args.issuer,
        client_id: args.client_id,
        client_auth: args.client_auth,
        assertion_algorithm: args.assertion_alg,
        key_id: args.key_id,
        redirect_ports: if args.any_redirect_port {
            Some(Vec::new())
        } else {
            (!args.redirect_ports.is_empty()).then_some(args.redirect_ports)
        },
        redirect_host: args.redirect_host,
        redirect_path: args.redirect_path,
        scopes: (!args.scopes.is_empty()).then_some(args.scopes),
        acr_values: args.acr_values,
        prompt: args.prompt,
        max_age: args.max_age,
        min_id_assurance_level: args.min_id_assurance_level,
        role_selection: args.role_selection,
        userinfo_signed: args.userinfo_signed.then_some(true),
        par: args.par,
        session,
        trusted_audiences: (!args.trusted_audiences.is_empty()).then_some(args.trusted_audiences),
        broker: args.broker,
    };
    let profile = profiles.add(&args.name, entry)?;
    profiles.save()?;
    eprintln!("careid: profile {:?} saved", profile.name);
    // A hint only: a keychain that cannot be read now is reported when the secret is set.
    if let Some(account) = profile.credential_account() {
        if matches!(context.keychain().load(&account), Ok(None)) {
            eprintln!(
                "careid: now store its {} with: careid profile secret set {}",
                credential_words(&profile),
                profile.name
            );
        }
    }
    Ok(())
}

fn remove(context: &Context, name: &str) -> anyhow::Result<()> {
    context.host.remove_profile(name)?;
    eprintln!("careid: profile {name:?} removed");
    Ok(())
}

fn set_secret(context: &Context, name: &str, from_file: Option<PathBuf>) -> anyhow::Result<()> {
    let profile = context.profiles()?.get(name)?;
    let text = match &from_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None if profile.credential_account().is_some() => read_stdin(&profile)?,
        None => String::new(),
    };
    if let Err(refused) = context
        .host
        .store_credential(name, SecretString::new(text))?
    {
        bail!(UsageError(refused.to_string()));
    }
    eprintln!(
        "careid: {} for profile {name:?} stored in the keychain",
        credential_words(&profile)
    );
    Ok(())
}

fn jwks(context: &Context, name: &str) -> anyhow::Result<()> {
    match context.host.public_jwks(name)? {
        Ok(jwks) => println!("{jwks}"),
        Err(refused) => bail!(UsageError(refused.to_string())),
    }
    Ok(())
}

fn delete_secret(context: &Context, name: &str) -> anyhow::Result<()> {
    let profile = context.profiles()?.get(name)?;
    if let Some(account) = profile.credential_account() {
        context.keychain().delete(&account)?;
    }
    eprintln!("careid: no secret is stored for profile {name:?} now");
    Ok(())
}

fn read_stdin(profile: &Profile) -> anyhow::Result<String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!(
            "careid: paste the {} for profile {:?}, then press Ctrl-D",
            credential_words(profile),
            profile.name
        );
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .context("cannot read the secret from stdin")?;
    Ok(text)
}

/// A profile as data. Whether its secret is stored is looked up, never the secret itself; a
/// keychain that cannot be read shows as null rather than failing the listing.
fn profile_json(context: &Context, profile: &Profile) -> ProfileJson {
    let credential_stored = profile
        .credential_account()
        .and_then(|account| context.keychain().load(&account).ok().map(|v| v.is_some()));
    ProfileJson::new(profile, credential_stored)
}
