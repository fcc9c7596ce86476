// Notices: the one table of words for every code (careid's own, each session end, CIS2's OAuth errors, this
// screen's own), and the box that shows a notice in two layers: plain words for the member of staff (what
// happened, what to do), then a folded "Technical detail" for a tester or the service desk (CIS2's own words,
// the codes, the check that failed, a reference and the time) that "Copy details" puts on the clipboard.
import type { AppInfo, Notice, NoticeClass, NoticeCode, ProfileView } from './generated/ipc';
import { ApiError, UI_ERROR_CODES } from './api';
import { h } from './dom';
import { formatMoment, formatUtc, plural } from './time';

export interface NoticeText {
  tone: 'info' | 'error';
  /** The sentence that says what happened, in plain words. */
  sentence: string;
  /** What the member of staff can do about it; empty when nothing is needed. */
  next: string;
}

/** A sentence and what to do next. */
interface Entry {
  sentence: string;
  next: string;
}

/** What an entry may look at: the notice (CIS2's code and words, what was asked) and the profile (its limits). */
interface Situation {
  notice: NoticeFacts;
  profile: ProfileView;
}

type NoticeFacts = Pick<Notice, 'code' | 'class' | 'providerError' | 'providerDescription' | 'acrValues'>;

type Words = Entry | ((situation: Situation) => Entry);

/**
 * CIS2's OAuth `error` codes: at the authorize endpoint (RFC 6749 section 4.1.2.1; OpenID Connect Core 1.0
 * section 3.1.2.6), at the token endpoint (RFC 6749 section 5.2), at UserInfo (RFC 6750 section 3.1) and
 * revocation (RFC 7009 section 2.2.1). CIS2 documents none of its authorize codes (REFERENCE section 10): it
 * may send any of these.
 */
export const CIS2_ERROR_CODES = [
  'access_denied',
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
  'invalid_request',
  'invalid_scope',
  'unauthorized_client',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
  'invalid_grant',
  'invalid_client',
  'unsupported_grant_type',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
] as const;

export type Cis2ErrorCode = (typeof CIS2_ERROR_CODES)[number];

/** Codes raised on this side of the bridge. */
export type UiCode = (typeof UI_ERROR_CODES)[keyof typeof UI_ERROR_CODES];

// Shared words. "The reference" is the one shown with every error, for the service desk.
const DESK = 'contact your IT service desk and give them the reference below';
const TRY_AGAIN = `Try again. If it keeps happening, ${DESK}.`;
const NOT_YOU = `This is not something you did or can fix here: ${DESK}.`;
const SIGN_IN_AGAIN = 'Sign in again to carry on.';
const WAIT = `Wait a few minutes, then try again. If it keeps happening, ${DESK}.`;
const CHECK_NETWORK = `Check you are connected to the network (and the VPN, if you use one), then try again. If it keeps happening, ${DESK}.`;
const CHECK_CLOCK = `Check the date, time and time zone on this computer are right, then sign in again. If they are, ${DESK}.`;
const KEYCHAIN_NEXT = `Restart your computer and try again. If it keeps happening, ${DESK}: the keychain is not working.`;
const PROFILES = 'Go to Profiles to put it right, or ask whoever set careid up for you.';

const REJECTED: Entry = {
  sentence: 'careid stopped the sign-in because an answer from the sign-in service failed a security check.',
  next: `Try again. If it happens again, ${DESK}: the sign-in service or careid may be set up wrongly.`,
};
const CLOCK: Entry = {
  sentence: 'careid stopped the sign-in because the times in the answer from the sign-in service do not match this computer’s clock.',
  next: CHECK_CLOCK,
};
const SET_UP: Entry = { sentence: 'careid is not set up properly to sign you in with CIS2.', next: NOT_YOU };
const UNREACHABLE: Entry = { sentence: 'careid could not reach the sign-in service.', next: CHECK_NETWORK };
const BUSY: Entry = { sentence: 'careid is busy with your session in another window or in the careid command.', next: 'Wait a moment, then try again.' };
const GENERIC: Entry = { sentence: 'Sorry, something went wrong in careid.', next: TRY_AGAIN };
const PROVIDER_GENERIC: Entry = { sentence: 'CIS2 did not sign you in.', next: TRY_AGAIN };

// The ways of signing in to CIS2, as staff know them (REFERENCE section 5).
const SMARTCARD = 'your smartcard';
const SECURITY_KEY = 'a security key';
const HELLO = 'Windows Hello for Business';
const IPAD = 'the NHS CIS2 iPad app';
const APP = 'an authenticator app (such as Microsoft Authenticator)';
const NHSMAIL = 'NHSmail';
const PASSKEY = 'a passkey';
const PASSWORD = 'your password';
const AAL3 = [SMARTCARD, SECURITY_KEY, HELLO, IPAD];
const AAL2 = [...AAL3, APP, NHSMAIL, PASSKEY];

/** Which ways of signing in each `acr_values` value admits (REFERENCE section 5). */
const ADMITTED: Readonly<Record<string, readonly string[]>> = {
  AAL3_ANY: AAL3,
  AAL2_OR_AAL3_ANY: AAL2,
  AAL2_ANY: AAL2,
  AAL1_USERPASS: [...AAL2, PASSWORD],
  AAL3_N3_SMARTCARD: [SMARTCARD],
  AAL3_CIS2_SMARTCARD: [SMARTCARD],
  AAL3_SMARTCARD: [SMARTCARD],
  AAL3_FIDO2: [SECURITY_KEY, HELLO],
  AAL3_IOS: [IPAD],
  AAL2_TOTP: [APP],
  AAL2_NHSMAIL: [NHSMAIL],
};

/**
 * The ways of signing in that `acrValues` (space-separated, as asked) admits, in words: "your smartcard, a
 * security key, ... or the NHS CIS2 iPad app". When nothing known was asked, the strongest: smartcard or key.
 */
export function waysToSignIn(acrValues: string | null): string {
  const ways: string[] = [];
  for (const value of (acrValues ?? '').split(/\s+/)) {
    for (const way of ADMITTED[value] ?? []) if (!ways.includes(way)) ways.push(way);
  }
  return orList(ways.length > 0 ? ways : [SMARTCARD, SECURITY_KEY]);
}

function orList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** How strong the sign-in that `acrValues` asks for is, for the technical detail. */
function levelAsked(acrValues: string | null): string {
  const values = (acrValues ?? '').split(/\s+/).filter(Boolean);
  if (values.length === 0) return 'nothing (CIS2 applies its own default)';
  return values.join(' ');
}

/**
 * What CIS2's `access_denied` means, read from its `error_description`: the user cancelled (or declined) in the
 * browser, the way they signed in is below the assurance level asked for, or the words cannot tell.
 */
export function accessDeniedReading(description: string | null): 'cancelled' | 'assurance' | 'unclear' {
  const text = (description ?? '').toLowerCase();
  const cancelled = /cancel|abort|declin|did not authori[sz]e|not authori[sz]ed by|(user|owner) denied|denied by the (user|resource owner)/.test(text);
  const assurance =
    /assurance|\baal ?\d|acr|authenticat(or|ion) level|level of (assurance|authentication)|not strong|too low|insufficient|does not meet|below/.test(
      text,
    );
  if (cancelled && !assurance) return 'cancelled';
  if (assurance && !cancelled) return 'assurance';
  return 'unclear';
}

function accessDenied({ notice }: Situation): Entry {
  const ways = waysToSignIn(notice.acrValues);
  switch (accessDeniedReading(notice.providerDescription)) {
    case 'cancelled':
      return { sentence: 'You cancelled the sign-in in the browser, so CIS2 did not sign you in.', next: 'Sign in again when you are ready.' };
    case 'assurance':
      return {
        sentence: 'CIS2 did not sign you in because the way you signed in is not strong enough for this service.',
        next: `Sign in again using ${ways}. If you do not have one of these, ${DESK}.`,
      };
    case 'unclear':
      return {
        sentence:
          'CIS2 did not sign you in. Either the sign-in was cancelled in the browser, or the way you signed in is not strong enough for this service.',
        next: `If you cancelled, sign in again when you are ready. If not, sign in again using ${ways}.`,
      };
  }
}

/** The words for the OAuth error CIS2 sent, or CIS2's generic refusal when the code is not one it can send. */
function providerWords(situation: Situation): Entry {
  const code = situation.notice.providerError;
  if (code && isCis2ErrorCode(code)) return resolve(WORDS[code], situation);
  return PROVIDER_GENERIC;
}

/**
 * The same words, for a refusal that lacked the mark CIS2 puts on its answers (RFC 9207's `iss`): anything on this
 * computer could have sent it, so careid says it could not confirm where it came from.
 */
function unverifiedProviderWords(situation: Situation): Entry {
  const words = providerWords(situation);
  return {
    sentence: `${words.sentence} careid could not confirm that this answer came from CIS2.`,
    next: words.next,
  };
}

function isCis2ErrorCode(code: string): code is Cis2ErrorCode {
  return (CIS2_ERROR_CODES as readonly string[]).includes(code);
}

/**
 * THE table: every code the shell can send (NOTICE_CODES, generated from Rust, so a code without words does
 * not type-check), every OAuth error CIS2 can send, and this screen's own codes.
 */
const WORDS: Readonly<Record<NoticeCode | Cis2ErrorCode | UiCode, Words>> = {
  // News that is not a failure.
  signed_out: {
    sentence: 'You have signed out of careid.',
    next: 'Your CIS2 session in the browser ends in the browser tab that opened; close that tab, or sign out there, if you share this computer.',
  },
  signed_out_not_revoked: {
    sentence: 'You have signed out of careid. CIS2 offers careid no way to cancel this sign-in there, so it stays valid at CIS2 until it runs out.',
    next: 'Your CIS2 session in the browser ends in the browser tab that opened; close that tab, or sign out there, if you share this computer.',
  },
  cancelled: { sentence: 'You cancelled the sign-in.', next: 'Sign in again when you are ready.' },

  // Why a session ended: one code per end (the core's EndReason), however the app learnt it.
  inactivity: ({ profile }) => ({
    sentence: `You were signed out because this device was not used for ${plural(profile.inactivityMinutes, 'minute', 'minutes')}.`,
    next: SIGN_IN_AGAIN,
  }),
  absolute_limit: ({ profile }) => ({ sentence: `Your session reached its ${profile.absoluteHours}-hour limit.`, next: SIGN_IN_AGAIN }),
  signed_out_here: { sentence: 'You were signed out from another careid window or the careid command.', next: SIGN_IN_AGAIN },
  ended_by_provider: { sentence: 'Your CIS2 session was ended, for example by signing out elsewhere.', next: SIGN_IN_AGAIN },
  tokens_expired_without_refresh: {
    sentence: 'Your careid session has ended: CIS2 gave this sign-in no way to renew it, and its time is up.',
    next: SIGN_IN_AGAIN,
  },
  refresh_rejected: { sentence: 'CIS2 no longer accepts your session.', next: SIGN_IN_AGAIN },
  response_rejected: {
    sentence: 'careid ended your session because an answer from the sign-in service failed a security check.',
    next: `Sign in again. If it keeps happening, ${DESK}.`,
  },
  keychain_cleared: { sentence: 'Your session has ended because what careid kept in this computer’s keychain was removed.', next: SIGN_IN_AGAIN },
  keychain_damaged: {
    sentence: 'Your session has ended because what careid kept in this computer’s keychain could not be read back.',
    next: `Sign in again; careid replaces what it kept. If it keeps happening, ${DESK}.`,
  },
  session_ended: { sentence: 'Your session has ended.', next: SIGN_IN_AGAIN },
  session_signed_out: { sentence: 'You are not signed in.', next: SIGN_IN_AGAIN },
  not_signed_in: { sentence: 'You are not signed in.', next: SIGN_IN_AGAIN },
  no_refresh_token: { sentence: 'Your session cannot be renewed: CIS2 gave this sign-in no way to renew it.', next: 'Sign in again when it ends.' },

  // The wait for the browser.
  timed_out: {
    sentence: 'careid had no answer from the browser in time.',
    next: 'Try again. Check the sign-in page opened in the browser you use for your Care Identity, and close old sign-in tabs.',
  },
  ports_taken: {
    sentence: 'careid could not listen for the browser’s answer: every port this profile allows is in use.',
    next: 'Close other sign-in apps and try again, or add ports to the profile.',
  },
  listener_failed: { sentence: 'careid could not listen for the browser’s answer on this computer.', next: TRY_AGAIN },
  launch_failed: { sentence: 'careid could not prepare the link that opens the sign-in page in your browser.', next: TRY_AGAIN },
  browser_failed: { sentence: 'careid could not open your web browser.', next: 'Use “Copy sign-in link” and paste the link into your browser.' },
  sign_in_under_way: { sentence: 'A sign-in is already waiting for the browser.', next: 'Finish it in the browser, or cancel it first.' },
  not_waiting: { sentence: 'No sign-in is waiting for the browser now.', next: 'Start the sign-in again.' },
  issuer_mismatch: {
    sentence: 'The answer came from a different sign-in service than this profile uses.',
    next: `Check the profile’s issuer on the Profiles page, or ${DESK}.`,
  },
  issuer_missing: {
    sentence: 'The answer did not say which sign-in service sent it, and this service must say.',
    next: `Check the profile’s issuer on the Profiles page, or ${DESK}.`,
  },
  code_missing: REJECTED,

  // CIS2 refused: the words follow CIS2's own code.
  provider_error: providerWords,
  provider_error_unverified: unverifiedProviderWords,
  oauth_error: providerWords,
  redirect_uri_refused: {
    sentence: 'CIS2 refused the address on this computer that it sends you back to (the redirect URI).',
    next: 'Ask for the redirect URIs of this profile to be registered with CIS2 for its client: Profiles lists them. The technical detail names the one refused.',
  },

  // CIS2's OAuth error codes.
  access_denied: accessDenied,
  login_required: { sentence: 'CIS2 needs you to sign in again in the browser.', next: 'Try again, and sign in when the browser asks.' },
  interaction_required: {
    sentence: 'CIS2 needs you to do something in the browser before it can sign you in.',
    next: 'Try again, and follow the steps in the browser.',
  },
  consent_required: { sentence: 'CIS2 needs your agreement in the browser before it can sign you in.', next: 'Try again, and agree in the browser.' },
  account_selection_required: {
    sentence: 'CIS2 needs you to choose which account to sign in with.',
    next: 'Try again, and choose your account in the browser.',
  },
  invalid_request: { sentence: 'CIS2 could not accept the sign-in request careid sent.', next: NOT_YOU },
  invalid_scope: { sentence: 'CIS2 refused some of the information careid asked for about you.', next: NOT_YOU },
  unauthorized_client: { sentence: 'careid is not allowed to sign in to CIS2 this way.', next: NOT_YOU },
  unsupported_response_type: { sentence: 'CIS2 does not support the kind of sign-in careid asked for.', next: NOT_YOU },
  server_error: { sentence: 'CIS2 had a problem of its own.', next: WAIT },
  temporarily_unavailable: { sentence: 'CIS2 is busy or down for maintenance.', next: WAIT },
  invalid_request_uri: { sentence: 'CIS2 could not find the sign-in request careid left for it.', next: TRY_AGAIN },
  invalid_request_object: { sentence: 'CIS2 could not accept the sign-in request careid sent.', next: NOT_YOU },
  request_not_supported: { sentence: 'CIS2 does not accept sign-in requests sent the way careid sent this one.', next: NOT_YOU },
  request_uri_not_supported: { sentence: 'CIS2 does not accept sign-in requests sent the way careid sent this one.', next: NOT_YOU },
  registration_not_supported: { sentence: 'CIS2 does not accept the registration details careid sent.', next: NOT_YOU },
  invalid_grant: {
    sentence: 'CIS2 did not accept the sign-in when careid went to finish it: it may have taken too long, or been used already.',
    next: `Sign in again. If it keeps happening, ${DESK}.`,
  },
  invalid_client: { sentence: 'CIS2 did not accept careid’s credentials for this service.', next: NOT_YOU },
  unsupported_grant_type: { sentence: 'CIS2 does not support the way careid finishes a sign-in.', next: NOT_YOU },
  invalid_token: { sentence: 'CIS2 no longer accepts your session.', next: SIGN_IN_AGAIN },
  insufficient_scope: { sentence: 'CIS2 refused to give careid some of the information it needs about you.', next: NOT_YOU },
  unsupported_token_type: { sentence: 'CIS2 could not end your session the way careid asked.', next: 'Sign out in the browser too, if you share this computer.' },

  // Reaching the sign-in service.
  unreachable: UNREACHABLE,
  interrupted: { sentence: 'The connection to the sign-in service broke off.', next: CHECK_NETWORK },
  timeout: { sentence: 'The sign-in service took too long to answer.', next: CHECK_NETWORK },
  provider_unavailable: { sentence: 'The sign-in service is not answering properly just now.', next: WAIT },
  http_status: { sentence: 'The sign-in service answered with an error.', next: WAIT },
  http_client: { sentence: 'careid could not start a connection to the sign-in service on this computer.', next: TRY_AGAIN },
  invalid_url: SET_UP,
  invalid_header: SET_UP,
  insecure_endpoint: { sentence: 'The sign-in service gave an address that is not secure, so careid did not use it.', next: NOT_YOU },
  too_large: REJECTED,
  invalid_json: REJECTED,
  invalid_document: REJECTED,
  invalid_response: REJECTED,
  unexpected_status: { sentence: 'The sign-in service gave an answer careid did not expect.', next: TRY_AGAIN },

  // The answers careid checks: ID token, its signature, UserInfo.
  id_token_wrong_issuer: REJECTED,
  id_token_wrong_audience: REJECTED,
  id_token_untrusted_audience: REJECTED,
  id_token_missing_azp: REJECTED,
  id_token_wrong_azp: REJECTED,
  id_token_wrong_nonce: REJECTED,
  id_token_wrong_at_hash: REJECTED,
  id_token_wrong_c_hash: REJECTED,
  id_token_missing_sub: REJECTED,
  id_token_missing_auth_time: REJECTED,
  id_token_invalid_claim: REJECTED,
  id_token_refresh_mismatch: REJECTED,
  id_token_expired: CLOCK,
  id_token_issued_in_future: CLOCK,
  id_token_not_yet_valid: CLOCK,
  id_token_auth_time_in_future: CLOCK,
  clock_invalid: { sentence: 'This computer’s clock is wrong.', next: CHECK_CLOCK },
  id_token_auth_time_too_old: {
    sentence: 'CIS2 said you signed in longer ago than this service allows.',
    next: 'Close the CIS2 tabs in your browser, then sign in again.',
  },
  id_token_past_session_limit: {
    sentence: 'CIS2 said you signed in longer ago than a careid session may last.',
    next: 'Close the CIS2 tabs in your browser, then sign in again.',
  },
  jws_malformed: REJECTED,
  jws_encrypted: REJECTED,
  jws_crit_unsupported: REJECTED,
  jws_header_unsupported: REJECTED,
  jws_wrong_type: REJECTED,
  jws_kid_required: REJECTED,
  jws_alg_none: REJECTED,
  jws_alg_unknown: REJECTED,
  jws_alg_not_allowed: REJECTED,
  jws_unknown_kid: REJECTED,
  jws_no_matching_key: REJECTED,
  jws_bad_signature: REJECTED,
  jwks_malformed: REJECTED,
  userinfo_rejected: REJECTED,
  userinfo_wrong_issuer: REJECTED,
  userinfo_wrong_audience: REJECTED,
  userinfo_invalid_claim: REJECTED,
  userinfo_not_json: REJECTED,
  userinfo_not_object: REJECTED,
  userinfo_sub_missing: REJECTED,

  // Assurance: how strongly the user signed in, and how well their identity was checked.
  assurance_too_low: ({ notice }) => ({
    sentence: 'The way you signed in is not strong enough for this service.',
    next: `Sign in again using ${waysToSignIn(notice.acrValues)}.`,
  }),
  assurance_missing: {
    sentence: 'CIS2 did not say how strongly you signed in, and this service needs to know.',
    next: `Try again. If it keeps happening, ${DESK}.`,
  },
  assurance_invalid: REJECTED,
  id_assurance_too_low: {
    sentence: 'Your identity was checked at a lower level than this service needs.',
    next: 'Ask your Registration Authority (the team that issued your smartcard) about checking your identity again.',
  },
  id_assurance_missing: {
    sentence: 'CIS2 did not say how well your identity was checked, and this service needs to know.',
    next: `Try again. If it keeps happening, ${DESK}.`,
  },
  id_assurance_invalid: REJECTED,

  // Roles.
  selected_role_conflict: {
    sentence: 'The role chosen in CIS2 is not the role careid was asked for, so careid kept the role chosen in CIS2.',
    next: 'Change role in CIS2 to work in another role.',
  },
  selected_role_unknown: {
    sentence: 'The role chosen in CIS2 is not among the roles CIS2 listed for you.',
    next: `Sign in again and choose your role. If it keeps happening, ${DESK}.`,
  },
  unknown_role: { sentence: 'That role is not one of yours.', next: 'Choose a role from the list, or sign in again.' },
  selected_role_incomplete: {
    sentence: 'CIS2 sent the role you chose without details careid needs to show it, such as its organisation.',
    next: `Sign in again and choose your role. If it keeps happening, ${DESK}.`,
  },
  roles_incomplete: {
    sentence: 'CIS2 sent your roles without details careid needs to show them, such as their organisations.',
    next: `Try again. If it keeps happening, ${DESK}.`,
  },

  // The keychain and careid's own files on this computer.
  keychain_unavailable: { sentence: 'careid could not open this computer’s keychain.', next: KEYCHAIN_NEXT },
  keychain_failed: { sentence: 'careid could not read or write this computer’s keychain.', next: KEYCHAIN_NEXT },
  keychain_unreadable: {
    sentence: 'careid could not read this computer’s keychain just now. Nothing was deleted.',
    next: 'Unlock your keychain if it asks, then try again. If it keeps happening, restart your computer.',
  },
  keychain_corrupt: {
    sentence: 'What careid kept in this computer’s keychain could not be read back.',
    next: `Sign in again; careid replaces what it kept. If it keeps happening, ${DESK}.`,
  },
  keychain_value_too_long: { sentence: 'What careid had to keep was too long for this computer’s keychain.', next: NOT_YOU },
  session_state_file: { sentence: 'careid could not read or write its session file on this computer.', next: TRY_AGAIN },
  session_lock_failed: { sentence: 'careid could not read or write its session file on this computer.', next: TRY_AGAIN },
  session_lock_timeout: BUSY,
  session_wrong_lock: GENERIC,
  session_invalid_profile: { sentence: 'This profile’s name cannot be used to keep a session.', next: PROFILES },
  no_config_folder: { sentence: 'careid could not find a folder on this computer to keep its settings in.', next: NOT_YOU },
  folder_other_owner: { sentence: 'careid’s folder on this computer belongs to someone else, so careid will not use it.', next: NOT_YOU },
  folder_writable_by_others: { sentence: 'Other people on this computer can change careid’s folder, so careid will not use it.', next: NOT_YOU },
  folder_uncheckable: { sentence: 'careid could not check who can change its folder on this computer.', next: NOT_YOU },
  clipboard_failed: { sentence: 'careid could not copy to the clipboard.', next: 'Try again.' },
  export_failed: { sentence: 'careid could not save the file.', next: 'Choose another folder and try again.' },

  // The testers' sign-in history.
  attempt_not_found: { sentence: 'That sign-in attempt is no longer in the history.', next: 'Go back to the history: older attempts are removed as new ones come.' },
  attempt_damaged: { sentence: 'The record of that sign-in attempt is damaged.', next: 'Choose another attempt. The technical detail names the file.' },
  history_keep_out_of_range: { sentence: 'The history cannot keep that many attempts.', next: 'Choose a number from 1 to 100,000.' },
  history_io: { sentence: 'careid could not read or write its sign-in history.', next: 'Check that the careid folder is yours and not full, then try again.' },

  // The testers' runs.
  run_needs_sign_out: { sentence: 'A run cannot start while you are signed in or signing in.', next: 'Sign out first: each case of a run signs in afresh and would replace your session.' },
  run_in_progress: { sentence: 'A run is already under way.', next: 'Wait for it to finish, or cancel it.' },
  run_no_question: { sentence: 'That step is no longer waiting for an answer.', next: 'The run has moved on; nothing was lost.' },
  run_not_found: { sentence: 'There is no run to do that with.', next: 'Choose a plan and start a run.' },
  run_plan_unknown: { sentence: 'That plan is no longer in the list.', next: 'Go back to the plans: the list is read afresh.' },
  run_plan_unreadable: { sentence: 'careid could not read that plan, or the expected-failures file it names.', next: 'Check that the file is there and yours. The technical detail names it.' },
  run_plan_invalid: { sentence: 'That plan, or its expected-failures file, has a mistake.', next: 'The technical detail gives the file, line and what is wrong. docs/runs.md describes plans.' },
  plan_mock_on_other_provider: { sentence: 'The plan signs in without a page on the built-in mock, but its profile is another provider.', next: 'Remove the plan’s [mock] section, or use the profile “mock”.' },
  open_failed: { sentence: 'careid could not show the file chooser.', next: 'Put the plan in the plans folder instead: the list shows where it is.' },

  // Profiles and their credentials (set up by whoever runs careid).
  profile_not_ready: { sentence: 'This profile is not ready to sign in with.', next: 'Go to Profiles to see what it needs.' },
  credential_missing: {
    sentence: 'This profile needs a client secret or private key, and none is stored.',
    next: 'Go to Profiles and store it in the keychain.',
  },
  client_credential_missing: {
    sentence: 'This profile needs a client secret or private key, and none is stored.',
    next: 'Go to Profiles and store it in the keychain.',
  },
  client_credential_mismatch: { sentence: 'The credential stored for this profile is not the kind it needs.', next: PROFILES },
  private_key_encrypted: { sentence: 'The private key stored for this profile is locked with a password careid cannot use.', next: PROFILES },
  private_key_malformed: { sentence: 'The private key stored for this profile cannot be read.', next: PROFILES },
  private_key_unsupported: { sentence: 'The private key stored for this profile is of a kind careid cannot use.', next: PROFILES },
  signing_algorithm_mismatch: { sentence: 'The private key stored for this profile does not suit its signing algorithm.', next: PROFILES },
  signing_algorithm_unknown: { sentence: 'This profile names a signing algorithm careid does not know.', next: PROFILES },
  signing_algorithm_not_for_cis2: { sentence: 'This profile’s signing algorithm is not one CIS2 accepts.', next: PROFILES },
  token_endpoint_missing: { sentence: 'The sign-in service did not publish where careid finishes a sign-in.', next: NOT_YOU },
  client_auth_not_offered: {
    sentence: 'The sign-in service does not accept the way this profile proves careid is a registered service (its client authentication).',
    next: PROFILES,
  },
  par_not_offered: {
    sentence: 'This profile is set to send its sign-in requests to the sign-in service first, and the sign-in service does not take them that way.',
    next: PROFILES,
  },
  par_required: {
    sentence: 'The sign-in service takes sign-in requests only when they are sent to it first, and this profile is set never to do so.',
    next: PROFILES,
  },
  signing_failed: { sentence: 'careid could not sign its request to the sign-in service.', next: TRY_AGAIN },
  credential_not_needed: { sentence: 'This profile needs no client secret or private key.', next: 'Nothing needs storing for it.' },
  credential_held_by_broker: {
    sentence: 'Your organisation’s careid server holds this profile’s credential, so none is stored on this computer.',
    next: 'Nothing needs storing for it.',
  },
  credential_empty: { sentence: 'The credential is empty.', next: 'Paste the client secret or private key, then store it.' },
  credential_not_a_key: { sentence: 'That is not a private key careid can read.', next: 'Paste the whole PEM private key, including its BEGIN and END lines.' },
  credential_key_not_for_profile: { sentence: 'That private key does not suit this profile’s signing algorithm.', next: 'Store the key registered with CIS2 for this profile.' },
  credential_key_for_secret: { sentence: 'This profile needs a client secret, and that is a private key.', next: 'Paste the client secret instead.' },
  profile_not_found: { sentence: 'That profile does not exist any more.', next: 'Choose another profile.' },
  profile_exists: { sentence: 'A profile with that name exists already.', next: 'Choose another name.' },
  profile_built_in: { sentence: 'Built-in profiles cannot be changed or removed.', next: 'Add a profile of your own instead.' },
  profile_invalid: { sentence: 'The profile is not valid.', next: 'Correct what the technical detail names, then save it again.' },
  profile_in_use: { sentence: 'That profile is in use.', next: 'Sign out, or choose another profile, first.' },
  profile_file: { sentence: 'careid could not read or write its profiles file on this computer.', next: TRY_AGAIN },
  profile_file_invalid: { sentence: 'careid’s profiles file on this computer is not valid.', next: NOT_YOU },

  // Your organisation's careid server (the broker that holds the client credential).
  broker_unreachable: { sentence: 'careid could not reach your organisation’s careid server.', next: CHECK_NETWORK },
  broker_unavailable: { sentence: 'Your organisation’s careid server is not answering properly just now.', next: WAIT },
  broker_invalid: { sentence: 'Your organisation’s careid server gave an answer careid cannot use.', next: NOT_YOU },
  broker_unexpected_status: { sentence: 'Your organisation’s careid server gave an answer careid did not expect.', next: TRY_AGAIN },
  broker_mismatch: { sentence: 'Your organisation’s careid server is set up for another sign-in service or client.', next: NOT_YOU },
  broker_proof_refused: { sentence: 'Your organisation’s careid server did not accept this computer’s proof of who it is.', next: NOT_YOU },

  // The built-in test sign-in service (mock), for testers.
  mock_start_failed: {
    sentence: 'careid could not start its built-in test sign-in service (mock).',
    next: 'Close careid and open it again. If it keeps happening, contact the careid team.',
  },
  mock_record_failed: {
    sentence: 'careid could not note where its built-in test sign-in service (mock) runs.',
    next: 'Close careid and open it again.',
  },
  mock_port_taken: {
    sentence:
      'Another program is using the port of the built-in test sign-in service (mock), so careid cannot run it there.',
    next: 'Close that program and try again. The details say how to start the mock afresh instead.',
  },
  mock_moved: {
    sentence: 'The built-in test sign-in service (mock) lost what it knew, so its sessions have ended.',
    next: 'Sign in again.',
  },
  mock_lock_timeout: {
    sentence: 'Another careid is starting the built-in test sign-in service (mock).',
    next: 'Wait a moment, then try again.',
  },
  mock_auto_login_mismatch: {
    sentence: 'The built-in test sign-in service (mock) is already running for another careid, which signs a different test user in automatically.',
    next: 'Close the other careid, or use the same automatic test user.',
  },
  mock_auto_login_refused: {
    sentence: 'The built-in test sign-in service (mock) does not know that test user or authenticator.',
    next: 'Choose one of the test users and authenticators the mock lists under Help.',
  },

  // This screen's own.
  [UI_ERROR_CODES.ipcFailed]: { sentence: 'Sorry, this screen could not talk to careid.', next: 'Close careid and open it again.' },
  [UI_ERROR_CODES.badResponse]: { sentence: 'Sorry, careid gave an answer this screen does not understand.', next: `Contact your IT service desk.` },
};

/** Every code the table has words for, for the tests. */
export const CODES_WITH_WORDS: readonly string[] = Object.keys(WORDS);

// When a code is new to this UI, its class still says what kind of trouble it is.
const BY_CLASS: Readonly<Record<Exclude<NoticeClass, 'info'>, Entry>> = {
  unreachable: UNREACHABLE,
  keychain: { sentence: 'careid could not read or write this computer’s keychain.', next: KEYCHAIN_NEXT },
  rejected: REJECTED,
  cancelled: { sentence: 'The sign-in was cancelled.', next: 'Sign in again when you are ready.' },
  usage: GENERIC,
  provider: PROVIDER_GENERIC,
  notSignedIn: { sentence: 'You are not signed in.', next: SIGN_IN_AGAIN },
  other: GENERIC,
};

function resolve(words: Words, situation: Situation): Entry {
  return typeof words === 'function' ? words(situation) : words;
}

function hasWords(code: string): code is keyof typeof WORDS {
  return Object.prototype.hasOwnProperty.call(WORDS, code);
}

/** The words for a notice, chosen by code (CIS2's own code when it refused), then by class; never by message text. */
export function noticeText(notice: NoticeFacts, profile: ProfileView): NoticeText {
  const tone = notice.class === 'info' ? 'info' : 'error';
  if (hasWords(notice.code)) return { tone, ...resolve(WORDS[notice.code], { notice, profile }) };
  if (notice.class === 'info') return { tone, sentence: 'careid has something to tell you.', next: '' };
  return { tone, ...(BY_CLASS[notice.class] ?? GENERIC) };
}

/**
 * The words for a window that could not start: this screen's own codes are the only ones that reach it, and
 * there is no notice (so no reference) to point the service desk at.
 */
export function describeError(error: unknown): string {
  const code = error instanceof ApiError ? error.code : '';
  if (code === UI_ERROR_CODES.ipcFailed || code === UI_ERROR_CODES.badResponse) {
    const words = WORDS[code] as Entry;
    return `${words.sentence} ${words.next}`;
  }
  return `${GENERIC.sentence} Try again. If it keeps happening, contact your IT service desk.`;
}

/**
 * What happened, in plain words, for a code whose words need no notice to say them (a fault that
 * stopped careid at start, where there is no notice and no profile yet); `undefined` otherwise.
 */
export function plainSentence(code: string): string | undefined {
  const words = hasWords(code) ? WORDS[code] : undefined;
  return typeof words === 'object' ? words.sentence : undefined;
}

/** Crockford's base 32 without I, L, O and U: a reference reads out over the telephone without confusion. */
const REFERENCE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new eight-character reference, for a notice this screen makes itself (Rust makes its own notices'). */
export function newReference(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return [...bytes].map((b) => REFERENCE_ALPHABET[b % 32]).join('');
}

/** The technical detail's rows, shown in the box and copied by "Copy details": the same text, in the same order. */
export function technicalRows(notice: Notice, text: NoticeText, app: AppInfo): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['Reference', notice.reference],
    ['Time (this computer)', formatMoment(notice.at)],
    ['Time (UTC)', formatUtc(notice.at)],
    ['What careid said', text.next ? `${text.sentence} ${text.next}` : text.sentence],
    ['careid code', `${notice.code} (${notice.class})`],
  ];
  if (notice.providerError) rows.push(['CIS2 error', notice.providerError]);
  if (notice.providerDescription) rows.push(['CIS2 error_description', notice.providerDescription]);
  if (notice.providerError || notice.acrValues) rows.push(['acr_values asked for', levelAsked(notice.acrValues)]);
  if (notice.detail) rows.push(['What failed', notice.detail]);
  rows.push(['careid version', `${app.version} (${app.buildProfile} build)`]);
  return rows;
}

/** The technical detail as plain text, one "label: value" line each, for the service desk. */
export function technicalText(rows: Array<[string, string]>): string {
  return `${rows.map(([label, value]) => `${label}: ${value}`).join('\n')}\n`;
}

export interface NoticeActions {
  app: AppInfo;
  onDismiss(): void;
  /** Copies the technical detail (Rust writes the clipboard). */
  onCopy(text: string): void;
  /** "Copy details" has just copied this notice's detail. */
  copied: boolean;
}

/**
 * The notice box: an NHS error summary (its words in role="alert") for errors, an inset text (role="status")
 * for information. The reference and a closed "Technical detail" expander (outside the live region) come with
 * every error, and with news when Rust gave a detail (why a session ended).
 */
export function renderNotice(notice: Notice, profile: ProfileView, actions: NoticeActions): HTMLElement {
  const text = noticeText(notice, profile);
  const body: Node[] = [h('p', { 'data-testid': 'notice-sentence' }, text.sentence)];
  if (text.next) body.push(h('p', { 'data-testid': 'notice-next' }, text.next));
  const error = text.tone === 'error';
  const showTechnical = error || Boolean(notice.detail);
  if (showTechnical) {
    body.push(
      h('p', { class: 'careid-notice__reference' }, 'Reference: ', h('strong', { 'data-testid': 'notice-reference' }, notice.reference)),
    );
  }
  const technical = showTechnical ? renderTechnical(notice, text, actions) : null;
  const dismiss = h(
    'button',
    { type: 'button', class: 'nhsuk-button nhsuk-button--secondary careid-dismiss', 'data-testid': 'dismiss-notice' },
    'Dismiss',
  );
  dismiss.addEventListener('click', actions.onDismiss);

  if (error) {
    return h(
      'div',
      {
        class: 'nhsuk-error-summary',
        tabindex: -1,
        'data-testid': 'notice',
        'data-notice-code': notice.code,
        'aria-labelledby': 'notice-heading',
      },
      h(
        'div',
        { role: 'alert' },
        h('h2', { class: 'nhsuk-error-summary__heading', id: 'notice-heading' }, 'There is a problem'),
        h('div', { class: 'nhsuk-error-summary__body' }, ...body),
      ),
      technical,
      dismiss,
    );
  }
  return h(
    'div',
    { class: 'nhsuk-inset-text', 'data-testid': 'notice', 'data-notice-code': notice.code },
    h('div', { role: 'status' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '), ...body),
    technical,
    dismiss,
  );
}

function renderTechnical(notice: Notice, text: NoticeText, actions: NoticeActions): HTMLDetailsElement {
  const rows = technicalRows(notice, text, actions.app);
  const list = h(
    'dl',
    { class: 'nhsuk-summary-list careid-technical', 'data-testid': 'notice-technical' },
    ...rows.map(([label, value]) =>
      h(
        'div',
        { class: 'nhsuk-summary-list__row' },
        h('dt', { class: 'nhsuk-summary-list__key' }, label),
        h('dd', { class: 'nhsuk-summary-list__value careid-wrap' }, value),
      ),
    ),
  );
  const copy = h(
    'button',
    { type: 'button', class: 'nhsuk-button nhsuk-button--secondary careid-copy-details', 'data-testid': 'copy-details' },
    'Copy details',
  );
  copy.addEventListener('click', () => actions.onCopy(technicalText(rows)));
  const copied = h('p', { class: 'nhsuk-body-s', role: 'status', 'data-testid': 'details-copied' }, actions.copied ? 'Details copied.' : '');
  // An id, so a redraw keeps the expander open (render.ts keeps open details by id).
  return h(
    'details',
    { class: 'nhsuk-details careid-notice__technical', id: 'notice-technical', 'data-testid': 'notice-detail' },
    h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, 'Technical detail')),
    h('div', { class: 'nhsuk-details__text' }, list, copy, copied),
  );
}
