//! `careid login` and `careid role select`: the browser step, with progress on stderr, and the
//! role choice.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use careid_core::signin::{Client, LoginOptions, Session, REDIRECT_HINT_AFTER};
use careid_core::{AcrValues, RedirectUri, RoleChoice, RoleSelection};

use crate::connect::MockArgs;
use crate::context::{runtime, Context};
use crate::output::{print_session, SessionNews};

/// The longest wait for the browser: a day. A zero wait would give up before anyone could sign in.
const MAX_BROWSER_WAIT_SECONDS: u64 = 86_400;

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Print the sign-in URL instead of opening the browser.
    #[arg(long)]
    no_browser: bool,
    /// Give up waiting for the browser after this many seconds (1 to 86400).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..=MAX_BROWSER_WAIT_SECONDS)
    )]
    timeout: u64,
    /// Say what to check (such as an unregistered redirect URI) when the browser has not come
    /// back after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = REDIRECT_HINT_AFTER.as_secs())]
    hint_after: u64,
    /// The role to sign in with, when the user has several (a person_roleid). With CIS2's own
    /// role picker the role chosen there is the role: a different one is refused.
    #[arg(long, value_name = "ID")]
    role: Option<String>,
    /// The acr_values to request for this sign-in only, for example AAL3_ANY.
    #[arg(long = "acr", value_name = "VALUES")]
    acr_values: Option<AcrValues>,
    /// The prompt to send for this sign-in only: login, none, consent or select_account.
    #[arg(long, value_name = "PROMPT")]
    prompt: Option<String>,
    /// The max_age to send for this sign-in only, in seconds.
    #[arg(long, value_name = "SECONDS")]
    max_age: Option<u32>,
    /// A scope to request for this sign-in only; repeat for several.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// The login_hint to send.
    #[arg(long, value_name = "HINT")]
    login_hint: Option<String>,
    /// A label for this attempt's record in the history (`careid history`).
    #[arg(long, value_name = "TEXT")]
    label: Option<String>,
    /// Sign in again as an earlier attempt did: its profile, and the acr_values, prompt,
    /// max_age, scopes and role it sent (`careid history` lists the attempts).
    #[arg(long, value_name = "ATTEMPT_ID", conflicts_with_all = ["role", "acr_values", "prompt", "max_age", "scopes", "login_hint"])]
    again: Option<String>,
    #[command(flatten)]
    mock: MockArgs,
}

pub fn login(context: &Context, args: LoginArgs) -> anyhow::Result<()> {
    let (profile, options) = match &args.again {
        Some(id) => {
            let attempt = earlier_attempt(context, id)?;
            let mut options = LoginOptions::repeating(&attempt.asked);
            options.label = args.label.clone().or(attempt.label);
            eprintln!(
                "Signing in again as attempt {id} did, on profile {}.",
                attempt.profile.name
            );
            (context.host.profile(&attempt.profile.name)?, options)
        }
        None => (
            context.profile()?,
            LoginOptions {
                acr_values: args.acr_values.clone(),
                prompt: args.prompt.clone(),
                max_age: args.max_age,
                scopes: (!args.scopes.is_empty()).then(|| args.scopes.clone()),
                login_hint: args.login_hint.clone(),
                change_role: false,
                role: args.role.clone(),
                label: args.label.clone(),
            },
        ),
    };
    runtime()?.block_on(async {
        let connection = crate::connect::open_profile(context, profile, &args.mock).await?;
        let mut session = browser_sign_in(&connection.client, options, &args).await?;
        settle_role(&connection.client, &mut session, &context.given_profile()).await?;
        print_session(context, &session, SessionNews::SignedIn)
    })
}

fn earlier_attempt(context: &Context, id: &str) -> anyhow::Result<careid_core::history::Attempt> {
    let id = careid_core::history::AttemptId::parse(id).ok_or_else(|| {
        crate::output::UsageError(format!(
            "{id:?} is not an attempt id (`careid history` lists them)"
        ))
    })?;
    Ok(careid_core::history::History::in_state_dir(context.host.state_dir()).get(&id)?)
}

#[derive(Debug, clap::Args)]
pub struct SelectArgs {
    /// The role's id (person_roleid), as `careid roles` lists it.
    role_id: String,
    /// With CIS2-hosted role selection, print the sign-in URL instead of opening the browser.
    #[arg(long)]
    no_browser: bool,
    /// Give up waiting for the browser after this many seconds (1 to 86400).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..=MAX_BROWSER_WAIT_SECONDS)
    )]
    timeout: u64,
    /// Say what to check (such as an unregistered redirect URI) when the browser has not come
    /// back after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = REDIRECT_HINT_AFTER.as_secs())]
    hint_after: u64,
    #[command(flatten)]
    mock: MockArgs,
}

/// Changes role: in the app's own list, or (profiles with `role_selection = cis2`) by signing
/// in again through CIS2's picker with `changedrole` and `prompt=login`.
pub fn select_role(context: &Context, args: SelectArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let connection = crate::connect::open(context, &args.mock).await?;
        let client = &connection.client;
        let session = if client.profile().role_selection == RoleSelection::Cis2 {
            // The session must still be valid before a role change is offered.
            client.end_if_over_limit().await?;
            let login = LoginArgs {
                no_browser: args.no_browser,
                timeout: args.timeout,
                hint_after: args.hint_after,
                role: None,
                acr_values: None,
                prompt: None,
                max_age: None,
                scopes: Vec::new(),
                login_hint: None,
                label: None,
                again: None,
                mock: args.mock.clone(),
            };
            // The role chosen on CIS2's picker must be the one asked for; otherwise the change
            // is refused naming both and the session stays as it was.
            let options = LoginOptions {
                change_role: true,
                role: Some(args.role_id.clone()),
                ..LoginOptions::default()
            };
            browser_sign_in(client, options, &login).await?
        } else {
            client.select_role(&args.role_id).await?
        };
        if context.args.json {
            let selection = client.profile().role_selection;
            return crate::json::print(&crate::json::RoleChangeJson::new(&session, selection));
        }
        print_session(context, &session, SessionNews::RoleChanged)
    })
}

/// Steps 3 to 8: opens the browser (or prints the URL), shows the elapsed time on stderr, and
/// waits for the callback, Ctrl-C or the timeout.
async fn browser_sign_in(
    client: &Client,
    options: LoginOptions,
    args: &LoginArgs,
) -> anyhow::Result<Session> {
    let pending = client.begin_login(options).await?;
    // Listen for Ctrl-C before anything is shown, so an early one is not lost.
    let cancel = interrupted();
    let url = pending.authorization_url().to_owned();
    if args.no_browser {
        eprintln!("careid: open this URL in a browser to sign in:\n{url}");
    } else {
        // The browser gets a one-time loopback link, not the URL: other users of a shared
        // machine can read every command line. The URL on stderr is for the user's own terminal.
        let link = pending
            .launch_links()
            .issue()
            .map_err(careid_core::signin::SignInError::Launch)?;
        match webbrowser::open(&link) {
            // A launcher can succeed and still show nothing (no display, a browser that fails
            // to start), so the URL is always there to open by hand.
            Ok(()) => eprintln!(
                "careid: signing in in your browser; if it did not open, open this URL:\n{url}"
            ),
            Err(error) => eprintln!(
                "careid: could not open a browser ({error}); open this URL to sign in:\n{url}"
            ),
        }
    }
    let timeout = Duration::from_secs(args.timeout);
    let progress = tokio::spawn(show_progress(timeout));
    let hint = tokio::spawn(show_hint(
        Duration::from_secs(args.hint_after),
        pending.redirect_uri().clone(),
        pending.redirect_uri_accepted(),
    ));
    let result = pending.finish(client, timeout, cancel).await;
    progress.abort();
    hint.abort();
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    Ok(result?)
}

/// Resolves on Ctrl-C (SIGINT). The handler is installed when this is called, not when the
/// future is first polled; if it cannot be installed, the wait ends only by callback or timeout.
fn interrupted() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    #[cfg(windows)]
    let signal = tokio::signal::windows::ctrl_c();
    async move {
        match signal {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
}

/// After `after` with no callback, what to check, once. A provider that refuses the redirect URI
/// says so in the browser and never sends the browser back, so the wait would be silent. When a
/// pushed request already had the redirect URI accepted, the other usual causes are named.
async fn show_hint(after: Duration, redirect_uri: RedirectUri, accepted: bool) {
    tokio::time::sleep(after).await;
    let start = if std::io::stderr().is_terminal() {
        "\n"
    } else {
        ""
    };
    if accepted {
        eprintln!(
            "{start}careid: still waiting for the browser. Check that the sign-in page opened in the \
             browser you use for your Care Identity, and that nothing blocks {redirect_uri}."
        );
    } else {
        eprintln!(
            "{start}careid: still waiting for the browser. If it shows an error about the redirect \
             URI, register {redirect_uri} with CIS2 for this client (`careid doctor` lists every \
             redirect URI to register); otherwise check that the sign-in page opened in the \
             browser you use for your Care Identity."
        );
    }
}

/// "waiting for the browser... 0:12" on one line of a terminal; a line every 30 s otherwise.
async fn show_progress(timeout: Duration) {
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(30)
    };
    loop {
        let seconds = started.elapsed().as_secs();
        let line = format!(
            "careid: waiting for the browser... {}:{:02} (gives up after {}:{:02}; Ctrl-C cancels)",
            seconds / 60,
            seconds % 60,
            timeout.as_secs() / 60,
            timeout.as_secs() % 60
        );
        if terminal {
            eprint!("\r{line}");
            let _ = std::io::stderr().flush();
        } else {
            eprintln!("{line}");
        }
        tokio::time::sleep(every).await;
    }
}

/// The role after sign-in (a `--role` was settled by the sign-in itself): when the user must
/// choose, a question on a terminal, or an explanation of how to choose later.
async fn settle_role(
    client: &Client,
    session: &mut Session,
    given: &crate::show::GivenProfile,
) -> anyhow::Result<()> {
    let (Some(RoleChoice::Ask(groups)), Some(identity)) = (&session.role, &session.identity) else {
        return Ok(());
    };
    let roles: Vec<_> = groups
        .iter()
        .flat_map(|group| group.roles.clone())
        .collect();
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        eprintln!(
            "careid: you hold {} roles; choose one with {} (see {})",
            roles.len(),
            given.command("role select ID"),
            given.command("roles")
        );
        return Ok(());
    }
    eprintln!("Choose the role to work in:");
    for (index, role) in roles.iter().enumerate() {
        eprintln!("  {}. {}", index + 1, crate::show::role(role, identity));
    }
    let number = roles.len();
    loop {
        eprint!("Role number (1-{number}): ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer)? == 0 {
            eprintln!(
                "careid: no role chosen; choose later with {}",
                given.command("role select ID")
            );
            return Ok(());
        }
        if let Some(role) = answer
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|index| roles.get(index))
        {
            client.apply_role(session, &role.person_roleid).await?;
            return Ok(());
        }
    }
}
