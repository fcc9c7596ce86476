//! PRODUCT steps 2 to 8: the authorization request, the callback, the code exchange, the ID
//! token, UserInfo and the role.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokio::task::JoinHandle;

use crate::discovery::{DiscoveryError, ProviderMetadata};
use crate::history::{
    Asked, AskedValue, AttemptId, AttemptLog, History, IdTokenHeld, ProfileSnapshot, Rule, Source,
};
use crate::id_token::{IdTokenClaims, OriginalIdToken};
use crate::secret::{AccessToken, AuthorizationCode, CsrfState, IdToken, Nonce, PkceVerifier};
use crate::session::{SessionFacts, SignInRecord};
use crate::signin::route::{Endpoint, Route};
use crate::signin::{blocking, with_query, Client, Session, SignInError, Timing, Tokens};
use crate::time::unix_seconds;
use crate::values::{AcrValues, RedirectUri};
use crate::{
    assurance_level, choose_role, CallbackChecks, LaunchLinks, LoopbackListener, RoleChoice,
    RoleSelection, SecretString, SessionState,
};

/// Per-sign-in choices that override the profile (the testers' view), and role changes.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    pub acr_values: Option<AcrValues>,
    pub prompt: Option<String>,
    pub max_age: Option<u32>,
    pub scopes: Option<Vec<String>>,
    pub login_hint: Option<String>,
    /// Re-authenticate to change role: CIS2's picker with `changedrole` and `prompt=login`
    /// (for profiles whose role selection is `cis2`).
    pub change_role: bool,
    /// The role the user names for this sign-in (a `person_roleid`). When CIS2's picker chose
    /// another (`selected_roleid`), the sign-in is refused naming both and nothing is stored.
    pub role: Option<String>,
    /// A label for the attempt's record (a run's name and case).
    pub label: Option<String>,
}

impl LoginOptions {
    /// What an earlier attempt sent, to sign in again the same way ("Sign in again with these
    /// settings"): each value it sent, whether from its profile or changed for it. A value it
    /// did not send is left to the profile (an `acr_values` it did not send asks for none).
    pub fn repeating(asked: &Asked) -> Self {
        Self {
            acr_values: Some(AcrValues::new(
                asked.acr_values.value.as_deref().unwrap_or_default(),
            )),
            prompt: asked
                .prompt
                .value
                .clone()
                .filter(|_| asked.prompt.source != Source::Careid),
            max_age: asked
                .max_age
                .value
                .as_deref()
                .and_then(|text| text.parse().ok()),
            scopes: asked
                .scope
                .value
                .as_deref()
                .map(|scope| scope.split_whitespace().map(str::to_owned).collect()),
            login_hint: asked
                .login_hint
                .as_ref()
                .and_then(|hint| hint.value.clone()),
            change_role: false,
            role: asked.role.value.clone(),
            label: None,
        }
    }
}

/// How long a sign-in waits for the browser before the front ends say what to check: a provider
/// that refuses the redirect URI shows its error in the browser and never redirects, so without a
/// word careid would wait out its whole timeout. Callers may choose another delay (tests do).
pub const REDIRECT_HINT_AFTER: Duration = Duration::from_secs(25);

/// A sign-in waiting for the browser. Dropping it closes the listener.
pub struct PendingLogin {
    authorization_url: String,
    launch_links: Arc<LaunchLinks>,
    redirect_uri: RedirectUri,
    /// The request was pushed (RFC 9126), so the provider has accepted the redirect URI already.
    redirect_uri_accepted: bool,
    listener: LoopbackListener,
    state: CsrfState,
    nonce: Nonce,
    code_verifier: PkceVerifier,
    acr_values: Option<AcrValues>,
    max_age: Option<u32>,
    role: Option<String>,
    metadata: Arc<ProviderMetadata>,
    jwks: JoinHandle<Result<Arc<serde_json::Value>, DiscoveryError>>,
    /// The attempt's record so far, with the steps' timings.
    log: AttemptLog,
    timings: Vec<Timing>,
}

/// The authorization URL carries the state and nonce, so it is left out.
impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("redirect_uri", &self.redirect_uri)
            .field("issuer", &self.metadata.issuer)
            .field("acr_values", &self.acr_values)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl PendingLogin {
    /// The authorization URL, for the user's own eyes (their terminal, their clipboard). With
    /// pushed authorization requests (RFC 9126) it is short: the client id and a `request_uri`.
    /// Otherwise it carries the `state`, `nonce` and PKCE challenge; either way it is not logged.
    pub fn authorization_url(&self) -> &str {
        &self.authorization_url
    }

    /// The one-time links to the authorization URL that the sign-in's listener answers while it
    /// waits: what to open the browser on ([`LaunchLinks::issue`], a new one each time), so the
    /// URL itself is never on a command line other users can read.
    pub fn launch_links(&self) -> Arc<LaunchLinks> {
        Arc::clone(&self.launch_links)
    }

    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// The id this attempt's record will have in the history.
    pub fn attempt_id(&self) -> &AttemptId {
        self.log.id()
    }

    /// Whether the provider has already accepted [`Self::redirect_uri`]: true when the request
    /// was pushed, since a pushed request with a redirect URI it refuses fails at once. When
    /// false, a browser that never comes back may be showing the provider's refusal of it.
    pub fn redirect_uri_accepted(&self) -> bool {
        self.redirect_uri_accepted
    }

    /// Waits for the callback (at most `timeout`, or until `cancel` resolves), then completes
    /// the sign-in and stores the session.
    pub async fn finish(
        self,
        client: &Client,
        timeout: Duration,
        cancel: impl Future<Output = ()>,
    ) -> Result<Session, SignInError> {
        client.finish_login(self, timeout, cancel).await
    }
}

/// Which ID token is being validated, and what it is checked against besides the profile.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdTokenFrom<'a> {
    /// From the code exchange: the request's nonce and `max_age`, and the code redeemed.
    SignIn {
        nonce: &'a Nonce,
        max_age: Option<u32>,
        code: &'a AuthorizationCode,
    },
    /// From a refresh grant: the sign-in's ID token (OIDC Core §12.2).
    Refresh { original: &'a OriginalIdToken },
}

/// The assurance an ID token is held to: the level the sign-in asked for (`acr_values`) and the
/// identity assurance the profile required, both as the sign-in used them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Assurance<'a> {
    pub acr_values: Option<&'a AcrValues>,
    pub min_id_assurance_level: Option<u8>,
}

/// A pushed request refused for its redirect URI (RFC 9126 §2.3 answers with the authorization
/// endpoint's errors: `invalid_request` naming the redirect URI, or `invalid_redirect_uri` as
/// some providers say) becomes the error that names the URI to register; any other is kept.
fn refused_redirect_uri(error: SignInError, redirect_uri: &str) -> SignInError {
    let SignInError::OAuth {
        error: code,
        description,
        ..
    } = &error
    else {
        return error;
    };
    let about_redirect_uri = code == "invalid_redirect_uri"
        || (code == "invalid_request"
            && description.as_deref().is_some_and(|text| {
                let text = text.to_ascii_lowercase();
                text.contains("redirect_uri") || text.contains("redirect uri")
            }));
    if !about_redirect_uri {
        return error;
    }
    SignInError::RedirectUriRefused {
        redirect_uri: redirect_uri.to_owned(),
        error: code.clone(),
        description: description.clone(),
    }
}

fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The longest `request_uri` accepted from the provider: it goes into a URL.
const MAX_REQUEST_URI_CHARS: usize = 512;

/// 32 random bytes, base64url: a `state`, `nonce` or PKCE verifier (RFC 7636 §4.1 asks for 32).
fn random_value() -> String {
    let mut buffer = [0u8; 32];
    SystemRandom::new()
        .fill(&mut buffer)
        .expect("the system random source works");
    URL_SAFE_NO_PAD.encode(buffer)
}

impl Client {
    /// Steps 2 and 3: discovery, the listener and the authorization URL. The JWKS is fetched in
    /// the background from here on.
    ///
    /// Every attempt is recorded in the history ([`crate::history`]): one that fails here is
    /// recorded now, one that gets this far when [`PendingLogin::finish`] ends it.
    pub async fn begin_login(&self, options: LoginOptions) -> Result<PendingLogin, SignInError> {
        let mut log = AttemptLog::begin(
            self.clock.now(),
            self.profile_snapshot(),
            self.asked(&options),
            options.label.clone(),
        );
        let mut timings = Vec::new();
        match self
            .begin_login_steps(options, &mut log, &mut timings)
            .await
        {
            Ok(mut pending) => {
                pending.log = log;
                pending.timings = timings;
                Ok(pending)
            }
            Err(error) => {
                self.record(log, Err(&error), &timings);
                Err(error)
            }
        }
    }

    async fn begin_login_steps(
        &self,
        options: LoginOptions,
        log: &mut AttemptLog,
        timings: &mut Vec<Timing>,
    ) -> Result<PendingLogin, SignInError> {
        // A missing secret or key, or a keychain that cannot keep the session, is said before
        // the browser opens, not after the user signed in.
        self.credential()?;
        crate::signin::blocking(|| self.store().check_keychain())?;
        let started = Instant::now();
        let metadata = self.metadata().await?;
        // A broker of another issuer or client, or a client authentication the provider does not
        // take, is refused before the browser opens.
        self.broker().await?;
        self.check_client_auth(&metadata)?;
        timings.push(Timing::since("discovery", started));
        if metadata
            .response_types_supported
            .as_ref()
            .is_some_and(|kinds| !kinds.iter().any(|kind| kind == "code"))
        {
            return Err(SignInError::InvalidResponse {
                endpoint: "discovery",
                problem: "the provider does not offer the authorization code flow".into(),
            });
        }
        let listener = LoopbackListener::bind_for(
            &self.profile.redirect_ports,
            self.profile.redirect_host,
            &self.profile.redirect_path,
        )
        .await?;
        let redirect_uri = listener.redirect_uri().to_owned();
        log.redirect_uri(redirect_uri.as_str());

        let jwks = {
            let (providers, http, metadata, now) = (
                Arc::clone(&self.providers),
                self.http.clone(),
                Arc::clone(&metadata),
                self.clock.now(),
            );
            tokio::spawn(async move { providers.jwks(&http, &metadata, now).await })
        };

        let state = CsrfState::new(random_value());
        let nonce = Nonce::new(random_value());
        let code_verifier = PkceVerifier::new(random_value());
        let challenge = code_verifier.s256_challenge();
        let mut scopes = options
            .scopes
            .clone()
            .unwrap_or_else(|| self.profile.scopes.clone());
        let mut prompt = options
            .prompt
            .clone()
            .or_else(|| self.profile.prompt.clone());
        if self.profile.role_selection == RoleSelection::Cis2 {
            // REFERENCE §4: CIS2's own role picker; `changedrole` replaces `selectedrole` when
            // the user asks to change role, always with a fresh login.
            scopes.retain(|scope| scope != "selectedrole" && scope != "changedrole");
            if options.change_role {
                scopes.push("changedrole".into());
                prompt = Some("login".into());
            } else {
                scopes.push("selectedrole".into());
            }
        }
        // An empty value (the profile's `acr_values = ""`) asks for no level.
        let acr_values = options
            .acr_values
            .clone()
            .or_else(|| self.profile.acr_values.clone())
            .filter(|values| !values.asks_for_none());
        let max_age = options.max_age.or(self.profile.max_age);
        let scope = scopes.join(" ");
        let max_age_text = max_age.map(|seconds| seconds.to_string());
        let mut parameters: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", &scope),
            ("state", state.expose_secret()),
            ("nonce", nonce.expose_secret()),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        // CIS2 takes `query` only (REFERENCE §2); it is the default for `code`, so it is not
        // sent, and `form_post` never is.
        for (name, value) in [
            ("acr_values", acr_values.as_ref().map(AcrValues::as_str)),
            ("prompt", prompt.as_deref()),
            ("max_age", max_age_text.as_deref()),
            ("login_hint", options.login_hint.as_deref()),
        ] {
            if let Some(value) = value {
                parameters.push((name, value));
            }
        }
        let started = Instant::now();
        let par = self
            .route(&metadata, Endpoint::PushedAuthorization)
            .await
            .inspect_err(|_| jwks.abort())?;
        let pushed = par.is_some();
        log.pushed(pushed);
        if !pushed {
            log.checks.not_applicable(
                Rule::PushedRequest,
                "the provider offers no pushed requests",
            );
        }
        let authorization_url = match &par {
            Some(route) => {
                let pushed = self
                    .push_authorization_request(&metadata, route, &parameters)
                    .await;
                // A refused push ends the sign-in: the key prefetch is not needed.
                let request_uri = pushed.inspect_err(|_| jwks.abort())?;
                timings.push(Timing::since("par", started));
                log.checks.passed(
                    Rule::PushedRequest,
                    Some("pushed; a request_uri came back".to_owned()),
                );
                let reference = [
                    ("client_id", self.client_id.as_str()),
                    ("request_uri", &request_uri),
                ];
                with_query(&metadata.authorization_endpoint, &encode(&reference))
            }
            None if metadata.require_pushed_authorization_requests => {
                jwks.abort();
                return Err(SignInError::InvalidResponse {
                    endpoint: "discovery",
                    problem: "the provider requires pushed authorization requests and \
                              publishes no pushed_authorization_request_endpoint"
                        .into(),
                });
            }
            None => with_query(&metadata.authorization_endpoint, &encode(&parameters)),
        };
        let mut listener = listener;
        let launch_links = listener.launch_links(SecretString::new(authorization_url.clone()));
        // Pages an earlier careid wrote for the browser (they held authorization URLs and ID
        // tokens): launch links need none.
        let left_over = self.store.state_dir().join("sign-in-pages");
        blocking(|| drop(std::fs::remove_dir_all(left_over)));
        Ok(PendingLogin {
            authorization_url,
            launch_links,
            redirect_uri,
            redirect_uri_accepted: pushed,
            listener,
            state,
            nonce,
            code_verifier,
            acr_values,
            max_age,
            role: options.role,
            metadata,
            jwks,
            // Filled by `begin_login` from what this sign-in noted.
            log: AttemptLog::begin(
                self.clock.now(),
                ProfileSnapshot::default(),
                Asked::nothing(),
                None,
            ),
            timings: Vec::new(),
        })
    }

    /// RFC 9126 §2: posts the authorization request's parameters with client authentication (as
    /// for the token endpoint) and returns the `request_uri` that stands for them.
    async fn push_authorization_request(
        &self,
        metadata: &ProviderMetadata,
        route: &Route,
        parameters: &[(&str, &str)],
    ) -> Result<String, SignInError> {
        const NAME: &str = "pushed authorization request";
        // Through a broker the sign-in is bound to the install's DPoP key from its start (RFC
        // 9449 §10): the code it leads to is redeemed with that key only.
        let thumbprint;
        let mut parameters = parameters.to_vec();
        if route.broker_issuer.is_some() {
            thumbprint = self
                .dpop
                .key(self.store.keychain(), self.store.state_dir())
                .await?
                .thumbprint();
            parameters.push(("dpop_jkt", thumbprint.as_str()));
        }
        let parameters = parameters.as_slice();
        let response = self
            .authenticated_post(metadata, route, parameters, NAME)
            .await?;
        // §2.2 says 201; a 200 carrying the same answer is taken too.
        if !matches!(response.status, 200 | 201) {
            let error = super::token::answer_error(NAME, &response);
            let redirect_uri = parameters
                .iter()
                .find(|(name, _)| *name == "redirect_uri")
                .map(|(_, uri)| *uri);
            return Err(match redirect_uri {
                Some(uri) => refused_redirect_uri(error, uri),
                None => error,
            });
        }
        let invalid = |problem: &str| SignInError::InvalidResponse {
            endpoint: NAME,
            problem: problem.into(),
        };
        let answer: serde_json::Value = response
            .json()
            .map_err(|_| invalid("the body is not JSON (RFC 9126 §2.2)"))?;
        let request_uri = answer
            .get("request_uri")
            .and_then(serde_json::Value::as_str)
            .filter(|uri| !uri.is_empty() && uri.len() <= MAX_REQUEST_URI_CHARS)
            .ok_or_else(|| invalid("it has no usable request_uri"))?;
        if request_uri.chars().any(char::is_control) {
            return Err(invalid("its request_uri holds control characters"));
        }
        Ok(request_uri.to_owned())
    }

    async fn finish_login(
        &self,
        pending: PendingLogin,
        timeout: Duration,
        cancel: impl Future<Output = ()>,
    ) -> Result<Session, SignInError> {
        let PendingLogin {
            redirect_uri,
            listener,
            state,
            nonce,
            code_verifier,
            acr_values,
            max_age,
            role: requested_role,
            metadata,
            jwks,
            mut log,
            mut timings,
            ..
        } = pending;
        // Everything below may stop at a `?`: the record is written whatever the outcome.
        let outcome = async {
            let started = Instant::now();
            let checks = CallbackChecks {
                state,
                issuer: metadata.issuer.clone(),
                iss_required: metadata.authorization_response_iss_parameter_supported,
            };
            let waited = listener.wait(checks, timeout, cancel).await;
            // The prefetch is not needed after a failed callback; do not leave it running.
            let response = match waited {
                Ok(response) => response,
                Err(error) => {
                    jwks.abort();
                    return Err(error.into());
                }
            };
            timings.push(Timing::since("browser", started));
            let stray_callbacks = response.stray_callbacks;
            log.stray_callbacks(stray_callbacks);
            log.checks.passed(
                Rule::State,
                Some(format!(
                    "the request's, compared in constant time; {stray_callbacks} callback(s) with another state refused"
                )),
            );
            match &response.iss {
                Some(iss) => log.checks.passed(Rule::CallbackIssuer, Some(format!("iss {iss}"))),
                None => log.checks.not_applicable(
                    Rule::CallbackIssuer,
                    "no iss sent, and the provider does not say it sends one",
                ),
            }

            let started = Instant::now();
            let tokens = self
                .token_request(
                    &metadata,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", response.code.expose_secret()),
                        ("redirect_uri", redirect_uri.as_str()),
                        ("code_verifier", code_verifier.expose_secret()),
                    ],
                )
                .await?;
            timings.push(Timing::since("token", started));
            log.checks.passed(
                Rule::Pkce,
                Some("S256; the provider redeemed the code with the verifier".to_owned()),
            );
            log.token_seen("access_token", tokens.access_token.expose_secret());
            if let Some(id_token) = &tokens.id_token {
                log.token_seen("id_token", id_token.expose_secret());
            }

            let started = Instant::now();
            let jwks = match jwks.await {
                Ok(Ok(jwks)) => jwks,
                // The prefetch failed (or panicked): one more try now, so a passing network hiccup
                // during the browser step does not fail the sign-in.
                _ => {
                    self.providers
                        .jwks(&self.http, &metadata, self.clock.now())
                        .await?
                }
            };
            timings.push(Timing::since("jwks", started));
            let started = Instant::now();
            let id_token =
                tokens
                    .id_token
                    .as_ref()
                    .ok_or_else(|| SignInError::InvalidResponse {
                        endpoint: "token",
                        problem: "no ID token: the openid scope was not honoured".into(),
                    })?;
            let claims = self
                .validate_id_token(
                    &metadata,
                    jwks,
                    id_token,
                    &tokens.access_token,
                    Assurance {
                        acr_values: acr_values.as_ref(),
                        min_id_assurance_level: self.profile.min_id_assurance_level,
                    },
                    IdTokenFrom::SignIn {
                        nonce: &nonce,
                        max_age,
                        code: &response.code,
                    },
                )
                .await?;
            timings.push(Timing::since("checks", started));
            log.id_token_passed(
                &claims,
                &IdTokenHeld {
                    skew_seconds: u64::from(self.profile.session.clock_skew_seconds),
                    absolute_limit_hours: self.profile.session.absolute_hours,
                    max_age,
                    asked_level: acr_values.as_ref().and_then(crate::claims::requested_level),
                    min_id_assurance_level: self.profile.min_id_assurance_level,
                },
            );

            // Through a broker: a session the provider has already ended is not kept. A broker
            // that cannot be asked is no end; careid asks again at each refresh.
            match self.broker_session_state(id_token).await {
                Ok(Some(SessionState::Ended { .. })) => return Err(self.ended_by_provider()),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!("could not ask the broker about the new session: {error}")
                }
            }

            let started = Instant::now();
            let userinfo = self
                .userinfo(&metadata, &tokens.access_token, &claims.sub)
                .await?;
            timings.push(Timing::since("userinfo", started));
            log.userinfo(&userinfo);
            log.checks.passed(Rule::UserinfoSubject, Some(format!("sub {}", claims.sub)));

            let identity =
                crate::Identity::from_userinfo(&serde_json::Value::Object(userinfo.clone()))?;
            let remembered =
                blocking(|| self.remembered_roles().get(&self.profile.name, &claims.sub));
            // CIS2's choice is the role: a requested one that differs refuses the sign-in here,
            // before anything is stored.
            let role = choose_role(
                &identity,
                claims.selected_roleid.as_deref(),
                requested_role.as_deref(),
                remembered.as_deref(),
            )?;
            log.role(&role);
            let now = unix_seconds(self.clock.now());
            let mut facts = SessionFacts {
                profile: self.profile.name.clone(),
                sub: claims.sub.clone(),
                name: crate::person_name(&identity),
                // As the provider said it: the ID token check refused one later than the token or
                // now (beyond the skew), or already past the absolute limit.
                auth_time: claims.auth_time.unwrap_or(claims.iat),
                last_activity: now,
                selected_role_id: None,
                role: None,
                sid: claims.sid.clone(),
                assurance_level: claims
                    .claims
                    .get("authentication_assurance_level")
                    .and_then(assurance_level),
                stored_at: now,
            };
            facts.set_role(role.role(), &identity);
            // Only now, with every answer checked, is anything stored: under the session lock, so
            // a refresh or sign-out in another process cannot interleave with the new session.
            let lock = self.session_lock().await?;
            let record = SignInRecord {
                id_token: OriginalIdToken::from(&claims),
                acr_values: acr_values.clone(),
                min_id_assurance_level: self.profile.min_id_assurance_level,
            };
            let mut tokens = tokens;
            let refresh_token = tokens.refresh_token.take();
            let tokens =
                Tokens::from_response(tokens, self.clock.now()).expiring_with(Some(&claims));
            blocking(|| {
                self.store.save_sign_in(
                    &lock,
                    &facts,
                    refresh_token.as_ref(),
                    Some(&record),
                    tokens.id_token.as_ref(),
                    tokens.kept(),
                )
            })?;
            if let RoleChoice::Automatic(role)
            | RoleChoice::Selected(role)
            | RoleChoice::Requested(role) = &role
            {
                blocking(|| {
                    self.remembered_roles()
                        .set(&lock, &claims.sub, &role.person_roleid)
                });
            }
            drop(lock);
            let refreshable = refresh_token.is_some();
            Ok(Session {
                profile: self.profile.name.clone(),
                issuer: metadata.issuer.clone(),
                tokens,
                id_token: Some(claims),
                userinfo: Some(userinfo),
                identity: Some(identity),
                role: Some(role),
                facts,
                refreshable,
                timings: timings.clone(),
                stray_callbacks,
                attempt_id: Some(log.id().clone()),
            })
        }
        .await;
        let no_roles = outcome
            .as_ref()
            .map(|session| matches!(session.role, Some(RoleChoice::NoRoles)));
        self.record(log, no_roles, &timings);
        outcome
    }

    /// The profile as this attempt uses it, for its record.
    fn profile_snapshot(&self) -> ProfileSnapshot {
        let profile = &self.profile;
        ProfileSnapshot {
            name: profile.name.clone(),
            issuer: match &profile.issuer {
                crate::profile::IssuerSource::Url(issuer) => issuer.to_string(),
                crate::profile::IssuerSource::BuiltInMock => "the built-in mock".to_owned(),
            },
            client_id: Some(self.client_id.as_str().to_owned()),
            client_auth: profile.client_auth.as_str().to_owned(),
            broker: profile.broker.clone(),
            redirect_uri: None,
            role_selection: match profile.role_selection {
                RoleSelection::App => "app",
                RoleSelection::Cis2 => "cis2",
            }
            .to_owned(),
            min_id_assurance_level: profile.min_id_assurance_level,
        }
    }

    /// What `options` and the profile ask for, each with where it comes from: the same
    /// choices [`Self::begin_login`] makes for the request.
    fn asked(&self, options: &LoginOptions) -> Asked {
        let profile = &self.profile;
        let acr_values = AskedValue::chosen(
            options
                .acr_values
                .as_ref()
                .map(|values| (!values.asks_for_none()).then(|| values.as_str().to_owned())),
            profile
                .acr_values
                .as_ref()
                .filter(|values| !values.asks_for_none())
                .map(|values| values.as_str().to_owned()),
        );
        let prompt = if profile.role_selection == RoleSelection::Cis2 && options.change_role {
            AskedValue {
                value: Some("login".to_owned()),
                source: Source::Careid,
            }
        } else {
            AskedValue::chosen(options.prompt.clone().map(Some), profile.prompt.clone())
        };
        let mut scope = AskedValue::chosen(
            options.scopes.as_ref().map(|scopes| Some(scopes.join(" "))),
            Some(profile.scopes.join(" ")),
        );
        if profile.role_selection == RoleSelection::Cis2 {
            // CIS2's own role picker's scope is careid's to add.
            let extra = if options.change_role {
                "changedrole"
            } else {
                "selectedrole"
            };
            let base = scope.value.take().unwrap_or_default();
            let kept: Vec<&str> = base
                .split(' ')
                .filter(|scope| {
                    !scope.is_empty() && *scope != "selectedrole" && *scope != "changedrole"
                })
                .collect();
            scope.value = Some(
                [kept.join(" "), extra.to_owned()]
                    .join(" ")
                    .trim()
                    .to_owned(),
            );
        }
        Asked {
            acr_values,
            prompt,
            max_age: AskedValue::chosen(
                options.max_age.map(|seconds| Some(seconds.to_string())),
                profile.max_age.map(|seconds| seconds.to_string()),
            ),
            scope,
            role: AskedValue::chosen(options.role.clone().map(Some), None),
            login_hint: options.login_hint.clone().map(|hint| AskedValue {
                value: Some(hint),
                source: Source::Overridden,
            }),
            pushed: false,
        }
    }

    /// The history this profile's attempts are recorded in.
    pub fn history(&self) -> History {
        History::in_state_dir(self.store.state_dir())
    }

    /// Adds what happened to `sub`'s session to its sign-in's record.
    pub(crate) fn note_on_timeline(&self, sub: &str, kind: &str, detail: &str) {
        let event = crate::history::TimelineEvent {
            at: crate::history::Time::at(unix_seconds(self.clock.now())),
            kind: kind.to_owned(),
            detail: Some(detail.to_owned()),
        };
        let history = self.history();
        blocking(|| history.note(&self.profile.name, sub, event));
    }

    /// Writes the attempt's record. A record that cannot be written is logged, never a reason
    /// for the sign-in to fail.
    fn record(&self, log: AttemptLog, outcome: Result<bool, &SignInError>, timings: &[Timing]) {
        let mut attempt = log.finish(outcome, timings, self.clock.now());
        let history = self.history();
        blocking(|| {
            if let Some(sub) = attempt
                .returned
                .as_ref()
                .and_then(|returned| returned.sub.clone())
            {
                attempt.note_previous(history.previous_sign_in(
                    &self.profile.name,
                    &sub,
                    &attempt.id,
                ));
            }
            if let Err(error) = history.save(&attempt) {
                tracing::warn!("could not write the attempt's record to the history: {error}");
            }
        });
    }

    /// Validates an ID token against the JWKS, fetching the JWKS again once if the token names
    /// a key it does not hold (the provider rotated its keys): a sign-in's with
    /// [`crate::validate_id_token`], a refresh's with [`crate::validate_refreshed_id_token`].
    pub(crate) async fn validate_id_token(
        &self,
        metadata: &ProviderMetadata,
        jwks: Arc<serde_json::Value>,
        id_token: &IdToken,
        access_token: &AccessToken,
        assurance: Assurance<'_>,
        from: IdTokenFrom<'_>,
    ) -> Result<IdTokenClaims, SignInError> {
        use crate::id_token::{validate_id_token, validate_refreshed_id_token, IdTokenCheck};
        use crate::jose::{allowed_algorithms, HmacKey, JsonWebKeySet};

        let hmac_secret = self.hmac_secret()?;
        let allowed = allowed_algorithms(
            metadata
                .id_token_signing_alg_values_supported
                .as_deref()
                .unwrap_or_default(),
            HmacKey::of(hmac_secret),
        );
        let (max_age, code) = match from {
            IdTokenFrom::SignIn { max_age, code, .. } => (max_age, Some(code)),
            IdTokenFrom::Refresh { .. } => (None, None),
        };
        let check = IdTokenCheck {
            issuer: &metadata.issuer,
            client_id: &self.client_id,
            max_age,
            acr_values: assurance.acr_values,
            min_id_assurance_level: assurance.min_id_assurance_level,
            trusted_audiences: &self.profile.trusted_audiences,
            access_token: Some(access_token),
            code,
            absolute_limit: Some(Duration::from_secs(
                u64::from(self.profile.session.absolute_hours) * 3_600,
            )),
            skew: Duration::from_secs(u64::from(self.profile.session.clock_skew_seconds)),
            now: self.clock.now(),
        };
        let validate = |keys: &JsonWebKeySet| {
            let token = id_token;
            match from {
                IdTokenFrom::SignIn { nonce, .. } => {
                    validate_id_token(token, keys, &allowed, hmac_secret, &check, nonce)
                }
                IdTokenFrom::Refresh { original } => validate_refreshed_id_token(
                    token,
                    keys,
                    &allowed,
                    hmac_secret,
                    &check,
                    original,
                ),
            }
        };
        Ok(self
            .providers
            .verify_with_keys(&self.http, metadata, self.clock.now(), Some(jwks), validate)
            .await?)
    }

    /// Step 7: UserInfo, as JSON or a signed JWT, whose `sub` must be the ID token's.
    pub(crate) async fn userinfo(
        &self,
        metadata: &ProviderMetadata,
        access_token: &AccessToken,
        sub: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, SignInError> {
        let endpoint =
            metadata
                .userinfo_endpoint
                .as_deref()
                .ok_or_else(|| SignInError::InvalidResponse {
                    endpoint: "discovery",
                    problem: "the provider publishes no userinfo_endpoint".into(),
                })?;
        let accept = if self.profile.userinfo_signed {
            "application/jwt"
        } else {
            "application/json"
        };
        let authorization = SecretString::new(format!("Bearer {}", access_token.expose_secret()));
        let response = self
            .http
            .get_authorized(endpoint, &authorization, accept)
            .await
            .map_err(|source| SignInError::Http {
                endpoint: "userinfo",
                source,
            })?;
        if response.status != 200 {
            return Err(super::token::answer_error("userinfo", &response));
        }
        let signed = response
            .content_type
            .as_deref()
            .is_some_and(|kind| kind.starts_with("application/jwt"));
        let claims = if signed {
            self.verify_signed_userinfo(metadata, response.text().trim())
                .await?
        } else if self.profile.userinfo_signed {
            return Err(SignInError::UserInfo(
                "the profile expects a signed UserInfo response, and this one is plain JSON".into(),
            ));
        } else {
            response
                .json::<serde_json::Map<String, serde_json::Value>>()
                .map_err(|_| SignInError::InvalidResponse {
                    endpoint: "userinfo",
                    problem: "the body is not a JSON object".into(),
                })?
        };
        match claims.get("sub").and_then(|value| value.as_str()) {
            Some(found) if found == sub => Ok(claims),
            Some(_) => Err(SignInError::UserInfo(
                "its sub is not the ID token's (OIDC Core §5.3.2)".into(),
            )),
            None => Err(SignInError::UserInfo("it has no sub".into())),
        }
    }

    async fn verify_signed_userinfo(
        &self,
        metadata: &ProviderMetadata,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, SignInError> {
        use crate::discovery::KeyedError;
        use crate::id_token::verify_signed_userinfo;
        use crate::jose::{allowed_userinfo_algorithms, HmacKey, JsonWebKeySet};

        let hmac_secret = self.hmac_secret()?;
        let allowed = allowed_userinfo_algorithms(
            metadata.userinfo_signing_alg_values_supported.as_deref(),
            metadata.id_token_signing_alg_values_supported.as_deref(),
            HmacKey::of(hmac_secret),
        );
        let verify = |keys: &JsonWebKeySet| {
            verify_signed_userinfo(
                token,
                keys,
                &allowed,
                hmac_secret,
                &metadata.issuer,
                &self.client_id,
            )
        };
        self.providers
            .verify_with_keys(&self.http, metadata, self.clock.now(), None, verify)
            .await
            .map_err(|error| match error {
                KeyedError::Refused(error) => SignInError::UserInfo(error.to_string()),
                other => other.into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_refused_for_its_redirect_uri_names_the_uri_other_refusals_stay() {
        let uri = "http://127.0.0.1:23741/callback";
        let cases = [
            ("invalid_redirect_uri", None, true),
            (
                "invalid_request",
                Some("redirect_uri \"http://127.0.0.1:23741/callback\" is not registered"),
                true,
            ),
            ("invalid_request", Some("Invalid Redirect URI"), true),
            ("invalid_request", Some("unknown scope"), false),
            ("invalid_request", None, false),
            ("invalid_client", Some("redirect_uri"), false),
        ];
        for (code, description, refused) in cases {
            let error = SignInError::OAuth {
                endpoint: "pushed authorization request",
                status: 400,
                error: code.to_owned(),
                description: description.map(str::to_owned),
            };
            let mapped = refused_redirect_uri(error, uri);
            assert_eq!(
                mapped.code() == "redirect_uri_refused",
                refused,
                "{code} {description:?}: {mapped}"
            );
            if refused {
                assert!(mapped.to_string().contains(uri), "{mapped}");
            }
        }
    }
}
