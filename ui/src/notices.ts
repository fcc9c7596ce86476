// Notices: the sentence and "what to do next" for each notice or error code, and the box that shows them.
import { plural } from './time';
import type { Notice, NoticeClass, ProfileView, SessionEndCode } from './generated/ipc';
import { UI_ERROR_CODES } from './api';
import { button, details, h } from './dom';

export interface NoticeText {
  tone: 'info' | 'error';
  /** The sentence that says what happened. */
  sentence: string;
  /** What the member of staff can do about it; empty when nothing is needed. */
  next: string;
  /** The provider's own words, shown in quotes, when CIS2 refused the sign-in. */
  providerWords?: string;
}

type Entry = { sentence: string; next: string };

const TRY_AGAIN = 'Try again. If it keeps happening, contact your IT service desk.';
const CHECK_NETWORK = 'Check you are connected to the network (and the VPN, if you use one), then try again.';
const KEYCHAIN_NEXT =
  'Restart your computer and try again. If it keeps happening, contact your IT service desk and say the keychain is not working.';
const REJECTED_SENTENCE = 'careid refused the answer because it failed a security check.';
const REJECTED_NEXT = 'Try again. If it keeps happening, contact your IT service desk: the sign-in service may be set up wrongly.';

const SIGN_IN_AGAIN = 'Sign in again to carry on.';

// Why a session ended: one code per end (the core's EndReason), however the app learnt it. The
// record type makes the compiler ask for words for every code Rust can send.
const ENDS: Readonly<Record<SessionEndCode, (profile: ProfileView) => Entry>> = {
  inactivity: (profile) => ({
    sentence: `You were signed out because this device was not used for ${plural(profile.inactivityMinutes, 'minute', 'minutes')}.`,
    next: SIGN_IN_AGAIN,
  }),
  absolute_limit: (profile) => ({
    sentence: `Your session reached its ${profile.absoluteHours}-hour limit.`,
    next: SIGN_IN_AGAIN,
  }),
  signed_out_here: () => ({
    sentence: 'You were signed out from another careid window or the careid command.',
    next: SIGN_IN_AGAIN,
  }),
  ended_by_provider: () => ({
    sentence: 'Your CIS2 session was ended, for example by signing out elsewhere.',
    next: SIGN_IN_AGAIN,
  }),
  tokens_expired_without_refresh: () => ({
    sentence: 'Your careid session has ended: CIS2 gave this sign-in no way to renew it, and its time is up.',
    next: SIGN_IN_AGAIN,
  }),
  refresh_rejected: () => ({ sentence: 'CIS2 no longer accepts your session.', next: SIGN_IN_AGAIN }),
  response_rejected: () => ({
    sentence: 'careid ended your session because an answer from the sign-in service failed a security check.',
    next: 'Sign in again. If it keeps happening, contact your IT service desk: the sign-in service may be set up wrongly.',
  }),
  keychain_cleared: () => ({
    sentence: 'Your session has ended because what careid kept in this computer’s keychain was removed.',
    next: SIGN_IN_AGAIN,
  }),
  keychain_damaged: () => ({
    sentence: 'Your session has ended because what careid kept in this computer’s keychain could not be read back.',
    next: 'Sign in again; careid replaces what it kept. If it keeps happening, contact your IT service desk.',
  }),
};

function isEndCode(code: string): code is SessionEndCode {
  return Object.prototype.hasOwnProperty.call(ENDS, code);
}

// Info notices: things that happened as expected, said plainly.
function infoEntry(code: string): Entry | undefined {
  switch (code) {
    case 'signed_out':
      return {
        sentence: 'You have signed out of careid.',
        next: 'Your CIS2 session in the browser ends in the browser tab that opened; close that tab, or sign out there, if you share this computer.',
      };
    case 'cancelled':
      return { sentence: 'You cancelled the sign-in.', next: 'Sign in again when you are ready.' };
    case 'restore_failed':
      return {
        sentence: 'careid could not sign you back in automatically.',
        next: SIGN_IN_AGAIN,
      };
    default:
      return undefined;
  }
}

// Provider error codes from the callback (RFC 6749 section 4.1.2.1 and OpenID Connect Core 3.1.2.6).
const PROVIDER_REASONS: Readonly<Record<string, string>> = {
  access_denied:
    'Your smartcard or authenticator may not meet the level this profile asks for (for example AAL3). Try a different authenticator, or a profile that asks for a lower level.',
  login_required: 'CIS2 needs you to sign in again in the browser. Try again without "prompt=none".',
  interaction_required: 'CIS2 needs you to do something in the browser. Try again without "prompt=none".',
  consent_required: 'CIS2 needs your consent in the browser. Try again without "prompt=none".',
  server_error: 'CIS2 had a problem of its own. Wait a few minutes and try again.',
  temporarily_unavailable: 'CIS2 is busy or down for maintenance. Wait a few minutes and try again.',
};

const ERRORS: Readonly<Record<string, Entry>> = {
  timed_out: {
    sentence: 'careid had no answer from the browser in time.',
    next: 'Try again. Check the sign-in page opened in the browser you use for your Care Identity, and close old sign-in tabs.',
  },
  cancelled: { sentence: 'The sign-in was cancelled.', next: 'Sign in again when you are ready.' },
  issuer_mismatch: {
    sentence: 'The answer came from a different sign-in service than this profile uses.',
    next: 'Check the profile’s issuer on the Profiles page, or contact your IT service desk.',
  },
  issuer_missing: {
    sentence: 'The answer did not say which sign-in service sent it, and this service must say.',
    next: 'Check the profile’s issuer on the Profiles page, or contact your IT service desk.',
  },
  redirect_uri_refused: {
    sentence: 'CIS2 refused the address on this computer that it sends you back to (the redirect URI).',
    next: 'Ask for the redirect URIs of this profile to be registered with CIS2 for its client: Profiles lists them. The technical detail names the one refused.',
  },
  ports_taken: {
    sentence: 'careid could not listen for the browser’s answer: every port this profile allows is in use.',
    next: 'Close other sign-in apps and try again, or add ports to the profile.',
  },
  unreachable: { sentence: 'careid could not reach the sign-in service.', next: CHECK_NETWORK },
  provider_unavailable: { sentence: 'The sign-in service is not answering properly.', next: CHECK_NETWORK },
  keychain_unavailable: { sentence: 'careid could not open this computer’s keychain.', next: KEYCHAIN_NEXT },
  keychain_failed: { sentence: 'careid could not read or write this computer’s keychain.', next: KEYCHAIN_NEXT },
  keychain_unreadable: {
    sentence: 'careid could not read this computer’s keychain just now. Nothing was deleted.',
    next: 'Unlock your keychain if it asks, then try again. If it keeps happening, restart your computer.',
  },
  keychain_corrupt: {
    sentence: 'What careid kept in this computer’s keychain could not be read back.',
    next: 'Sign in again; careid replaces what it kept. If it keeps happening, contact your IT service desk.',
  },
  profile_not_ready: {
    sentence: 'This profile is not ready to sign in with.',
    next: 'Go to Profiles to see what it needs.',
  },
  credential_missing: {
    sentence: 'This profile needs a client secret or private key, and none is stored.',
    next: 'Go to Profiles and store it in the keychain.',
  },
  assurance_too_low: {
    sentence: 'You signed in with an authenticator below the level this profile needs.',
    next: 'Sign in again with your smartcard, security key or Windows Hello.',
  },
  id_assurance_too_low: {
    sentence: 'Your identity was checked at a lower level than this profile needs.',
    next: 'Ask your registration authority about your identity check, or use another profile.',
  },
  selected_role_conflict: {
    sentence: 'The role chosen in CIS2 is not the role careid was asked for, so careid kept the role chosen in CIS2.',
    next: 'Change role in CIS2 to work in another role.',
  },
  session_lock_timeout: {
    sentence: 'careid is busy with this session in another window or the careid command.',
    next: 'Wait a moment and try again.',
  },
  unknown_role: {
    sentence: 'That role is not one of yours.',
    next: 'Choose a role from the list, or sign in again.',
  },
  mock_start_failed: {
    sentence: 'careid could not start its built-in test sign-in service (mock).',
    next: 'Close careid and open it again. If it keeps happening, contact the careid team.',
  },
  [UI_ERROR_CODES.ipcFailed]: {
    sentence: 'Sorry, this screen could not talk to careid.',
    next: 'Close careid and open it again.',
  },
  [UI_ERROR_CODES.badResponse]: {
    sentence: 'Sorry, careid gave an answer this screen does not understand.',
    next: 'Contact your IT service desk.',
  },
};

const GENERIC: Entry = { sentence: 'Sorry, something went wrong in careid.', next: TRY_AGAIN };

// When a code is new to this UI, its class still says what kind of trouble it is: one entry per
// failure class, so a class Rust adds does not type-check until it has its words here.
const BY_CLASS: Readonly<Record<Exclude<NoticeClass, 'info'>, Entry>> = {
  unreachable: ERRORS.unreachable!,
  keychain: ERRORS.keychain_failed!,
  rejected: { sentence: REJECTED_SENTENCE, next: REJECTED_NEXT },
  cancelled: ERRORS.cancelled!,
  usage: GENERIC,
  provider: GENERIC,
  notSignedIn: GENERIC,
  other: GENERIC,
};

/** The words for a notice, chosen by code, then by class, never by message text. */
export function noticeText(
  notice: Pick<Notice, 'code' | 'class' | 'providerError' | 'providerDescription'>,
  profile: ProfileView,
): NoticeText {
  // A session's end: its words by code; news, unless Rust says it is a failure (an answer careid
  // rejected).
  if (isEndCode(notice.code)) {
    return { tone: notice.class === 'info' ? 'info' : 'error', ...ENDS[notice.code](profile) };
  }
  // Info codes are news, not failures; the same code as a failure (a cancelled wait, say) keeps
  // its error wording.
  const info = notice.class === 'info' ? infoEntry(notice.code) : undefined;
  if (info) return { tone: 'info', ...info };
  if (notice.class === 'info') return { tone: 'info', sentence: 'careid has something to tell you.', next: '' };

  if (notice.code === 'provider_error') {
    const reason = notice.providerError ? PROVIDER_REASONS[notice.providerError] : undefined;
    const text: NoticeText = {
      tone: 'error',
      sentence: 'CIS2 refused the sign-in.',
      next: reason ?? TRY_AGAIN,
    };
    if (notice.providerDescription) text.providerWords = notice.providerDescription;
    return text;
  }
  if (notice.code.startsWith('id_token_') || notice.code.startsWith('jws_')) {
    return { tone: 'error', sentence: REJECTED_SENTENCE, next: REJECTED_NEXT };
  }
  const entry = ERRORS[notice.code] ?? BY_CLASS[notice.class] ?? GENERIC;
  return { tone: 'error', ...entry };
}

/**
 * The notice box: an NHS error summary (role="alert") for errors, an inset text (role="status") for
 * information. `detail` goes in a closed "Technical detail" expander, for the service desk.
 */
export function renderNotice(notice: Notice, profile: ProfileView, onDismiss: () => void): HTMLElement {
  const text = noticeText(notice, profile);
  const body: Node[] = [h('p', {}, text.sentence)];
  if (text.providerWords) {
    body.push(h('p', {}, 'CIS2 said: ', h('q', { 'data-testid': 'provider-words' }, text.providerWords)));
  }
  if (text.next) body.push(h('p', {}, text.next));
  if (notice.detail) {
    body.push(
      details('Technical detail', h('p', { class: 'careid-wrap' }, notice.detail), { 'data-testid': 'notice-detail' }),
    );
  }
  const dismiss = h(
    'button',
    { type: 'button', class: 'nhsuk-button nhsuk-button--secondary careid-dismiss', 'data-testid': 'dismiss-notice' },
    'Dismiss',
  );
  dismiss.addEventListener('click', onDismiss);

  if (text.tone === 'error') {
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
      dismiss,
    );
  }
  return h(
    'div',
    { class: 'nhsuk-inset-text', 'data-testid': 'notice', 'data-notice-code': notice.code },
    h('div', { role: 'status' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '), ...body),
    dismiss,
  );
}
