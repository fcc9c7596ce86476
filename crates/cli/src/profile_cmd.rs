//! `careid profile ...`: list, show, add, change and remove environments, choose the default,
//! and keep a profile's client secret or private key in the keychain (never in the profiles
//! file).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use careid_core::{
    ClientAuth, Profile, ProfileEntry, PushedRequests, RedirectHost, RoleSelection, SecretString,
};
use clap::Subcommand;

use crate::context::Context;
use crate::json::{self, client_auth_text, credential_words, issuer_text, ProfileJson};
use crate::output::UsageError;

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List every profile, the built-in ones first, and mark the default with `*`.
    #[command(after_help = "Examples:
  careid profile list
  careid profile list --json")]
    List,
    /// Show everything a profile holds, including the redirect URIs to register.
    #[command(after_help = "Examples:
  careid profile show int
  careid profile show int --json")]
    Show {
        /// The profile's name.
        name: String,
    },
    /// Add a profile of your own, or complete a built-in one (int, dep and live need a client
    /// id).
    #[command(after_help = "Examples:
  careid profile add int --client-id 555000000000.apps.supplier --assertion-alg RS512
  careid profile add local --issuer http://127.0.0.1:9000/realm --client-id c --client-auth client_secret_basic")]
    Add(Box<AddArgs>),
    /// Change a profile in place: the settings given replace its own, the rest stay, and its
    /// stored secret and session are kept.
    #[command(after_help = "Examples:
  careid profile set int --acr AAL3_ANY --prompt login
  careid profile set local --unset prompt --unset max-age")]
    Set(Box<SetArgs>),
    /// Make a profile the default: the one used when a command is given no --profile.
    #[command(after_help = "Examples:
  careid profile use int
  careid profile use mock")]
    Use {
        /// The profile's name.
        name: String,
    },
    /// Remove a profile of your own (or a built-in one's settings), its stored secret and its
    /// session.
    #[command(after_help = "Examples:
  careid profile remove local")]
    Remove {
        /// The profile's name.
        name: String,
    },
    /// Store or delete the profile's client secret or private key in the OS keychain.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Print the public JWK Set of the profile's private key (private_key_jwt): the JWKS to
    /// give CIS2 for your own registration. The private part is never printed.
    #[command(after_help = "Examples:
  careid profile jwks int > jwks.json")]
    Jwks {
        /// The profile's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store the client secret or private key (PEM: PKCS#8 or PKCS#1 RSA, or EC P-256), read
    /// from stdin or --from-file.
    #[command(after_help = "Examples:
  careid profile secret set int --from-file client-key.pem
  printf '%s' \"$CLIENT_SECRET\" | careid profile secret set local")]
    Set {
        /// The profile's name.
        name: String,
        /// Read the secret or PEM key from FILE instead of stdin.
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
    /// Delete the stored client secret or private key.
    #[command(after_help = "Examples:
  careid profile secret delete local")]
    Delete {
        /// The profile's name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The new profile's name: letters, digits, - and _ (or int, dep or live to complete one).
    name: String,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The profile's name.
    name: String,
    #[command(flatten)]
    settings: Settings,
    /// Return a setting to its default (a built-in's own, or careid's); repeat for several.
    /// Cleared before the other options apply.
    #[arg(long, value_name = "SETTING", value_enum)]
    unset: Vec<Setting>,
}

/// The settings a profile holds, as options: each given one replaces the profile's own.
#[derive(Debug, clap::Args)]
struct Settings {
    /// The issuer, exactly as the provider publishes it (CIS2's ends in `:443/...`).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// The client id the provider registered for you.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// How the client authenticates: none, client_secret_basic, client_secret_post,
    /// client_secret_jwt or private_key_jwt.
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
        value_name = "PORT",
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
    /// The redirect path (/callback by default).
    #[arg(long, value_name = "PATH")]
    redirect_path: Option<String>,
    /// A scope to request; repeat for several. The list must include openid.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// The acr_values to request, for example AAL3_ANY.
    #[arg(long = "acr", value_name = "VALUES")]
    acr_values: Option<String>,
    /// The prompt to send: login, none, consent or select_account.
    #[arg(long, value_name = "PROMPT")]
    prompt: Option<String>,
    /// The max_age to send, in seconds.
    #[arg(long, value_name = "SECONDS")]
    max_age: Option<u32>,
    /// The lowest id_assurance_level (1 to 3) the ID token may carry; none is checked by
    /// default.
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
    /// A description shown beside the profile's name.
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// The minutes of inactivity that end a session (15 by default).
    #[arg(long, value_name = "MINUTES")]
    inactivity_minutes: Option<u32>,
    /// The hours after sign-in that end a session whatever happens (12 by default).
    #[arg(long, value_name = "HOURS")]
    absolute_hours: Option<u32>,
    /// The clock skew allowed when checking token times, in seconds (120 by default).
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

/// A setting `profile set --unset` returns to its default, named as its option is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Setting {
    Issuer,
    ClientId,
    ClientAuth,
    AssertionAlg,
    KeyId,
    RedirectPort,
    RedirectHost,
    RedirectPath,
    Scope,
    Acr,
    Prompt,
    MaxAge,
    MinIdAssuranceLevel,
    RoleSelection,
    UserinfoSigned,
    Par,
    Description,
    /// The inactivity, absolute and clock skew limits together.
    SessionLimits,
    TrustedAudience,
    Broker,
}

impl Setting {
    fn clear(self, entry: &mut ProfileEntry) {
        match self {
            Setting::Issuer => entry.issuer = None,
            Setting::ClientId => entry.client_id = None,
            Setting::ClientAuth => entry.client_auth = None,
            Setting::AssertionAlg => entry.assertion_algorithm = None,
            Setting::KeyId => entry.key_id = None,
            Setting::RedirectPort => entry.redirect_ports = None,
            Setting::RedirectHost => entry.redirect_host = None,
            Setting::RedirectPath => entry.redirect_path = None,
            Setting::Scope => entry.scopes = None,
            Setting::Acr => entry.acr_values = None,
            Setting::Prompt => entry.prompt = None,
            Setting::MaxAge => entry.max_age = None,
            Setting::MinIdAssuranceLevel => entry.min_id_assurance_level = None,
            Setting::RoleSelection => entry.role_selection = None,
            Setting::UserinfoSigned => entry.userinfo_signed = None,
            Setting::Par => entry.par = None,
            Setting::Description => entry.description = None,
            Setting::SessionLimits => entry.session = None,
            Setting::TrustedAudience => entry.trusted_audiences = None,
            Setting::Broker => entry.broker = None,
        }
    }
}

impl Settings {
    /// Writes each setting given into `entry`, leaving the others as they are.
    fn apply(self, entry: &mut ProfileEntry) {
        fn replace<T>(target: &mut Option<T>, value: Option<T>) {
            if value.is_some() {
                *target = value;
            }
        }
        replace(&mut entry.description, self.description);
        replace(&mut entry.issuer, self.issuer);
        replace(&mut entry.client_id, self.client_id);
        replace(&mut entry.client_auth, self.client_auth);
        replace(&mut entry.assertion_algorithm, self.assertion_alg);
        replace(&mut entry.key_id, self.key_id);
        if self.any_redirect_port {
            entry.redirect_ports = Some(Vec::new());
        } else {
            replace(&mut entry.redirect_ports, non_empty(self.redirect_ports));
        }
        replace(&mut entry.redirect_host, self.redirect_host);
        replace(&mut entry.redirect_path, self.redirect_path);
        replace(&mut entry.scopes, non_empty(self.scopes));
        replace(&mut entry.acr_values, self.acr_values);
        replace(&mut entry.prompt, self.prompt);
        replace(&mut entry.max_age, self.max_age);
        replace(
            &mut entry.min_id_assurance_level,
            self.min_id_assurance_level,
        );
        replace(&mut entry.role_selection, self.role_selection);
        replace(
            &mut entry.userinfo_signed,
            self.userinfo_signed.then_some(true),
        );
        replace(&mut entry.par, self.par);
        if self.inactivity_minutes.is_some()
            || self.absolute_hours.is_some()
            || self.clock_skew_seconds.is_some()
        {
            let mut session = entry.session.unwrap_or_default();
            replace_value(&mut session.inactivity_minutes, self.inactivity_minutes);
            replace_value(&mut session.absolute_hours, self.absolute_hours);
            replace_value(&mut session.clock_skew_seconds, self.clock_skew_seconds);
            entry.session = Some(session);
        }
        replace(
            &mut entry.trusted_audiences,
            non_empty(self.trusted_audiences),
        );
        replace(&mut entry.broker, self.broker);
    }
}

fn non_empty<T>(values: Vec<T>) -> Option<Vec<T>> {
    (!values.is_empty()).then_some(values)
}

fn replace_value<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

pub fn run(context: &Context, command: ProfileCommand) -> anyhow::Result<()> {
    match command {
        ProfileCommand::List => list(context),
        ProfileCommand::Show { name } => show(context, &name),
        ProfileCommand::Add(args) => add(context, *args),
        ProfileCommand::Set(args) => set(context, *args),
        ProfileCommand::Use { name } => use_default(context, &name),
        ProfileCommand::Remove { name } => remove(context, &name),
        ProfileCommand::Secret(SecretCommand::Set { name, from_file }) => {
            set_secret(context, &name, from_file)
        }
        ProfileCommand::Secret(SecretCommand::Delete { name }) => delete_secret(context, &name),
        ProfileCommand::Jwks { name } => jwks(context, &name),
    }
}

fn list(context: &Context) -> anyhow::Result<()> {
    let profiles = context.profiles()?;
    let default = profiles.default_name();
    let profiles = profiles.list()?;
    if context.args.json {
        let list: Vec<_> = profiles
            .iter()
            .map(|profile| profile_json(context, profile, &default))
            .collect();
        return json::print(&list);
    }
    for profile in &profiles {
        let mark = if profile.name == default { '*' } else { ' ' };
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
            "{mark} {:<12} {:<22} {}  ({ready})",
            profile.name,
            client_auth_text(profile),
            issuer_text(profile)
        );
    }
    Ok(())
}

fn show(context: &Context, name: &str) -> anyhow::Result<()> {
    let profiles = context.profiles()?;
    let profile = profiles.get(name)?;
    let shown = profile_json(context, &profile, &profiles.default_name());
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
    let mut entry = ProfileEntry::default();
    args.settings.apply(&mut entry);
    let profile = profiles.add(&args.name, entry)?;
    profiles.save()?;
    eprintln!("careid: profile {:?} saved", profile.name);
    secret_hint(context, &profile);
    print_changed(context, &profiles, &profile)
}

fn set(context: &Context, args: SetArgs) -> anyhow::Result<()> {
    let mut profiles = context.profiles()?;
    let profile = profiles.change(&args.name, |entry| {
        for setting in &args.unset {
            setting.clear(entry);
        }
        args.settings.apply(entry);
    })?;
    profiles.save()?;
    eprintln!("careid: profile {:?} changed", profile.name);
    secret_hint(context, &profile);
    print_changed(context, &profiles, &profile)
}

/// A hint only: a keychain that cannot be read now is reported when the secret is set.
fn secret_hint(context: &Context, profile: &Profile) {
    if let Some(account) = profile.credential_account() {
        if matches!(context.keychain().load(&account), Ok(None)) {
            eprintln!(
                "careid: now store its {} with: careid profile secret set {}",
                credential_words(profile),
                profile.name
            );
        }
    }
}

fn use_default(context: &Context, name: &str) -> anyhow::Result<()> {
    let mut profiles = context.profiles()?;
    let profile = profiles.set_default(name)?;
    profiles.save()?;
    eprintln!(
        "careid: profile {:?} is the default now (--profile and CAREID_PROFILE still choose another)",
        profile.name
    );
    print_changed(context, &profiles, &profile)
}

/// With `--json`, the profile as it is now, as `profile show` prints it.
fn print_changed(
    context: &Context,
    profiles: &careid_core::Profiles,
    profile: &Profile,
) -> anyhow::Result<()> {
    if context.args.json {
        json::print(&profile_json(context, profile, &profiles.default_name()))?;
    }
    Ok(())
}

fn remove(context: &Context, name: &str) -> anyhow::Result<()> {
    context.host.remove_profile(name)?;
    eprintln!("careid: profile {name:?} removed");
    if context.args.json {
        json::print(&json::ProfileRemovedJson::new(name))?;
    }
    Ok(())
}

fn set_secret(context: &Context, name: &str, from_file: Option<PathBuf>) -> anyhow::Result<()> {
    let profile = context.profiles()?.get(name)?;
    let text = match &from_file {
        // A file the user named that cannot be read is a mistake on the command line.
        Some(path) => std::fs::read_to_string(path).map_err(|error| {
            UsageError(format!(
                "cannot read --from-file {}: {error}",
                path.display()
            ))
        })?,
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
    print_secret(context, &profile, true)
}

/// With `--json`, whether the profile's credential is in the keychain now.
fn print_secret(context: &Context, profile: &Profile, stored: bool) -> anyhow::Result<()> {
    if context.args.json {
        json::print(&json::SecretJson::new(profile, stored))?;
    }
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
    print_secret(context, &profile, false)
}

/// The secret from stdin. At a terminal it is read with echo off, so it is never shown on the
/// screen (or in a terminal's scrollback): a client secret as one line, a PEM private key line
/// by line to its `-----END` line.
fn read_stdin(profile: &Profile) -> anyhow::Result<String> {
    let mut stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .context("cannot read the secret from stdin")?;
        return Ok(text);
    }
    let words = credential_words(profile);
    eprintln!(
        "careid: paste the {words} for profile {:?} (it is not shown as you paste)",
        profile.name
    );
    let mut text = String::new();
    loop {
        let line = rpassword::read_password().context("cannot read the secret at the terminal")?;
        text.push_str(&line);
        text.push('\n');
        // A client secret is one line; a key ends at its END line.
        if !text.trim_start().starts_with("-----BEGIN") || line.trim_start().starts_with("-----END")
        {
            break;
        }
    }
    Ok(text)
}

/// A profile as data. Whether its secret is stored is looked up, never the secret itself; a
/// keychain that cannot be read shows as null rather than failing the listing.
fn profile_json(context: &Context, profile: &Profile, default: &str) -> ProfileJson {
    let credential_stored = profile
        .credential_account()
        .and_then(|account| context.keychain().load(&account).ok().map(|v| v.is_some()));
    ProfileJson::new(profile, credential_stored, profile.name == default)
}
