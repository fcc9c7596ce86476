// Behaviour of each screen drawn from sample AppStates: text, commands and their arguments, focus, timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import * as F from './fixtures';
import { allByTestId, byTestId, mount, settle } from './test-support';
import type { App } from './render';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));
const invokeMock = vi.mocked(invoke);

let app: App | null = null;
beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockResolvedValue(null);
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(F.NOW * 1000);
});
afterEach(() => {
  app?.dispose();
  app = null;
  vi.useRealTimers();
});

function show(state: Parameters<typeof mount>[0]) {
  const m = mount(state);
  app = m.app;
  return m.root;
}
const screenOf = (root: HTMLElement) => root.querySelector('main')?.dataset.screen;
const text = (root: HTMLElement, id: string) => byTestId(root, id).textContent?.replace(/\s+/g, ' ').trim();
const calls = (command: string) => invokeMock.mock.calls.filter((c) => c[0] === command).map((c) => c[1]);
const signOutButtons = (root: HTMLElement) =>
  [...root.querySelectorAll<HTMLElement>('button, a')].filter((el) => /sign out|log out/i.test(el.textContent ?? ''));

describe('page frame', () => {
  it('has one h1, the screen hooks, the version and links to Help and Profiles', () => {
    const root = show(F.HOME);
    expect(root.querySelectorAll('h1')).toHaveLength(1);
    expect(root.querySelector('main#maincontent[data-testid="screen"]')?.getAttribute('data-screen')).toBe('home');
    expect(text(root, 'app-version')).toBe('Version 0.1.0 (debug build)');
    byTestId(root, 'help-link').click();
    expect(screenOf(root)).toBe('help');
    byTestId(root, 'profiles-link').click();
    expect(screenOf(root)).toBe('profiles');
    byTestId(root, 'back-link').click();
    expect(screenOf(root)).toBe('home');
  });

  it('uses no inline styles and no scripts (the CSP forbids them)', () => {
    for (const state of [F.HOME, F.WAITING_STATE, F.ALEX_ROLES, F.SIGNED_IN_TESTERS]) {
      const root = show(state);
      expect(root.querySelectorAll('[style]')).toHaveLength(0);
      expect(root.querySelectorAll('script, style')).toHaveLength(0);
      app?.dispose();
    }
  });

  it('treats text from Rust as text, not HTML', () => {
    const root = show(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, user: { name: '<img src=x>', userId: '1', label: '<img src=x> (1)' } }));
    expect(root.querySelector('img')).toBeNull();
    expect(text(root, 'user-name')).toBe('<img src=x>');
  });

  it('moves focus to the h1 when the screen changes', () => {
    const root = show(F.HOME);
    expect(document.activeElement).toBe(root.querySelector('h1'));
    app?.render(F.WAITING_STATE);
    expect(document.activeElement?.textContent).toBe('Continue in your browser');
    expect(document.activeElement?.getAttribute('tabindex')).toBe('-1');
  });

  it('shows the header’s account section with name, role and organisation, and no sign-out in it', () => {
    expect(show(F.HOME).querySelector('.nhsuk-header__account')).toBeNull();
    app?.dispose();
    const root = show(F.SIGNED_IN);
    const account = root.querySelector<HTMLElement>('header .nhsuk-header__account')!;
    expect(account.getAttribute('aria-label')).toBe('Account');
    expect(text(account, 'header-user-name')).toBe('Flo Nurse (555057896106)');
    expect(text(account, 'header-role')).toBe('Nurse Access Role');
    expect(text(account, 'header-organisation')).toBe('NHSID DEV (A9A5A)');
    expect(account.querySelector('button, a')).toBeNull();
  });

  it('names the user in the header while a role is still to be chosen, and says when none is selected', () => {
    const roles = show(F.ALEX_ROLES);
    expect(text(roles, 'header-user-name')).toBe('Alex Locum (555057910105)');
    expect(roles.querySelector('[data-testid="header-role"]')).toBeNull();
    app?.dispose();
    expect(text(show(F.NO_ROLES), 'header-user-name')).toBe('Noel Roles (555057920106)');
    app?.dispose();
    // Without a name from CIS2, the user id alone, never the id twice.
    const nameless = show(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, user: { name: null, userId: '555057896106', label: '555057896106' } }));
    expect(text(nameless, 'header-user-name')).toBe('555057896106');
    expect(text(nameless, 'user-name')).toBe('Not given by CIS2');
    app?.dispose();
    const noRole = show(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, role: null }));
    expect(text(noRole, 'header-role')).toBe('No role selected');
  });

  it.each([
    ['restoring', F.RESTORING, 'main'],
    ['home', F.HOME, 'main'],
    ['waiting', F.WAITING_STATE, 'main'],
    ['choose role', F.ALEX_ROLES, 'main'],
    ['no roles', F.NO_ROLES, 'main'],
    ['signed in', F.SIGNED_IN, 'main'],
    ['signed in, testers’ tab', F.SIGNED_IN_TESTERS, 'testers'],
    ['profiles', F.HOME, 'profiles'],
    ['help', F.HOME, 'help'],
  ] as const)('shows the environment’s tag in the header on the %s screen', (_name, state, where) => {
    const root = show(state);
    if (where === 'profiles' || where === 'help') app?.go(where);
    if (where === 'testers') byTestId(root, 'tab-testers').click();
    const tags = allByTestId(root, 'environment-tag');
    expect(tags).toHaveLength(1);
    expect(tags[0]?.closest('header')).not.toBeNull();
    expect(tags[0]?.textContent).toBe('Environment: Mock – not real');
  });

  it.each([
    ['Mock – not real', F.MOCK_PROFILE, 'nhsuk-tag--yellow'],
    ['INT', { ...F.INT_PROFILE }, 'nhsuk-tag--blue'],
    ['DEP', { ...F.INT_PROFILE, name: 'dep', description: 'CIS2 deployment environment (DEP)' }, 'nhsuk-tag--purple'],
    ['Live', { ...F.INT_PROFILE, name: 'live', description: 'CIS2 live' }, 'nhsuk-tag--red'],
    ['Custom: ward-test', F.CUSTOM_PROFILE, 'nhsuk-tag--grey'],
    // Only the built-in profiles are the environments their names say.
    ['Custom: live', { ...F.CUSTOM_PROFILE, name: 'live' }, 'nhsuk-tag--grey'],
  ])('tags the environment "%s" from the profile in use', (label, profile, colour) => {
    const root = show(F.state({ kind: 'home' }, { profile }));
    const tag = byTestId(root, 'environment-tag');
    expect(tag.textContent).toBe(`Environment: ${label}`);
    expect(tag.classList.contains('nhsuk-tag')).toBe(true);
    expect(tag.classList.contains(colour)).toBe(true);
    expect(tag.querySelector('.nhsuk-u-visually-hidden')?.textContent).toBe('Environment: ');
  });
});

describe('restoring', () => {
  it('says careid is signing the user back in, with no sign-in button', () => {
    const root = show(F.RESTORING);
    expect(screenOf(root)).toBe('restoring');
    expect(root.querySelector('h1')?.textContent).toBe('Signing you back in');
    expect(root.querySelector('[data-testid="sign-in-button"]')).toBeNull();
  });
});

describe('home', () => {
  it('shows the profile in use and the Care Identity button', async () => {
    const root = show(F.HOME);
    expect(text(root, 'profile-name')).toBe('mock');
    expect(root.textContent).toContain('Built-in mock CIS2 on this computer');
    const button = byTestId<HTMLButtonElement>(root, 'sign-in-button');
    expect(button.textContent).toBe('Log in with my Care Identity');
    expect(button.classList.contains('nhsuk-button--login')).toBe(true);
    expect(button.disabled).toBe(false);
    button.click();
    await settle();
    expect(calls('sign_in')).toEqual([{ overrides: null }]);
  });

  it('"Change profile" goes to the profiles page', () => {
    const root = show(F.HOME);
    byTestId(root, 'change-profile').click();
    expect(screenOf(root)).toBe('profiles');
  });

  it('says what a profile that is not ready needs, and does not offer sign-in', async () => {
    const root = show(F.state({ kind: 'home' }, { profile: F.INT_PROFILE }));
    expect(text(root, 'profile-not-ready')).toContain('client id');
    expect(text(root, 'profile-not-ready')).toContain('private key in the keychain');
    const button = byTestId<HTMLButtonElement>(root, 'sign-in-button');
    expect(button.disabled).toBe(true);
    button.click();
    await settle();
    expect(calls('sign_in')).toHaveLength(0);
  });

  it('lists the mock test users and authenticators only for the mock profile', () => {
    const root = show(F.HOME);
    const rows = [...byTestId(root, 'mock-users').querySelectorAll('tbody tr')].map((r) => r.textContent);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain('555057896106');
    expect(rows[1]).toContain('Alex Locum');
    expect(byTestId(root, 'mock-authenticators').textContent).toContain('AAL3');
    expect(byTestId(root, 'mock-authenticators').textContent).toContain('SCARD');
    app?.dispose();
    const other = show(F.state({ kind: 'home' }, { profile: F.CUSTOM_PROFILE }));
    expect(other.querySelector('[data-testid="mock-users"]')).toBeNull();
  });

  it('passes the testers’ overrides to sign_in, empty fields as null', async () => {
    const root = show(F.state({ kind: 'home' }, { preferences: { testersView: true } }));
    const acr = byTestId<HTMLInputElement>(root, 'override-acr');
    acr.value = 'AAL2_ANY';
    acr.dispatchEvent(new Event('input'));
    const prompt = byTestId<HTMLSelectElement>(root, 'override-prompt');
    prompt.value = 'login';
    prompt.dispatchEvent(new Event('change'));
    const scopes = byTestId<HTMLInputElement>(root, 'override-scopes');
    scopes.value = ' openid  profile ';
    scopes.dispatchEvent(new Event('input'));
    expect(root.querySelectorAll('#acr-values-list option')).toHaveLength(11);

    byTestId(root, 'sign-in-button').click();
    await settle();
    expect(calls('sign_in')).toEqual([
      { overrides: { acrValues: 'AAL2_ANY', prompt: 'login', maxAge: null, scopes: ['openid', 'profile'] } },
    ]);
  });

  it('shows a command’s rejection as a notice chosen by its code', async () => {
    invokeMock.mockRejectedValue({ code: 'ports_taken', class: 'usage', message: 'all ports busy' });
    const root = show(F.HOME);
    byTestId(root, 'sign-in-button').click();
    await settle();
    expect(text(root, 'notice')).toContain('every port this profile allows is in use');
    // The message is Rust's technical detail: folded away, never the words.
    expect(root.querySelector('[role="alert"]')?.textContent).not.toContain('all ports busy');
    expect(text(root, 'notice-technical')).toContain('all ports busy');
    expect(document.activeElement).toBe(byTestId(root, 'notice'));
  });
});

describe('waiting', () => {
  it('ticks the elapsed and remaining time every second without redrawing or moving focus', () => {
    const root = show(F.WAITING_STATE);
    expect(text(root, 'waiting-elapsed')).toBe('Waiting 0:00');
    expect(text(root, 'waiting-remaining')).toBe('Time left to finish signing in: 5:00');
    const cancel = byTestId(root, 'cancel-sign-in');
    cancel.focus();
    vi.advanceTimersByTime(12_000);
    expect(text(root, 'waiting-elapsed')).toBe('Waiting 0:12');
    expect(text(root, 'waiting-remaining')).toBe('Time left to finish signing in: 4:48');
    expect(document.activeElement).toBe(cancel);
    expect(byTestId(root, 'cancel-sign-in')).toBe(cancel);
  });

  it('shows "Nothing yet?" with the usual causes after hintAfterSeconds', () => {
    const root = show(F.WAITING_STATE);
    const hint = byTestId(root, 'waiting-hint');
    expect(hint.hidden).toBe(true);
    vi.advanceTimersByTime(29_000);
    expect(hint.hidden).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(hint.hidden).toBe(false);
    expect(hint.textContent).toContain('Nothing yet?');
    expect(hint.textContent).toContain('another browser or browser profile');
    expect(hint.textContent).toContain('http://127.0.0.1:53682');
    expect(hint.textContent).toContain('closed');
    // Without a pushed request, the provider may be refusing the redirect URI: the whole URI to register.
    expect(byTestId(root, 'waiting-hint-redirect').textContent).toContain(
      'error about the redirect URI: ask for http://127.0.0.1:53682/callback to be registered with CIS2',
    );
    // It comes after the actions, so Cancel stays where it was, above the fold.
    const cancel = byTestId(root, 'cancel-sign-in');
    expect(cancel.compareDocumentPosition(hint) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('leaves the redirect URI out of the hint when a pushed request had it accepted', () => {
    const root = show(F.state({ kind: 'waiting', ...F.WAITING, redirectUriAccepted: true }));
    vi.advanceTimersByTime(30_000);
    expect(byTestId(root, 'waiting-hint').hidden).toBe(false);
    expect(root.querySelector('[data-testid="waiting-hint-redirect"]')).toBeNull();
  });

  it('calls the commands behind each button and confirms the copied link', async () => {
    const root = show(F.WAITING_STATE);
    byTestId(root, 'open-again').click();
    byTestId(root, 'copy-link').click();
    byTestId(root, 'cancel-sign-in').click();
    await settle();
    expect(invokeMock.mock.calls.map((c) => c[0])).toEqual(['open_sign_in_page_again', 'copy_sign_in_link', 'cancel_sign_in']);
    expect(text(root, 'copy-link-confirmation')).toContain('Sign-in link copied');
  });

  it('says when the sign-in is to change role', () => {
    const root = show(F.state({ kind: 'waiting', ...F.WAITING, changingRole: true }));
    expect(root.querySelector('h1')?.textContent).toBe('Continue in your browser to change your role');
  });
});

describe('choose your role', () => {
  it('groups roles by organisation with name and ODS code, and hints of code and job role code', () => {
    const root = show(F.ALEX_ROLES);
    const groups = allByTestId(root, 'role-group');
    expect(groups).toHaveLength(4);
    expect(groups[0]?.querySelector('legend')?.textContent).toBe('NHSID DEV (A9A5A)');
    expect(groups[2]?.querySelectorAll('input[name="role"]')).toHaveLength(2);
    const pharmacist = root.querySelector<HTMLInputElement>('input[name="role"][value="555254253100"]');
    const label = root.querySelector(`label[for="${pharmacist?.id}"]`);
    expect(label?.textContent).toBe('Pharmacist');
    const hint = document.getElementById(pharmacist?.getAttribute('aria-describedby') ?? '');
    expect(hint?.textContent).toBe('S8000:G8000:R8003');
  });

  it('shows each role’s code once and folds its activities into "Activities (N)"', () => {
    const root = show(F.ALEX_ROLES);
    const items = [...root.querySelectorAll<HTMLElement>('.nhsuk-radios__item')];
    expect(items).toHaveLength(7);
    for (const item of items) {
      const code = item.querySelector('[data-testid="role-option-code"]')?.textContent ?? '';
      const jobRole = code.split(':').pop() ?? '';
      expect(item.textContent?.split(jobRole)).toHaveLength(2);
    }
    const pharmacist = root.querySelector<HTMLInputElement>('input[name="role"][value="555254253100"]')!;
    const item = pharmacist.closest<HTMLElement>('.nhsuk-radios__item')!;
    const activities = item.querySelector<HTMLDetailsElement>('details[data-testid="role-activities"]')!;
    expect(activities.classList.contains('nhsuk-details')).toBe(true);
    expect(activities.open).toBe(false);
    expect(activities.querySelector('summary')?.textContent).toBe('Activities (2)');
    expect([...activities.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['Dispense Prescriptions', 'Access Summary Care Record']);
    // A role with no activities has nothing to fold.
    const receptionist = root.querySelector<HTMLInputElement>('input[name="role"][value="555254256103"]')!;
    expect(receptionist.closest('.nhsuk-radios__item')?.querySelector('details')).toBeNull();
  });

  it('tags the role chosen last time "Last used", and only that one', () => {
    const root = show(F.state({ kind: 'chooseRole', ...F.ALEX_CHOICE, preselected: '555254253100' }));
    const tags = allByTestId(root, 'role-tag');
    expect(tags).toHaveLength(1);
    expect(tags[0]?.textContent).toBe('Last used');
    expect(tags[0]?.classList.contains('nhsuk-tag')).toBe(true);
    const label = tags[0]?.closest('label');
    expect(label?.getAttribute('for')).toBe(root.querySelector('input[name="role"][value="555254253100"]')?.id);
    app?.dispose();
    expect(allByTestId(show(F.ALEX_ROLES), 'role-tag')).toHaveLength(0);
  });

  it('tags the session’s role "Current role" when changing role', () => {
    const root = show(F.FLO_ROLES);
    expect(allByTestId(root, 'role-tag').map((t) => t.textContent)).toEqual(['Current role']);
  });

  it('sets each organisation’s roles apart in a fieldset of its own', () => {
    const root = show(F.ALEX_ROLES);
    const groups = allByTestId(root, 'role-group');
    expect(groups.every((g) => g.tagName === 'FIELDSET' && g.classList.contains('careid-role-group'))).toBe(true);
  });

  it('filters by role name, code, organisation or activity and says how many match', () => {
    const root = show(F.ALEX_ROLES);
    const search = byTestId<HTMLInputElement>(root, 'role-search');
    const visible = () => [...root.querySelectorAll<HTMLInputElement>('input[name="role"]')].filter((i) => !i.closest('[hidden]')).map((i) => i.value);
    expect(text(root, 'role-search-count')).toBe('7 roles match');

    const type = (value: string) => {
      search.value = value;
      search.dispatchEvent(new Event('input'));
    };
    type('pharm');
    expect(visible()).toEqual(['555254253100', '555254254101']);
    expect(text(root, 'role-search-count')).toBe('2 roles match');
    type('B86016');
    expect(visible()).toEqual(['555254255102', '555254256103']);
    type('R8006');
    expect(visible()).toEqual(['555254252109']);
    expect(text(root, 'role-search-count')).toBe('1 role matches');
    type('referrals');
    expect(visible()).toEqual(['555254255102']);
    expect(allByTestId(root, 'role-group').filter((g) => !g.hidden)).toHaveLength(1);
    type('leeds medical');
    expect(visible()).toEqual(['555254252109']);
  });

  it('keeps the search text and focus when an unrelated state event arrives', () => {
    const root = show(F.ALEX_ROLES);
    const search = byTestId<HTMLInputElement>(root, 'role-search');
    search.focus();
    search.value = 'gp';
    search.dispatchEvent(new Event('input'));
    search.setSelectionRange(2, 2);

    app?.render({ ...F.ALEX_ROLES, notice: null });

    const again = byTestId<HTMLInputElement>(root, 'role-search');
    expect(again).not.toBe(search);
    expect(document.activeElement).toBe(again);
    expect(again.value).toBe('gp');
    expect(text(root, 'role-search-count')).toBe('1 role matches');
  });

  it('has no search box for 5 roles or fewer', () => {
    const root = show(F.FLO_ROLES);
    expect(root.querySelector('[data-testid="role-search"]')).toBeNull();
  });

  it('shows an error summary and an inline error when nothing is chosen', async () => {
    const root = show(F.ALEX_ROLES);
    byTestId(root, 'choose-role-submit').click();
    await settle();
    expect(calls('choose_role')).toHaveLength(0);
    const summary = byTestId(root, 'role-error-summary');
    expect(summary.querySelector('[role="alert"]')?.textContent).toContain('Choose a role');
    expect(document.activeElement).toBe(summary);
    expect(root.querySelector('.nhsuk-form-group--error .nhsuk-error-message')?.textContent).toBe('Error: Choose a role');
    expect(allByTestId(root, 'role-group')[0]?.getAttribute('aria-describedby')).toBe('role-error');
  });

  it('sends the chosen role id', async () => {
    const root = show(F.ALEX_ROLES);
    root.querySelector<HTMLInputElement>('input[name="role"][value="555254255102"]')?.click();
    byTestId(root, 'choose-role-submit').click();
    await settle();
    expect(calls('choose_role')).toEqual([{ roleId: '555254255102' }]);
  });

  it('checks the preselected role and offers to keep the current role when changing', async () => {
    const root = show(F.FLO_ROLES);
    expect(root.querySelector<HTMLInputElement>(`input[name="role"][value="${F.NURSE_ROLE.id}"]`)?.checked).toBe(true);
    expect(root.querySelector('h1')?.textContent).toBe('Change your role');
    byTestId(root, 'keep-current-role').click();
    await settle();
    expect(calls('keep_current_role')).toHaveLength(1);
    app?.dispose();
    expect(show(F.ALEX_ROLES).querySelector('[data-testid="keep-current-role"]')).toBeNull();
  });
});

describe('no roles', () => {
  it('explains what to do and signs out with the one secondary Sign out', async () => {
    const root = show(F.NO_ROLES);
    expect(root.querySelector('h1')?.textContent).toBe('You do not have a role in the Care Identity Service');
    expect(root.textContent).toContain('Registration Authority (RA)');
    const signOut = byTestId(root, 'no-roles-sign-out');
    expect(signOutButtons(root)).toEqual([signOut]);
    expect(signOut.classList.contains('nhsuk-button--secondary')).toBe(true);
    expect(document.getElementById(signOut.getAttribute('aria-describedby') ?? '')?.textContent).toBe(
      'Your browser opens to end your Care Identity session',
    );
    signOut.click();
    await settle();
    expect(calls('sign_out')).toHaveLength(1);
  });

  it('offers "Check again", which signs in afresh so CIS2 sends the roles again', async () => {
    const root = show(F.NO_ROLES);
    const check = byTestId<HTMLButtonElement>(root, 'check-again');
    expect(check.textContent).toBe('Check again');
    expect(check.classList.contains('nhsuk-button--secondary')).toBe(false);
    expect(document.getElementById(check.getAttribute('aria-describedby') ?? '')?.textContent).toContain('Your browser opens');
    check.click();
    await settle();
    expect(calls('sign_in')).toEqual([{ overrides: null }]);
  });
});

describe('signed in', () => {
  it('shows who, which role and organisation, assurance and limits', () => {
    const root = show(F.SIGNED_IN);
    expect(text(root, 'user-name')).toBe('Flo Nurse');
    expect(text(root, 'user-id')).toBe('555057896106');
    expect(text(root, 'role-name')).toBe('Nurse Access Role');
    expect(text(root, 'role-code')).toContain('S8000:G8000:R8001');
    expect(text(root, 'role-org')).toBe('NHSID DEV (A9A5A)');
    expect(text(root, 'assurance')).toBe('very high confidence (AAL3)');
    expect(text(root, 'session-ends')).toContain('12 hours after you signed in');
    expect(text(root, 'inactivity-limit')).toContain('Signs you out after 15 minutes without activity');
    expect(root.querySelector('[data-testid="change-role"]')).toBeNull();
    expect(root.querySelector('[data-testid="inactivity-warning"]')).toBeNull();
    expect(root.querySelector('[data-testid="tab-session"]')).toBeNull();
  });

  it.each([
    [2, 'high confidence (AAL2)'],
    [null, 'not stated'],
  ])('says assurance level %s as "%s"', (level, words) => {
    const root = show(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, assuranceLevel: level }));
    expect(text(root, 'assurance')).toBe(words);
  });

  it('changes role and signs out', async () => {
    const root = show(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, canChangeRole: true }));
    byTestId(root, 'change-role').click();
    byTestId(root, 'sign-out').click();
    await settle();
    expect(invokeMock.mock.calls.map((c) => c[0])).toEqual(['change_role', 'sign_out']);
  });

  it.each([
    ['session', F.SIGNED_IN],
    ['testers’ view', F.SIGNED_IN_TESTERS],
  ])('has exactly one Sign out on the %s tab: secondary, near the top, saying the browser opens', (_tab, state) => {
    const root = show(state);
    if (state.preferences.testersView) byTestId(root, 'tab-testers').click();
    const signOut = byTestId(root, 'sign-out');
    expect(signOutButtons(root)).toEqual([signOut]);
    expect(signOut.classList.contains('nhsuk-button')).toBe(true);
    expect(signOut.classList.contains('nhsuk-button--secondary')).toBe(true);
    expect(signOut.classList.contains('nhsuk-button--warning')).toBe(false);
    expect(document.getElementById(signOut.getAttribute('aria-describedby') ?? '')?.textContent).toBe(
      'Your browser opens to end your Care Identity session',
    );
    expect(root.querySelector('header [data-testid="header-sign-out"], header button')).toBeNull();
    // Straight after the heading: before the details and the tabs, so it is in view unscrolled.
    const main = root.querySelector('main')!;
    expect(main.querySelector('h1')?.nextElementSibling?.contains(signOut)).toBe(true);
    const following = (el: Element | null) => !!el && (signOut.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
    expect(following(main.querySelector('.nhsuk-summary-list, [role="tablist"]'))).toBe(true);
  });

  it('offers to change role as the Role row’s "Change" link, second in the list', () => {
    const root = show(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, canChangeRole: true }));
    const change = byTestId<HTMLAnchorElement>(root, 'change-role');
    expect(change.tagName).toBe('A');
    expect(change.textContent).toBe('Change role');
    expect(change.querySelector('.nhsuk-u-visually-hidden')?.textContent).toBe(' role');
    expect(change.classList.contains('careid-target')).toBe(true);
    const row = change.closest('.nhsuk-summary-list__row')!;
    expect(change.parentElement?.classList.contains('nhsuk-summary-list__actions')).toBe(true);
    expect(row.querySelector('dt')?.textContent).toBe('Role');
    const rows = [...root.querySelectorAll('.nhsuk-summary-list__row')];
    expect(rows.indexOf(row)).toBe(1);
    // Rows without a link keep the columns lined up, as NHS.UK frontend asks.
    expect(rows.filter((r) => r !== row).every((r) => r.classList.contains('nhsuk-summary-list__row--no-actions'))).toBe(true);
  });

  it('draws the testers’ tabs as NHS tabs: each tab one list item with a plain button', () => {
    const root = show(F.SIGNED_IN_TESTERS);
    for (const tab of [byTestId(root, 'tab-session'), byTestId(root, 'tab-testers')]) {
      expect(tab.parentElement?.classList.contains('nhsuk-tabs__list-item')).toBe(true);
      expect(tab.className).toBe('nhsuk-tabs__tab careid-tabs__tab');
    }
  });

  it('warns before the inactivity sign-out with a countdown and a way to stay', async () => {
    const root = show(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, inactivityWarning: true, idleEndsAt: F.NOW + 60 }));
    const warning = byTestId(root, 'inactivity-warning');
    // Not a live region: a countdown in one is read out every second (see inactivity.test.ts).
    expect(warning.getAttribute('role')).toBeNull();
    expect(warning.textContent).toContain('You will be signed out in about a minute because you have not used this device');
    expect(text(root, 'inactivity-countdown')).toBe('Time left: 1:00');
    vi.advanceTimersByTime(5_000);
    expect(text(root, 'inactivity-countdown')).toBe('Time left: 0:55');
    byTestId(root, 'stay-signed-in').click();
    await settle();
    expect(calls('stay_signed_in')).toHaveLength(1);
  });

  it('switches tabs by click and by arrow keys, keeping the choice across state events', () => {
    const root = show(F.SIGNED_IN_TESTERS);
    const session = byTestId(root, 'tab-session');
    expect(session.getAttribute('aria-selected')).toBe('true');
    expect(root.querySelector('[data-testid="user-name"]')).not.toBeNull();

    byTestId(root, 'tab-testers').click();
    expect(byTestId(root, 'tab-testers').getAttribute('aria-selected')).toBe('true');
    expect(root.querySelector('[data-testid="tester-acr"]')).not.toBeNull();
    expect(root.querySelector('[data-testid="user-name"]')).toBeNull();

    app?.render({ ...F.SIGNED_IN_TESTERS });
    expect(byTestId(root, 'tab-testers').getAttribute('aria-selected')).toBe('true');

    byTestId(root, 'tab-testers').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
    expect(byTestId(root, 'tab-session').getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(byTestId(root, 'tab-session'));
    expect(byTestId(root, 'tab-testers').getAttribute('tabindex')).toBe('-1');
  });
});

describe('testers’ view', () => {
  function testers() {
    const root = show(F.SIGNED_IN_TESTERS);
    byTestId(root, 'tab-testers').click();
    return root;
  }

  it('shows what came back from the last sign-in', () => {
    const root = testers();
    expect(text(root, 'tester-acr')).toBe('AAL3_ANY');
    expect(text(root, 'tester-amr')).toBe('SCARD, PIN');
    expect(text(root, 'tester-aal')).toBe('3');
    expect(text(root, 'tester-ial')).toBe('3');
    expect(text(root, 'tester-auth-time')).toContain(String(F.NOW - 20));
    expect(text(root, 'tester-sid')).toContain('b4f5c9a2');
    expect(text(root, 'tester-selected-roleid')).toBe(F.NURSE_ROLE.id);
    expect(byTestId(root, 'tester-timings').querySelectorAll('tbody tr')).toHaveLength(4);
    expect(byTestId(root, 'tester-stray-callbacks').textContent).toContain('2 refused');
    expect(byTestId(root, 'tester-id-token').querySelector('pre')?.textContent).toContain('"sub": "555057896106"');
    expect(text(root, 'tester-access-token')).toContain('not a JWT');
    expect(byTestId(root, 'tester-userinfo').querySelector('pre')?.textContent).toContain('Flo Nurse');
    expect(byTestId(root, 'tester-discovery').querySelector('pre')?.textContent).toContain('response_modes_supported');
    expect((byTestId(root, 'tester-discovery') as HTMLDetailsElement).open).toBe(false);
    expect(text(root, 'requested-acr')).toBe('AAL3_ANY');
    expect(text(root, 'requested-prompt')).toBe('login');
  });

  it('keeps an opened expander open across a state event', () => {
    const root = testers();
    (byTestId(root, 'tester-id-token') as HTMLDetailsElement).open = true;
    app?.render({ ...F.SIGNED_IN_TESTERS });
    expect((byTestId(root, 'tester-id-token') as HTMLDetailsElement).open).toBe(true);
  });

  it('copies the access token and exports the record, confirming each', async () => {
    const root = testers();
    byTestId(root, 'copy-access-token').click();
    await settle();
    expect(calls('copy_access_token')).toHaveLength(1);
    expect(text(root, 'copy-confirmation')).toBe('Access token copied: it is cleared from the clipboard in 30 seconds');
    // What happens to it is said beside the button, before it is pressed too.
    expect(text(root, 'copy-care')).toContain('after 30 seconds');
    expect(text(root, 'copy-care')).toContain('clipboard history');

    invokeMock.mockResolvedValueOnce('/home/flo/careid-sign-in.json');
    byTestId(root, 'export-record').click();
    await settle();
    expect(text(root, 'export-result')).toBe('Saved to /home/flo/careid-sign-in.json');

    invokeMock.mockResolvedValueOnce(null);
    byTestId(root, 'export-record').click();
    await settle();
    expect(text(root, 'export-result')).toContain('cancelled');
  });

  it('keeps typed overrides in memory between tabs', () => {
    const root = testers();
    const maxAge = byTestId<HTMLInputElement>(root, 'override-max-age');
    maxAge.value = '300';
    maxAge.dispatchEvent(new Event('input'));
    byTestId(root, 'tab-session').click();
    byTestId(root, 'tab-testers').click();
    expect(byTestId<HTMLInputElement>(root, 'override-max-age').value).toBe('300');
  });
});

describe('profiles page', () => {
  function profiles(state = F.HOME) {
    const root = show(state);
    byTestId(root, 'profiles-link').click();
    return root;
  }
  const row = (root: HTMLElement, name: string) => root.querySelector<HTMLElement>(`[data-testid="profile-row"][data-profile="${name}"]`)!;

  it('lists every profile with its details; only custom ones can be removed', () => {
    const root = profiles();
    expect(allByTestId(root, 'profile-row').map((r) => r.dataset.profile)).toEqual(['mock', 'int', 'ward-test']);
    expect(row(root, 'int').textContent).toContain('private_key_jwt');
    expect(row(root, 'int').querySelector('[data-testid="profile-credential"]')?.textContent).toBe('missing');
    expect(row(root, 'mock').querySelector('[data-testid="profile-credential"]')?.textContent).toBe('not needed');
    expect(row(root, 'ward-test').querySelector('[data-testid="profile-credential"]')?.textContent).toBe('stored');
    expect(row(root, 'int').querySelector('[data-testid="profile-missing"]')?.textContent).toContain('client id');
    const uris = [...row(root, 'int').querySelectorAll('[data-testid="profile-redirect-uris"] code')].map((c) => c.textContent);
    expect(uris).toEqual(['http://127.0.0.1:53682/callback', 'http://127.0.0.1:53683/callback']);
    expect(row(root, 'mock').querySelector('[data-testid="profile-redirect-uris"]')?.textContent).toContain('any loopback port');
    expect(row(root, 'mock').querySelector('[data-testid="remove-profile"]')).toBeNull();
    expect(row(root, 'mock').querySelector('[data-testid="use-profile"]')).toBeNull();
    expect(row(root, 'ward-test').querySelector('[data-testid="remove-profile"]')).not.toBeNull();
  });

  it('uses a profile', async () => {
    const root = profiles();
    row(root, 'int').querySelector<HTMLElement>('[data-testid="use-profile"]')?.click();
    await settle();
    expect(calls('use_profile')).toEqual([{ name: 'int' }]);
  });

  it('removes a custom profile only after an in-page confirmation', async () => {
    const confirm = vi.spyOn(window, 'confirm');
    const root = profiles();
    row(root, 'ward-test').querySelector<HTMLElement>('[data-testid="remove-profile"]')?.click();
    expect(calls('remove_profile')).toHaveLength(0);
    byTestId(root, 'cancel-remove').click();
    expect(root.querySelector('[data-testid="confirm-remove"]')).toBeNull();
    row(root, 'ward-test').querySelector<HTMLElement>('[data-testid="remove-profile"]')?.click();
    byTestId(root, 'confirm-remove').click();
    await settle();
    expect(calls('remove_profile')).toEqual([{ name: 'ward-test' }]);
    expect(confirm).not.toHaveBeenCalled();
  });

  it('checks a provider and shows each line with its status tag', async () => {
    const root = profiles();
    invokeMock.mockResolvedValueOnce([
      { name: 'discovery', status: 'pass', detail: 'fetched' },
      { name: 'client id', status: 'fail', detail: 'not set' },
    ]);
    row(root, 'int').querySelector<HTMLElement>('[data-testid="check-profile"]')?.click();
    await settle();
    expect(calls('check_profile')).toEqual([{ name: 'int' }]);
    const result = row(root, 'int').querySelector('[data-testid="doctor-result"]');
    expect(result?.querySelector('[data-status="fail"] .nhsuk-tag--red')?.textContent).toBe('fail');
    expect(result?.querySelector('[data-status="pass"] .nhsuk-tag--green')).not.toBeNull();
  });

  it('edits a profile and saves it as ProfileInput', async () => {
    const root = profiles();
    row(root, 'int').querySelector<HTMLElement>('[data-testid="edit-profile"]')?.click();
    const form = byTestId<HTMLFormElement>(root, 'profile-form');
    expect(form.querySelector<HTMLInputElement>('#profile-name')?.value).toBe('int');
    const clientId = form.querySelector<HTMLInputElement>('#profile-clientId')!;
    clientId.value = 'careid-int';
    clientId.dispatchEvent(new Event('input'));
    form.requestSubmit();
    await settle();
    expect(calls('save_profile')).toEqual([
      {
        profile: {
          name: 'int',
          issuer: F.INT_PROFILE.issuer,
          clientId: 'careid-int',
          clientAuth: 'private_key_jwt',
          assertionAlgorithm: 'RS512',
          scopes: ['openid', 'profile', 'email', 'nationalrbacaccess'],
          acrValues: null,
          prompt: null,
          maxAge: null,
          roleSelection: 'app',
          redirectPorts: [53682, 53683],
          inactivityMinutes: 15,
          absoluteHours: 12,
        },
      },
    ]);
    expect(text(root, 'profile-saved')).toBe('Profile “int” saved');
    const banner = byTestId(root, 'profile-saved-banner');
    expect(banner.classList.contains('nhsuk-notification-banner--success')).toBe(true);
    expect(banner.getAttribute('role')).toBe('alert');
    expect(root.querySelector('.nhsuk-error-summary')).toBeNull();
  });

  it('refuses a form with no name or bad ports, with an error summary', async () => {
    const root = profiles();
    const form = byTestId<HTMLFormElement>(root, 'profile-form');
    const ports = form.querySelector<HTMLInputElement>('#profile-redirectPorts')!;
    ports.value = '53682, 99999';
    ports.dispatchEvent(new Event('input'));
    form.requestSubmit();
    await settle();
    expect(calls('save_profile')).toHaveLength(0);
    const summary = byTestId(root, 'profile-form-errors');
    expect(summary.textContent).toContain('Enter a name for the profile');
    expect(summary.textContent).toContain('Redirect ports must be numbers from 1 to 65535');
    expect(document.activeElement).toBe(summary);
  });

  it('stores a credential, then clears the field and never shows it again', async () => {
    const root = profiles({ ...F.HOME, profile: F.INT_PROFILE });
    const field = byTestId<HTMLTextAreaElement>(root, 'credential-input');
    expect(field.getAttribute('autocomplete')).toBe('off');
    expect(field.getAttribute('spellcheck')).toBe('false');
    field.value = '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----';
    byTestId(root, 'store-credential').click();
    await settle();
    expect(calls('store_credential')).toEqual([{ name: 'int', value: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----' }]);
    expect(byTestId<HTMLTextAreaElement>(root, 'credential-input').value).toBe('');
    expect(text(root, 'credential-stored')).toBe('Stored. careid never shows it again.');
    expect(root.innerHTML).not.toContain('BEGIN PRIVATE KEY');
  });

  it('offers no secret box for a profile that needs none', () => {
    const root = profiles();
    expect(root.querySelector('[data-testid="credential-input"]')).toBeNull();
    expect(text(root, 'credential-not-needed')).toBe('The “mock” profile needs no client secret or private key.');
  });

  it('keeps a half-typed secret when a state event arrives', () => {
    const root = profiles({ ...F.HOME, profile: F.INT_PROFILE });
    byTestId<HTMLTextAreaElement>(root, 'credential-input').value = 'half-typed';
    app?.render({ ...F.HOME, profile: F.INT_PROFILE });
    expect(byTestId<HTMLTextAreaElement>(root, 'credential-input').value).toBe('half-typed');
  });

  it('turns the testers’ view on from Settings', async () => {
    const root = profiles();
    const toggle = byTestId<HTMLInputElement>(root, 'testers-view-toggle');
    expect(toggle.checked).toBe(false);
    toggle.click();
    await settle();
    expect(calls('set_testers_view')).toEqual([{ enabled: true }]);
  });
});
