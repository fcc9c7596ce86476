//! `careid status | token | userinfo | roles | logout`: using the stored session.

use careid_core::signin::{Client, ErrorClass, SignInError};
use careid_core::Restored;
use careid_core::RoleChoice;

use crate::connect::MockArgs;
use crate::context::runtime;
use crate::context::Context;
use crate::json::{self, EndedJson, SignedOutStatus};
use careid_core::time::unix_seconds;

use crate::output::{print_session, SessionNews};
use crate::show;

/// How long `logout --browser` answers its sign-out link, for a browser slow to start; it ends
/// as soon as the browser has come.
const SIGN_OUT_LINK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// Print the ID token instead of the access token.
    #[arg(long)]
    id: bool,
    /// Refresh now, even though the kept access token is still valid.
    #[arg(long)]
    refresh: bool,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Open the provider's end-session page in the browser, with the ID token as
    /// `id_token_hint`, to end its browser session too (handed over through a private page, so
    /// the token is never on a command line).
    #[arg(long)]
    browser: bool,
}

/// The stored session, from the state file and the policy alone: no request is made unless a
/// limit has passed (the session is then ended and its refresh token revoked) or a broker is
/// to be asked whether the provider ended it. Not signed in, or ended, it exits 8; with
/// `--json` it says so as data too, the end under `ended` with its one code (`ended.reason`).
pub fn status(context: &Context, mock: &MockArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let connection = crate::connect::open(context, mock).await?;
        let client = &connection.client;
        let status = match client.end_if_over_limit().await {
            Ok(status) => status,
            Err(error) => {
                if context.args.json {
                    if let Some(signed_out) = signed_out(client, &error) {
                        json::print(&signed_out)?;
                    }
                }
                return Err(error.into());
            }
        };
        if context.args.json {
            return json::print(&json::SignedInStatus::from(&status));
        }
        let broker = status.broker.describe();
        let facts = &status.facts;
        println!("Signed in to profile {} as {}", facts.profile, facts.user());
        // Named from the state file (no request): a file from before careid kept the role's
        // name gives its id.
        let role = match (&facts.role, &facts.selected_role_id) {
            (Some(label), _) => label.to_string(),
            (None, Some(id)) => format!("id {id}"),
            (None, None) => format!(
                "none chosen ({} chooses one)",
                context.given_profile().command("role select ID")
            ),
        };
        println!("{}", show::line("Role", role));
        if let Some(level) = facts.assurance_level {
            println!("{}", show::line("Assurance level", show::level(level)));
        }
        println!(
            "{}",
            show::line("Signed in at", show::time(facts.auth_time))
        );
        println!(
            "{}",
            show::line("Last activity", show::time(facts.last_activity))
        );
        println!(
            "{}",
            show::line(
                "Session ends",
                format!(
                    "{} (or at {} without activity)",
                    show::time(status.ends_at),
                    show::time(status.idle_ends_at)
                )
            )
        );
        if let Some(tokens_end_at) = status.tokens_end_at {
            println!(
                "{}",
                show::line(
                    "Refresh token",
                    format!(
                        "none; the session ends at {} when its tokens expire",
                        show::time(tokens_end_at)
                    )
                )
            );
        }
        if let Some(broker) = broker {
            println!("{}", show::line("Broker", broker));
        }
        Ok(())
    })
}

/// `status --json` when there is no session (every error of the class that exits 8): why, and
/// the end if careid ended it (the record it kept, or only the reason when the record is of
/// another end). `None` for a failure that says nothing of the session (the keychain, the
/// network).
fn signed_out(client: &Client, error: &SignInError) -> Option<SignedOutStatus> {
    if error.class() != ErrorClass::NotSignedIn {
        return None;
    }
    let reason = error.end_reason();
    let ended = match (error, reason) {
        (SignInError::SessionEnded { end, .. }, _) => Some(EndedJson::from(end)),
        (_, Some(reason)) => Some(
            client
                .store()
                .last_end(&client.profile().name)
                .filter(|end| end.reason == reason)
                .map_or_else(|| EndedJson::from(reason), |end| EndedJson::from(&end)),
        ),
        (_, None) => None,
    };
    Some(SignedOutStatus::new(&client.profile().name, error, ended))
}

/// A valid access token (or ID token) for scripts: the kept one while it is valid beyond the
/// clock skew, with no request to the provider; else, or with `--refresh`, refreshed.
pub fn token(context: &Context, args: &TokenArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let connection = crate::connect::open(context, &MockArgs::default()).await?;
        let client = &connection.client;
        let session = if args.refresh {
            client.fresh_tokens_for_use().await?
        } else if args.id {
            client.id_token_for_use().await?
        } else {
            client.tokens_for_use().await?
        };
        let token = if args.id {
            session
                .tokens
                .id_token
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("the session keeps no ID token"))?
                .expose_secret()
        } else {
            session.tokens.access_token.expose_secret()
        };
        // The one place a token is printed: the user asked for it, on stdout only.
        if context.args.json {
            let (kind, expires_at) = if args.id {
                let claims = session.id_token.as_ref().map(|claims| claims.exp);
                ("id_token", claims.or_else(|| id_token_expiry(token)))
            } else {
                ("access_token", session.tokens.expires_at.map(unix_seconds))
            };
            return json::print(&json::TokenJson::new(token, kind, expires_at));
        }
        println!("{token}");
        Ok(())
    })
}

/// The `exp` of a kept ID token, read from its payload: it was verified when it was issued,
/// and is read again only to say when it expires.
fn id_token_expiry(token: &str) -> Option<u64> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_u64()
}

/// UserInfo's claims, fetched now from the restored session.
pub fn userinfo(context: &Context, mock: &MockArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let connection = crate::connect::open(context, mock).await?;
        let session = connection.client.use_session().await?;
        let userinfo = json::UserInfoJson::from(&session);
        if context.args.json {
            return json::print(&userinfo);
        }
        print_session(context, &session, SessionNews::AsItIs)?;
        println!();
        println!(
            "{}",
            serde_json::to_string_pretty(&userinfo).unwrap_or_default()
        );
        Ok(())
    })
}

/// The user's roles, grouped by organisation, with the selected one marked.
pub fn roles(context: &Context, mock: &MockArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let connection = crate::connect::open(context, mock).await?;
        let session = connection.client.use_session().await?;
        let identity = session
            .identity
            .as_ref()
            .expect("restore with UserInfo has an identity");
        if context.args.json {
            return json::print(&json::RolesJson::new(&session, identity));
        }
        let selected = session.facts.selected_role_id.as_deref();
        if identity.roles.is_empty() {
            println!(
                "You hold no roles (nhsid_nrbac_roles is empty): you are signed in, with nothing to act as."
            );
            return Ok(());
        }
        // Each role as every command names it, its id first: what `role select` takes.
        for role in identity.role_groups().iter().flat_map(|group| &group.roles) {
            let mark = if Some(role.person_roleid.as_str()) == selected {
                "*"
            } else {
                " "
            };
            println!("{mark} {}", show::role_to_choose(role, identity));
            if !role.activities.is_empty() {
                println!("    activities: {}", role.activities.join(", "));
            }
        }
        if matches!(session.role, Some(RoleChoice::Ask(_))) {
            println!(
                "\nNo role chosen yet: {}",
                context.given_profile().command("role select ID")
            );
        }
        Ok(())
    })
}

/// Revokes and deletes the session, and gives the end-session URL.
pub fn logout(context: &Context, args: &LogoutArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let connection = crate::connect::open(context, &MockArgs::default()).await?;
        let client = &connection.client;
        // What the session kept, read before it is ended, to name its user and role in JSON.
        let before = match client.store().load_state(&client.profile().name) {
            Ok(Restored::Session(loaded)) if context.args.json => Some(loaded.facts),
            _ => None,
        };
        // The end-session endpoint wants the ID token as a hint (CIS2 and the mock require
        // it): the core uses the one kept in the keychain, and only the page opened with
        // `--browser` carries it. Nothing printed here holds it.
        let outcome = client.logout(None).await?;
        if context.args.json {
            json::print(&json::LogoutJson::new(
                &client.profile().name,
                &outcome,
                before.as_ref(),
            ))?;
        } else {
            match &outcome.user {
                Some(user) => println!("Signed out {user} from profile {}", context.args.profile),
                None => println!("No session was stored for profile {}", context.args.profile),
            }
            match outcome.revocation {
                "revoked" => println!("The session's tokens were revoked at the provider."),
                "not_advertised" => println!(
                    "The provider offers no revocation: the session was ended here, and its \
                     tokens stay valid at the provider until they expire."
                ),
                "failed" => println!(
                    "The provider could not revoke the refresh token ({}); it was deleted here.",
                    outcome.revocation_error.as_deref().unwrap_or("unknown")
                ),
                _ => {}
            }
            if let Some(url) = &outcome.end_session_url {
                println!("The provider's browser session ends at: {url}");
                if outcome.id_token_hint && !args.browser {
                    println!(
                        "The URL omits id_token_hint; use --browser to end the CIS2 session with it."
                    );
                }
            }
        }
        if args.browser {
            match client
                .end_session_launch(&outcome, SIGN_OUT_LINK_WAIT)
                .await?
            {
                // The link leads to the ID token: careid answers it until the browser has come.
                Some(launch) => match webbrowser::open(launch.url()) {
                    Ok(()) => {
                        launch.wait_until_read(SIGN_OUT_LINK_WAIT).await;
                    }
                    Err(error) => eprintln!("careid: could not open a browser: {error}"),
                },
                None => eprintln!("careid: the provider publishes no end-session endpoint"),
            }
        }
        Ok(())
    })
}
