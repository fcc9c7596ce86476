// Notices: one table of words for every code Rust can send and every error CIS2 can send, in plain words; the
// two readings of access_denied; the technical detail (CIS2's words, codes, reference, time) and Copy details.
import type { Notice, NoticeClass, SessionEndCode } from './generated/ipc';
import { NOTICE_CODES } from './generated/ipc';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import axe from 'axe-core';
import { invoke } from '@tauri-apps/api/core';
import * as F from './fixtures';
import {
  accessDeniedReading,
  CIS2_ERROR_CODES,
  CODES_WITH_WORDS,
  newReference,
  noticeText,
  technicalRows,
  technicalText,
  waysToSignIn,
} from './notices';
import { UI_ERROR_CODES } from './api';
import { byTestId, mount, settle } from './test-support';
import type { App } from './render';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));
const invokeMock = vi.mocked(invoke);

let app: App | null = null;
beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockResolvedValue(null);
});
afterEach(() => {
  app?.dispose();
  app = null;
});

const say = (code: string, cls: NoticeClass, more: Partial<Notice> = {}) => noticeText(F.notice(code, cls, more), F.MOCK_PROFILE);

/** Words a clinician should never have to read: protocol parameters and token parts belong in the technical detail. */
const PROTOCOL = /acr_values|\bAAL\d_|prompt=|error_description|id_token|\bnonce\b|\bjwks?\b|\bjws\b|\bazp\b|\bsub\b/i;

/** Every OAuth error the brief of issue 19 names, and those REFERENCE section 10 lists. */
const NAMED_CIS2_CODES = [
  'access_denied',
  'login_required',
  'interaction_required',
  'invalid_request',
  'invalid_scope',
  'unauthorized_client',
  'server_error',
  'temporarily_unavailable',
  'invalid_grant',
  'invalid_client',
  'consent_required',
  'account_selection_required',
  'request_not_supported',
  'invalid_token',
];

describe('the table', () => {
  // NOTICE_CODES is generated from Rust's sources (src-tauri/src/error.rs, `codes::all`): every code the shell
  // can send. The table's type already demands each; this says so at run time too.
  it.each([...NOTICE_CODES])('has words for the shell’s code %s', (code) => {
    expect(CODES_WITH_WORDS).toContain(code);
    for (const cls of ['other', 'info'] as const) {
      const text = say(code, cls);
      expect(text.sentence, code).not.toBe('');
      expect(text.next, code).not.toBe('');
      expect(`${text.sentence} ${text.next}`, code).not.toMatch(PROTOCOL);
    }
  });

  it.each([...CIS2_ERROR_CODES])('has words for CIS2’s error %s, at the authorize and the token endpoint', (code) => {
    expect(CODES_WITH_WORDS).toContain(code);
    for (const carrier of ['provider_error', 'oauth_error']) {
      const text = say(carrier, 'provider', { providerError: code });
      expect(text.tone).toBe('error');
      expect(text.sentence).not.toBe('CIS2 did not sign you in.');
      expect(text.next).not.toBe('');
      expect(`${text.sentence} ${text.next}`, code).not.toMatch(PROTOCOL);
    }
  });

  it('covers every CIS2 error named for issue 19 and in the reference', () => {
    for (const code of NAMED_CIS2_CODES) expect(CIS2_ERROR_CODES as readonly string[], code).toContain(code);
  });

  it('has one entry per code: no shell code is also a CIS2 code', () => {
    const shell = new Set<string>(NOTICE_CODES);
    expect(CIS2_ERROR_CODES.filter((code) => shell.has(code))).toEqual([]);
    expect(Object.values(UI_ERROR_CODES).filter((code) => shell.has(code))).toEqual([]);
  });

  it('has each end of a session (SessionEndCode) in the shell’s codes', () => {
    const ends: SessionEndCode[] = [
      'inactivity',
      'absolute_limit',
      'signed_out_here',
      'ended_by_provider',
      'tokens_expired_without_refresh',
      'refresh_rejected',
      'response_rejected',
      'keychain_cleared',
      'keychain_damaged',
    ];
    for (const end of ends) expect(NOTICE_CODES as readonly string[]).toContain(end);
  });
});

describe('noticeText', () => {
  it.each([
    ['signed_out', 'You have signed out of careid.', 'close that tab, or sign out there'],
    ['signed_out_not_revoked', 'stays valid at CIS2 until it runs out', 'close that tab, or sign out there'],
    ['cancelled', 'You cancelled the sign-in', 'when you are ready'],
  ])('info %s', (code, sentence, next) => {
    const text = say(code, 'info');
    expect(text.tone).toBe('info');
    expect(text.sentence).toContain(sentence);
    expect(text.next).toContain(next);
  });

  // One code per end, whichever way the app learnt it (SessionEndCode, from Rust's EndReason).
  const ends: ReadonlyArray<[SessionEndCode, string, string]> = [
    ['inactivity', 'not used for 15 minutes', 'Sign in again'],
    ['absolute_limit', 'Your session reached its 12-hour limit', 'Sign in again'],
    ['signed_out_here', 'another careid window or the careid command', 'Sign in again'],
    ['ended_by_provider', 'Your CIS2 session was ended, for example by signing out elsewhere', 'Sign in again'],
    ['tokens_expired_without_refresh', 'no way to renew it', 'Sign in again'],
    ['refresh_rejected', 'CIS2 no longer accepts your session', 'Sign in again'],
    ['response_rejected', 'failed a security check', 'Sign in again'],
    ['keychain_cleared', 'keychain was removed', 'Sign in again'],
    ['keychain_damaged', 'could not be read back', 'Sign in again'],
  ];
  it.each(ends)('end %s', (code, sentence, next) => {
    const text = say(code, 'info');
    expect(text.tone).toBe('info');
    expect(text.sentence).toContain(sentence);
    expect(text.next).toContain(next);
  });

  it('tells an end Rust calls a failure as an error, in the same words', () => {
    const text = say('response_rejected', 'rejected');
    expect(text.tone).toBe('error');
    expect(text.sentence).toContain('failed a security check');
  });

  it('says a refused redirect URI is a registration to ask for, not a fault to retry', () => {
    const text = say('redirect_uri_refused', 'provider', { providerError: 'invalid_request' });
    expect(text.tone).toBe('error');
    expect(text.sentence).toContain('redirect URI');
    expect(text.next).toContain('registered with CIS2');
    expect(text.next).not.toContain('Try again');
  });

  it('takes the inactivity minutes from the profile, one minute in the singular', () => {
    const minutes = (n: number) => noticeText(F.notice('inactivity', 'info'), { ...F.MOCK_PROFILE, inactivityMinutes: n }).sentence;
    expect(minutes(1)).toContain('not used for 1 minute.');
    expect(minutes(30)).toContain('30 minutes');
  });

  it.each([
    ['timed_out', 'cancelled', 'no answer from the browser in time'],
    ['issuer_mismatch', 'rejected', 'different sign-in service'],
    ['issuer_missing', 'rejected', 'did not say which sign-in service'],
    ['ports_taken', 'usage', 'every port'],
    ['unreachable', 'unreachable', 'could not reach'],
    ['provider_unavailable', 'unreachable', 'not answering'],
    ['keychain_unreadable', 'keychain', 'Nothing was deleted'],
    ['profile_not_ready', 'usage', 'not ready'],
    ['credential_missing', 'usage', 'client secret or private key'],
    ['id_token_wrong_nonce', 'rejected', 'failed a security check'],
    ['jws_bad_signature', 'rejected', 'failed a security check'],
    ['id_token_expired', 'rejected', 'clock'],
    ['session_lock_timeout', 'cancelled', 'busy'],
    ['unknown_role', 'usage', 'not one of yours'],
    ['mock_start_failed', 'other', 'built-in test sign-in service'],
  ])('error %s (%s)', (code, cls, sentence) => {
    const text = say(code, cls as NoticeClass);
    expect(text.tone).toBe('error');
    expect(text.sentence).toContain(sentence);
    expect(text.next).not.toBe('');
  });

  it('falls back to the class for a code it does not know, then to a generic sentence', () => {
    expect(say('dns_failed', 'unreachable').next).toContain('VPN');
    expect(say('keychain_locked', 'keychain').sentence).toContain('keychain');
    expect(say('something_new', 'rejected').sentence).toContain('failed a security check');
    expect(say('something_new', 'who_knows' as NoticeClass).sentence).toBe('Sorry, something went wrong in careid.');
    expect(say('provider_error', 'provider', { providerError: 'no_such_code' }).sentence).toBe('CIS2 did not sign you in.');
  });

  it('chooses a refusal’s words by CIS2’s code, whichever endpoint sent it', () => {
    for (const [code, words] of [
      ['login_required', 'sign in again'],
      ['interaction_required', 'do something in the browser'],
      ['consent_required', 'agreement'],
      ['account_selection_required', 'choose which account'],
      ['server_error', 'problem of its own'],
      ['temporarily_unavailable', 'busy or down'],
      ['invalid_grant', 'when careid went to finish it'],
      ['invalid_client', 'credentials'],
    ] as const) {
      const text = say('provider_error', 'provider', { providerError: code });
      expect(`${text.sentence} ${text.next}`).toContain(words);
      expect(say('oauth_error', 'provider', { providerError: code })).toEqual(text);
    }
  });

  it('gives a refusal without CIS2’s mark the same words, saying careid could not confirm it came from CIS2', () => {
    const unverified = say('provider_error_unverified', 'provider', { providerError: 'login_required' });
    const verified = say('provider_error', 'provider', { providerError: 'login_required' });
    expect(unverified.sentence).toBe(`${verified.sentence} careid could not confirm that this answer came from CIS2.`);
    expect(unverified.next).toBe(verified.next);
  });

  it('says which set-up problems are not the clinician’s to fix', () => {
    for (const code of ['invalid_request', 'invalid_scope', 'unauthorized_client', 'invalid_client', 'request_not_supported']) {
      expect(say('provider_error', 'provider', { providerError: code }).next).toContain('not something you did');
    }
  });
});

describe('access_denied', () => {
  it.each([
    ['the user cancelled the sign-in', 'cancelled'],
    ['Resource Owner did not authorize the request', 'cancelled'],
    ['User cancelled authentication', 'cancelled'],
    ['the windows_hello authenticator does not meet acr_values AAL3_IOS', 'assurance'],
    ['AAL2 is below the assurance level the application asked for', 'assurance'],
    ['Authentication level too low', 'assurance'],
    ['Authenticator below AAL3', 'assurance'],
    [null, 'unclear'],
    ['', 'unclear'],
    ['Access denied', 'unclear'],
    ['fault injected by the mock', 'unclear'],
    ['user cancelled: assurance level too low', 'unclear'],
  ] as const)('reads %j as %s', (description, reading) => {
    expect(accessDeniedReading(description)).toBe(reading);
  });

  const denied = (providerDescription: string | null, acrValues: string | null = null) =>
    say('provider_error', 'provider', { providerError: 'access_denied', providerDescription, acrValues });

  it('tells the user they cancelled when CIS2’s words say so, with no word of assurance', () => {
    const text = denied('the user cancelled the sign-in', 'AAL3_ANY');
    expect(text.sentence).toContain('You cancelled the sign-in');
    expect(text.next).toBe('Sign in again when you are ready.');
    expect(`${text.sentence} ${text.next}`).not.toMatch(/strong enough|smartcard/);
  });

  it('tells the user the way they signed in is not strong enough, and which ways to use, when CIS2’s words say so', () => {
    const text = denied('the passkey authenticator does not meet acr_values AAL3_ANY', 'AAL3_ANY');
    expect(text.sentence).toContain('not strong enough');
    expect(text.sentence).not.toContain('cancel');
    expect(text.next).toContain('your smartcard, a security key, Windows Hello for Business or the NHS CIS2 iPad app');
  });

  it('names only the ways of signing in that were asked for', () => {
    expect(denied('Authentication level too low', 'AAL3_N3_SMARTCARD').next).toContain('Sign in again using your smartcard.');
    expect(denied('Authentication level too low', 'AAL3_FIDO2').next).toContain('a security key or Windows Hello for Business');
    expect(denied('Authentication level too low', null).next).toContain('your smartcard or a security key');
  });

  it('says both readings plainly when CIS2’s words cannot tell them apart', () => {
    for (const description of [null, 'Access denied']) {
      const text = denied(description, 'AAL3_ANY');
      expect(text.sentence).toContain('Either the sign-in was cancelled in the browser, or the way you signed in is not strong enough');
      expect(text.next).toContain('If you cancelled, sign in again when you are ready.');
      expect(text.next).toContain('your smartcard, a security key');
    }
  });

  it('puts no protocol words in front of the clinician', () => {
    for (const description of ['the user cancelled the sign-in', 'the passkey authenticator does not meet acr_values AAL3_ANY', null]) {
      const text = denied(description, 'AAL3_ANY');
      expect(`${text.sentence} ${text.next}`).not.toMatch(PROTOCOL);
    }
  });
});

describe('waysToSignIn', () => {
  it.each([
    ['AAL3_ANY', 'your smartcard, a security key, Windows Hello for Business or the NHS CIS2 iPad app'],
    ['AAL3_IOS', 'the NHS CIS2 iPad app'],
    ['AAL3_N3_SMARTCARD AAL3_FIDO2', 'your smartcard, a security key or Windows Hello for Business'],
    ['AAL2_TOTP', 'an authenticator app (such as Microsoft Authenticator)'],
    ['SOMETHING_ELSE', 'your smartcard or a security key'],
    [null, 'your smartcard or a security key'],
  ])('%s', (acr, words) => {
    expect(waysToSignIn(acr)).toBe(words);
  });
});

describe('the technical detail', () => {
  const refusal = F.notice('provider_error', 'provider', {
    providerError: 'access_denied',
    providerDescription: 'the passkey authenticator does not meet acr_values AAL3_ANY',
    acrValues: 'AAL3_ANY',
    detail: 'the provider refused the sign-in: access_denied (the passkey authenticator does not meet acr_values AAL3_ANY)',
    reference: '7KQ2M9XD',
    at: Date.UTC(2026, 11, 7, 11, 37, 5, 250),
  });

  it('holds CIS2’s own words, the codes, what was asked, the check that failed, the reference and the time', () => {
    const rows = new Map(technicalRows(refusal, noticeText(refusal, F.MOCK_PROFILE), F.HOME.app));
    expect(rows.get('Reference')).toBe('7KQ2M9XD');
    expect(rows.get('Time (UTC)')).toBe('2026-12-07T11:37:05Z');
    expect(rows.get('Time (this computer)')).toMatch(/^7 December 2026 at \d\d:37:05/);
    expect(rows.get('careid code')).toBe('provider_error (provider)');
    expect(rows.get('CIS2 error')).toBe('access_denied');
    expect(rows.get('CIS2 error_description')).toBe('the passkey authenticator does not meet acr_values AAL3_ANY');
    expect(rows.get('acr_values asked for')).toBe('AAL3_ANY');
    expect(rows.get('What failed')).toContain('the provider refused the sign-in: access_denied');
    expect(rows.get('What careid said')).toContain('not strong enough');
    expect(rows.get('careid version')).toBe('0.1.0 (debug build)');
  });

  it('shows in the box, folded away, with the reference in plain sight; Copy details sends the same text to Rust', async () => {
    const m = mount(F.state({ kind: 'home' }, { notice: refusal }));
    app = m.app;
    const box = byTestId(m.root, 'notice');
    expect(byTestId(m.root, 'notice-reference').textContent).toBe('7KQ2M9XD');
    const alert = box.querySelector('[role="alert"]');
    expect(alert?.textContent).toContain('Reference: 7KQ2M9XD');
    // The clinician's words carry no protocol; CIS2's own words are in the technical detail, outside the alert.
    expect(alert?.textContent).not.toMatch(PROTOCOL);
    const detail = byTestId<HTMLDetailsElement>(m.root, 'notice-detail');
    expect(detail.tagName).toBe('DETAILS');
    expect(detail.classList.contains('nhsuk-details')).toBe(true);
    expect(detail.open).toBe(false);
    expect(alert?.contains(detail)).toBe(false);
    const technical = byTestId(m.root, 'notice-technical').textContent ?? '';
    expect(technical).toContain('access_denied');
    expect(technical).toContain('the passkey authenticator does not meet acr_values AAL3_ANY');
    expect(technical).toContain('7KQ2M9XD');
    expect(technical).toContain('2026-12-07T11:37:05Z');

    detail.open = true;
    byTestId(m.root, 'copy-details').focus();
    byTestId(m.root, 'copy-details').click();
    await settle();
    const expected = technicalText(technicalRows(refusal, noticeText(refusal, F.MOCK_PROFILE), F.HOME.app));
    expect(invokeMock).toHaveBeenCalledWith('copy_notice_details', { text: expected });
    expect(expected).toContain('CIS2 error_description: the passkey authenticator does not meet acr_values AAL3_ANY\n');
    expect(expected).not.toMatch(/eyJ/);
    expect(byTestId(m.root, 'details-copied').textContent).toBe('Details copied.');
    // The redraw keeps the expander open and the focus on the button.
    expect(byTestId<HTMLDetailsElement>(m.root, 'notice-detail').open).toBe(true);
    expect(document.activeElement).toBe(byTestId(m.root, 'copy-details'));
  });

  it('gives a command’s rejection its own reference and time, and its message as the detail', async () => {
    invokeMock.mockRejectedValue({ code: 'clipboard_failed', class: 'other', message: 'the clipboard refused: no display' });
    const m = mount(F.state({ kind: 'waiting', ...F.WAITING }));
    app = m.app;
    byTestId(m.root, 'copy-link').click();
    await settle();
    const reference = byTestId(m.root, 'notice-reference').textContent ?? '';
    expect(reference).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    expect(byTestId(m.root, 'notice-sentence').textContent).toBe('careid could not copy to the clipboard.');
    expect(byTestId(m.root, 'notice-technical').textContent).toContain('the clipboard refused: no display');
  });

  it('makes references of eight characters that read out without confusion', () => {
    const references = new Set(Array.from({ length: 100 }, () => newReference()));
    expect(references.size).toBe(100);
    for (const reference of references) expect(reference).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
  });

  it('has no accessibility violations, open or closed, before and after copying', async () => {
    const m = mount(F.state({ kind: 'home' }, { notice: refusal }));
    app = m.app;
    const check = async () =>
      (await axe.run(m.root, { rules: { 'color-contrast': { enabled: false } } })).violations.map((v) => v.id);
    expect(await check()).toEqual([]);
    byTestId<HTMLDetailsElement>(m.root, 'notice-detail').open = true;
    expect(await check()).toEqual([]);
    byTestId(m.root, 'copy-details').click();
    await settle();
    expect(await check()).toEqual([]);
  });
});

describe('notice box', () => {
  it('shows an error as an NHS error summary, focused', () => {
    const m = mount(F.state({ kind: 'home' }, { notice: F.notice('provider_error', 'provider', { providerError: 'access_denied', providerDescription: 'Authenticator below AAL3', detail: 'error=access_denied&state=…' }) }));
    app = m.app;
    const box = byTestId(m.root, 'notice');
    expect(box.classList.contains('nhsuk-error-summary')).toBe(true);
    expect(box.querySelector('[role="alert"]')?.textContent).toContain('CIS2 did not sign you in because the way you signed in is not strong enough');
    expect(document.activeElement).toBe(box);
  });

  it('shows an info notice as inset text with role="status" and no technical detail when there is none', () => {
    const m = mount(F.state({ kind: 'home' }, { notice: F.notice('signed_out', 'info') }));
    app = m.app;
    const box = byTestId(m.root, 'notice');
    expect(box.classList.contains('nhsuk-inset-text')).toBe(true);
    expect(box.querySelector('[role="status"]')?.textContent).toContain('You have signed out of careid.');
    expect(m.root.querySelector('[data-testid="notice-detail"]')).toBeNull();
    expect(m.root.querySelector('[data-testid="notice-reference"]')).toBeNull();
    expect(document.activeElement).toBe(m.root.querySelector('h1'));
  });

  it('gives a session’s end its technical detail and reference, for the service desk', () => {
    const m = mount(F.state({ kind: 'home' }, { notice: F.notice('inactivity', 'info', { detail: 'inactive for 15 minutes' }) }));
    app = m.app;
    expect(byTestId(m.root, 'notice-reference').textContent).toBe('K7M2Q9XD');
    expect(byTestId(m.root, 'notice-technical').textContent).toContain('inactive for 15 minutes');
  });

  it('shows on any screen, and Dismiss calls dismiss_notice', async () => {
    const m = mount(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN }, { notice: F.notice('session_lock_timeout', 'other') }));
    app = m.app;
    byTestId(m.root, 'dismiss-notice').click();
    await settle();
    expect(invokeMock).toHaveBeenCalledWith('dismiss_notice', undefined);
  });

  it('does not steal focus again when the same notice comes back in a later state, but does for a new one', () => {
    const state = F.state({ kind: 'home' }, { notice: F.notice('timed_out', 'other') });
    const m = mount(state);
    app = m.app;
    const button = byTestId(m.root, 'sign-in-button');
    button.focus();
    m.app.render({ ...state });
    expect(document.activeElement).toBe(byTestId(m.root, 'sign-in-button'));
    // The same code again is a new notice (its own reference): it takes focus.
    m.app.render({ ...state, notice: F.notice('timed_out', 'other', { reference: 'AAAA1111' }) });
    expect(document.activeElement).toBe(byTestId(m.root, 'notice'));
  });
});
