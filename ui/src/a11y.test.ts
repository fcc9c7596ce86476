// Accessibility: axe-core finds no violations on any screen (colour contrast needs layout, which jsdom lacks).
import { afterEach, describe, expect, it, vi } from 'vitest';
import axe from 'axe-core';
import type { AppState } from './generated/ipc';
import * as F from './fixtures';
import { mount } from './test-support';
import { ApiError } from './api';
import { renderStartFailure } from './start-failure';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn(() => Promise.resolve(null)) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));

let dispose: (() => void) | null = null;
afterEach(() => {
  dispose?.();
  vi.useRealTimers();
});

async function violations(state: AppState, prepare?: (root: HTMLElement, app: ReturnType<typeof mount>['app']) => void) {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(F.NOW * 1000 + 45_000);
  document.documentElement.lang = 'en-GB';
  document.title = 'careid';
  const { root, app } = mount(state);
  dispose = () => app.dispose();
  prepare?.(root, app);
  // Open every expander so axe checks what is inside them too.
  root.querySelectorAll('details').forEach((d) => (d.open = true));
  const result = await axe.run(document, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const screens: Array<[string, AppState]> = [
  ['restoring', F.RESTORING],
  ['home', F.HOME],
  ['home, profile not ready, testers view', F.state({ kind: 'home' }, { profile: F.INT_PROFILE, preferences: { testersView: true } })],
  ['home with an error notice', F.state({ kind: 'home' }, { notice: F.notice('provider_error', 'provider', { providerError: 'access_denied', providerDescription: 'Authenticator below AAL3', detail: 'error=access_denied' }) })],
  ['home with an info notice', F.state({ kind: 'home' }, { notice: F.notice('signed_out', 'info') })],
  ['home with a session end and its technical detail', F.state({ kind: 'home' }, { notice: F.notice('inactivity', 'info', { detail: 'inactive for 15 minutes' }) })],
  ['waiting', F.WAITING_STATE],
  ['choose role (7 roles, search)', F.ALEX_ROLES],
  ['change role (1 role)', F.FLO_ROLES],
  ['no roles', F.NO_ROLES],
  ['signed in', F.SIGNED_IN],
  ['signed in with inactivity warning', F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, inactivityWarning: true })],
  ['signed in, testers tab', F.SIGNED_IN_TESTERS],
  ['signed in, can change role (Change link)', F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, canChangeRole: true })],
  ['signed in, no role selected', F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, role: null })],
  ['choose role with a last-used role', F.state({ kind: 'chooseRole', ...F.ALEX_CHOICE, preselected: '555254253100' })],
  ['home on INT', F.state({ kind: 'home' }, { profile: F.INT_PROFILE })],
  ['home on a custom profile', F.state({ kind: 'home' }, { profile: F.CUSTOM_PROFILE })],
];

describe('axe', () => {
  it.each(screens)('%s has no violations', async (_name, state) => {
    const prepare = _name.includes('testers tab')
      ? (root: HTMLElement) => root.querySelector<HTMLButtonElement>('[data-testid="tab-testers"]')?.click()
      : undefined;
    expect(await violations(state, prepare)).toEqual([]);
  });

  it('choose role with the nothing-chosen error has no violations', async () => {
    expect(
      await violations(F.ALEX_ROLES, (root) => {
        root.querySelector<HTMLButtonElement>('[data-testid="choose-role-submit"]')?.click();
      }),
    ).toEqual([]);
  });

  it('profiles page has no violations, with a check result, a remove confirmation and form errors', async () => {
    expect(
      await violations(F.HOME, (root, app) => {
        app.ui.doctor['mock'] = [
          { name: 'discovery', status: 'pass', detail: 'ok' },
          { name: 'jwks', status: 'warn', detail: 'slow' },
        ];
        app.ui.formErrors = { name: 'Enter a name for the profile' };
        app.go('profiles');
        // Set after the page change, which forgets the last page's confirmations.
        app.ui.confirmRemove = 'ward-test';
        app.rerender();
        if (!root.querySelector('[data-testid="confirm-remove-box"]')) throw new Error('no confirmation drawn');
      }),
    ).toEqual([]);
  });

  it('the harness does catch a violation (an unlabelled input), so a pass means something', async () => {
    const found = await violations(F.HOME, (root) => {
      root.querySelector('main')?.append(document.createElement('input'));
    });
    expect(found.some((v) => v.startsWith('label'))).toBe(true);
  });

  it('profiles page after a save (success banner) has no violations', async () => {
    expect(
      await violations(F.HOME, (_root, app) => {
        app.go('profiles');
        // Set after the page change, which forgets the last page's confirmations.
        app.ui.profileSaved = 'int';
        app.ui.editing = 'int';
        app.rerender();
        if (!document.querySelector('[data-testid="profile-saved-banner"]')) throw new Error('no banner drawn');
      }),
    ).toEqual([]);
  });

  it('history page has no violations, listed and with one attempt open', async () => {
    const testers = F.state({ kind: 'home' }, { preferences: { testersView: true } });
    expect(
      await violations(testers, (_root, app) => {
        app.go('history');
        app.ui.history.list = F.ATTEMPTS;
        app.ui.history.selected = [F.REFUSED_ATTEMPT.id];
        app.ui.history.keepError = 'Enter a number from 1 to 100,000';
        app.rerender();
        if (!document.querySelector('[data-testid="history-table"]')) throw new Error('no list drawn');
      }),
    ).toEqual([]);
    dispose?.();
    expect(
      await violations(testers, (_root, app) => {
        app.go('history');
        app.ui.history.open = F.ATTEMPT;
        app.rerender();
        if (!document.querySelector('[data-testid="attempt-checks"]')) throw new Error('no attempt drawn');
      }),
    ).toEqual([]);
  });

  it('runs page has no violations: the plans, a run under way with a step asked, a finished run', async () => {
    for (const run of [null, F.RUN_UNDER_WAY, F.RUN_FINISHED]) {
      const found = await violations(F.state({ kind: 'home' }, { run, preferences: { testersView: true } }), (_root, app) => {
        app.go('runs');
        app.ui.runs.plans = F.RUN_PLANS;
        app.rerender();
        if (!document.querySelector('h1')?.textContent?.startsWith('Run')) throw new Error('no runs page drawn');
      });
      expect(found).toEqual([]);
      dispose?.();
      dispose = null;
    }
  });

  it('help page has no violations', async () => {
    expect(await violations(F.HOME, (_root, app) => app.go('help'))).toEqual([]);
  });

  it('the page for a fault at start has no violations', async () => {
    expect(
      await violations(F.HOME, (root) => {
        renderStartFailure(
          root,
          new ApiError('folder_writable_by_others', 'careid will not use /x: run `chmod go-w /x`', 'other'),
        );
        root.querySelectorAll('details').forEach((d) => (d.open = true));
      }),
    ).toEqual([]);
  });
});
