// Notices: the sentence by code (then class), provider errors in CIS2's words, details hidden, dismiss.
import type { NoticeClass } from './generated/ipc';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import * as F from './fixtures';
import { noticeText } from './notices';
import { byTestId, mount, settle } from './test-support';
import type { App } from './render';
import type { SessionEndCode } from './generated/ipc';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));
const invokeMock = vi.mocked(invoke);

let app: App | null = null;
beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockResolvedValue(null);
});
afterEach(() => app?.dispose());

const say = (code: string, cls: NoticeClass, more = {}) => noticeText(F.notice(code, cls, more), F.MOCK_PROFILE);

describe('noticeText', () => {
  it.each([
    ['signed_out', 'You have signed out of careid.', 'close that tab, or sign out there'],
    ['restore_failed', 'could not sign you back in', 'Sign in again'],
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

  it('says one minute in the singular', () => {
    expect(noticeText(F.notice('inactivity', 'info'), { ...F.MOCK_PROFILE, inactivityMinutes: 1 }).sentence).toContain(
      'not used for 1 minute.',
    );
  });

  it('takes the inactivity minutes from the profile', () => {
    expect(noticeText(F.notice('inactivity', 'info'), { ...F.MOCK_PROFILE, inactivityMinutes: 30 }).sentence).toContain(
      '30 minutes',
    );
  });

  it.each([
    ['timed_out', 'other', 'no answer from the browser in time'],
    ['cancelled', 'cancelled', 'cancelled'],
    ['issuer_mismatch', 'rejected', 'different sign-in service'],
    ['issuer_missing', 'rejected', 'did not say which sign-in service'],
    ['ports_taken', 'usage', 'every port'],
    ['unreachable', 'unreachable', 'could not reach'],
    ['provider_unavailable', 'unreachable', 'not answering'],
    ['keychain_unavailable', 'keychain', 'keychain'],
    ['keychain_failed', 'keychain', 'keychain'],
    ['keychain_corrupt', 'keychain', 'keychain'],
    ['keychain_unreadable', 'keychain', 'Nothing was deleted'],
    ['profile_not_ready', 'usage', 'not ready'],
    ['credential_missing', 'usage', 'client secret or private key'],
    ['id_token_bad_nonce', 'rejected', 'failed a security check'],
    ['jws_bad_signature', 'rejected', 'failed a security check'],
    ['assurance_too_low', 'rejected', 'below the level'],
    ['session_lock_timeout', 'other', 'busy'],
    ['unknown_role', 'rejected', 'not one of yours'],
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
    expect(say('something_new', 'rejected').sentence).toBe('careid refused the answer because it failed a security check.');
    expect(say('something_new', 'who_knows' as NoticeClass).sentence).toBe('Sorry, something went wrong in careid.');
  });

  it('gives the provider’s words and a reason chosen by providerError', () => {
    const text = say('provider_error', 'provider', { providerError: 'access_denied', providerDescription: 'Authentication level too low' });
    expect(text.sentence).toBe('CIS2 refused the sign-in.');
    expect(text.providerWords).toBe('Authentication level too low');
    expect(text.next).toContain('Your smartcard or authenticator may not meet the level this profile asks for (for example AAL3)');
    for (const [code, words] of [
      ['login_required', 'sign in again'],
      ['interaction_required', 'do something in the browser'],
      ['consent_required', 'consent'],
      ['server_error', 'problem of its own'],
      ['temporarily_unavailable', 'busy or down'],
    ] as const) {
      expect(say('provider_error', 'provider', { providerError: code }).next).toContain(words);
    }
  });
});

describe('notice box', () => {
  it('shows an error as an NHS error summary with the detail folded away, focused', () => {
    const m = mount(F.state({ kind: 'home' }, { notice: F.notice('provider_error', 'provider', { providerError: 'access_denied', providerDescription: 'Authenticator below AAL3', detail: 'error=access_denied&state=…' }) }));
    app = m.app;
    const box = byTestId(m.root, 'notice');
    expect(box.classList.contains('nhsuk-error-summary')).toBe(true);
    expect(box.querySelector('[role="alert"]')).not.toBeNull();
    expect(box.textContent).toContain('CIS2 refused the sign-in.');
    expect(byTestId(m.root, 'provider-words').tagName).toBe('Q');
    expect(byTestId(m.root, 'provider-words').textContent).toBe('Authenticator below AAL3');
    const detail = byTestId<HTMLDetailsElement>(m.root, 'notice-detail');
    expect(detail.tagName).toBe('DETAILS');
    expect(detail.open).toBe(false);
    expect(detail.textContent).toContain('Technical detail');
    expect(document.activeElement).toBe(box);
  });

  it('shows an info notice as inset text with role="status" and no detail expander when there is none', () => {
    const m = mount(F.state({ kind: 'home' }, { notice: F.notice('signed_out', 'info') }));
    app = m.app;
    const box = byTestId(m.root, 'notice');
    expect(box.classList.contains('nhsuk-inset-text')).toBe(true);
    expect(box.querySelector('[role="status"]')?.textContent).toContain('You have signed out of careid.');
    expect(m.root.querySelector('[data-testid="notice-detail"]')).toBeNull();
    expect(document.activeElement).toBe(m.root.querySelector('h1'));
  });

  it('shows on any screen, and Dismiss calls dismiss_notice', async () => {
    const m = mount(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN }, { notice: F.notice('session_lock_timeout', 'other') }));
    app = m.app;
    byTestId(m.root, 'dismiss-notice').click();
    await settle();
    expect(invokeMock).toHaveBeenCalledWith('dismiss_notice', undefined);
  });

  it('does not steal focus again when the same notice comes back in a later state', () => {
    const state = F.state({ kind: 'home' }, { notice: F.notice('timed_out', 'other') });
    const m = mount(state);
    app = m.app;
    const button = byTestId(m.root, 'sign-in-button');
    button.focus();
    m.app.render({ ...state });
    expect(document.activeElement).toBe(byTestId(m.root, 'sign-in-button'));
  });
});
