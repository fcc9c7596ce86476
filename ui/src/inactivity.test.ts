// The inactivity warning: a countdown that is not read out every second, a live region that speaks only at 60, 30
// and 10 seconds left, "Stay signed in" and "Sign out now".
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import axe from 'axe-core';
import { invoke } from '@tauri-apps/api/core';
import * as F from './fixtures';
import { byTestId, mount, settle } from './test-support';
import type { App } from './render';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));
const invokeMock = vi.mocked(invoke);

let app: App | null = null;
beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockResolvedValue(null);
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  app?.dispose();
  app = null;
  vi.useRealTimers();
});

/** The warning as Rust first publishes it: `left` seconds before the inactivity limit (Rust warns from 60). */
const WARNING = F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN, inactivityWarning: true, idleEndsAt: F.NOW + 60 });

function showAt(secondsLeft: number, state = WARNING) {
  vi.setSystemTime((F.NOW + 60 - secondsLeft) * 1000);
  const m = mount(state);
  app = m.app;
  return m.root;
}

const said = (root: HTMLElement) => byTestId(root, 'inactivity-announcement').textContent ?? '';
const calls = (command: string) => invokeMock.mock.calls.filter((c) => c[0] === command);

describe('the inactivity warning', () => {
  it('keeps the countdown out of any live region', () => {
    const root = showAt(60);
    const countdown = byTestId(root, 'inactivity-countdown');
    expect(countdown.textContent).toBe('Time left: 1:00');
    for (let el: HTMLElement | null = countdown; el && el !== root; el = el.parentElement) {
      expect(el.getAttribute('role') ?? '', el.className).not.toMatch(/alert|status|timer|log/);
      expect(el.getAttribute('aria-live'), el.className).toBeNull();
    }
    const region = byTestId(root, 'inactivity-announcement');
    expect(region.getAttribute('aria-live')).toBe('assertive');
    expect(region.classList.contains('nhsuk-u-visually-hidden')).toBe(true);
    expect(region.contains(countdown) || countdown.contains(region)).toBe(false);
  });

  it('says the time left at 60, 30 and 10 seconds only, and is empty in between', () => {
    const root = showAt(60);
    // Drawn empty: the region is on the page before its words change.
    expect(said(root)).toBe('');
    const heard: Array<[number, string]> = [];
    for (let left = 59; left >= 1; left -= 1) {
      vi.advanceTimersByTime(1_000);
      heard.push([left, said(root)]);
    }
    const spoken = heard.filter(([, words]) => words !== '');
    // Each announcement holds for a few seconds, then the region is emptied.
    const starts = heard.filter(([, words], i) => words !== '' && (i === 0 || heard[i - 1]![1] !== words)).map(([left]) => left);
    expect(starts).toEqual([59, 30, 10]);
    expect(spoken.length).toBeLessThanOrEqual(15);
    const at = (left: number) => heard.find(([l]) => l === left)![1];
    expect(at(59)).toBe(
      'You will be signed out of careid in 1 minute because you have not used this device. Choose Stay signed in to carry on.',
    );
    expect(at(30)).toBe('You will be signed out of careid in 30 seconds.');
    expect(at(10)).toBe('You will be signed out of careid in 10 seconds.');
    for (const left of [50, 45, 40, 35, 31, 20, 15, 11, 5, 1]) expect(at(left), `${left} s left`).toBe('');
  });

  it('is not read out again when the warning is drawn again', () => {
    const root = showAt(60);
    vi.advanceTimersByTime(1_000);
    expect(said(root)).toContain('in 1 minute');
    // A new state arrives (the same warning): the redrawn region stays quiet.
    app!.render({ ...WARNING });
    vi.advanceTimersByTime(2_000);
    expect(said(root)).toBe('');
    vi.advanceTimersByTime(27_000);
    expect(said(root)).toBe('You will be signed out of careid in 30 seconds.');
  });

  it('says the time actually left when the warning comes late', () => {
    const root = showAt(26);
    vi.advanceTimersByTime(1_000);
    expect(said(root)).toBe('You will be signed out of careid in 25 seconds.');
  });

  it('offers Stay signed in and Sign out now, which signs out through the same command', async () => {
    const root = showAt(60);
    byTestId(root, 'stay-signed-in').click();
    await settle();
    expect(calls('stay_signed_in')).toHaveLength(1);
    const signOut = byTestId(root, 'sign-out-now');
    expect(signOut.textContent).toBe('Sign out now');
    expect(signOut.tagName).toBe('BUTTON');
    signOut.click();
    await settle();
    expect(calls('sign_out')).toEqual([['sign_out', undefined]]);
  });

  it('has no accessibility violations while it speaks', async () => {
    const root = showAt(60);
    vi.advanceTimersByTime(1_000);
    expect(said(root)).not.toBe('');
    document.documentElement.lang = 'en-GB';
    const result = await axe.run(root, { rules: { 'color-contrast': { enabled: false } } });
    expect(result.violations.map((v) => v.id)).toEqual([]);
  });
});
