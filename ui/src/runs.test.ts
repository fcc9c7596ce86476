// The Runs page: the plans from list_run_plans, a run under way (what to use, a step to confirm,
// cancel), a finished run (problems, reports, each case's attempt).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import * as F from './fixtures';
import { byTestId, mount } from './test-support';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));
const invokeMock = vi.mocked(invoke);

const TESTERS = F.state({ kind: 'home' }, { preferences: { testersView: true } });
let dispose: (() => void) | null = null;

beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (command: string) => {
    switch (command) {
      case 'list_run_plans':
        return F.RUN_PLANS;
      case 'attempt_details':
        return F.ATTEMPT;
      case 'export_run_report':
        return '/home/tester/careid-run.xml';
      case 'list_attempts':
        return F.ATTEMPTS;
      case 'history_keep':
        return 200;
      default:
        return null;
    }
  });
});
afterEach(() => dispose?.());

describe('the Runs page', () => {
  it('is linked from the footer in the testers’ view, and while a run is under way', () => {
    const plain = mount(F.HOME);
    expect(plain.root.querySelector('[data-testid="runs-link"]')).toBeNull();
    plain.app.dispose();
    const running = mount(F.state({ kind: 'home' }, { run: F.RUN_UNDER_WAY }));
    expect(byTestId(running.root, 'runs-link').textContent).toBe('Runs');
    running.app.dispose();
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    expect(byTestId(root, 'runs-link').textContent).toBe('Runs');
  });

  it('lists the plans with what each does, and why one cannot be read', async () => {
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    byTestId(root, 'runs-link').click();
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid="run-plan"]')).toHaveLength(3));
    const cards = [...root.querySelectorAll<HTMLElement>('[data-testid="run-plan"]')];
    expect(cards.map((card) => card.dataset.plan)).toEqual(['example:mock.toml', 'folder:int-smartcards.toml', 'folder:draft.toml']);
    expect(cards[0]?.textContent).toContain('Without a person');
    expect(cards[1]?.textContent).toContain('You sign in to each case in the browser');
    expect(cards[2]?.querySelector('[data-testid="start-run"]')).toBeNull();
    expect(byTestId(cards[2]!, 'run-plan-problem').textContent).toContain('draft.toml:3:11');
    expect(byTestId(root, 'runs-folder').textContent).toBe('/home/tester/.config/careid/plans');
    expect(root.querySelector('[data-testid="runs-signed-in"]')).toBeNull();
  });

  it('starts a plan with the label typed, or none', async () => {
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    app.go('runs');
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid="start-run"]')).toHaveLength(2));
    const label = byTestId<HTMLInputElement>(root, 'run-label');
    label.value = '  INT, Tuesday  ';
    label.dispatchEvent(new Event('input'));
    root.querySelector<HTMLButtonElement>('[data-plan="folder:int-smartcards.toml"] [data-testid="start-run"]')!.click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('start_run', { plan: 'folder:int-smartcards.toml', label: 'INT, Tuesday' }));
    label.value = ' ';
    label.dispatchEvent(new Event('input'));
    root.querySelector<HTMLButtonElement>('[data-plan="example:mock.toml"] [data-testid="start-run"]')!.click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('start_run', { plan: 'example:mock.toml', label: null }));
  });

  it('says to sign out first while signed in', async () => {
    const { root, app } = mount(F.state({ kind: 'signedIn', ...F.FLO_SIGNED_IN }, { preferences: { testersView: true } }));
    dispose = () => app.dispose();
    app.go('runs');
    await vi.waitFor(() => expect(byTestId(root, 'runs-signed-in').textContent).toContain('sign out before you start one'));
  });

  it('shows a run under way: what to use, the step to confirm, and cancel', async () => {
    const { root, app } = mount(F.state({ kind: 'home' }, { run: F.RUN_UNDER_WAY }));
    dispose = () => app.dispose();
    app.go('runs');
    expect(byTestId(root, 'run-instruction').textContent).toContain('Case 2 of 4: Use your FIDO2 security key.');
    expect(byTestId(root, 'run-question-step').textContent).toBe('The key asked for its PIN');
    expect(byTestId(root, 'run-progress').textContent).toBe('1 of 4 cases');
    const statuses = [...root.querySelectorAll<HTMLElement>('[data-testid="run-case"]')].map((row) => row.dataset.status);
    expect(statuses).toEqual(['passed', 'running', 'pending', 'pending']);
    byTestId(root, 'run-answer-yes').click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('answer_run_step', { answer: 'confirmed' }));
    byTestId(root, 'run-answer-later').click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('answer_run_step', { answer: 'later' }));
    byTestId(root, 'cancel-run').click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('cancel_run', undefined));
    expect(root.querySelector('[data-testid="run-export-json"]')).toBeNull();
  });

  it('shows a finished run: why it failed, each finding, reports, and each case’s attempt', async () => {
    const { root, app } = mount(F.state({ kind: 'home' }, { run: F.RUN_FINISHED }));
    dispose = () => app.dispose();
    app.go('runs');
    expect(byTestId(root, 'run-outcome').dataset.state).toBe('failed');
    expect(byTestId(root, 'run-problems').textContent).toContain('authenticator_app-AAL3_ANY-login');
    const findings = [...root.querySelectorAll('[data-testid="run-finding"]')].map((f) => f.textContent);
    expect(findings[0]).toContain('acr expected failure (INT answers AAL3_ANY for both)');
    expect(findings[2]).toContain('outcome FAILED: expected provider_error, got signed_in');
    expect(root.querySelector('[data-testid="cancel-run"]')).toBeNull();
    byTestId(root, 'run-export-junit').click();
    await vi.waitFor(() => expect(byTestId(root, 'run-export-result').textContent).toBe('Saved to /home/tester/careid-run.xml'));
    expect(invokeMock).toHaveBeenCalledWith('export_run_report', { kind: 'junit' });
    root.querySelector<HTMLElement>('[data-testid="run-open-attempt"]')!.click();
    await vi.waitFor(() => expect(root.querySelector('h1')?.textContent).toContain('Attempt of'));
    expect(invokeMock).toHaveBeenCalledWith('attempt_details', { id: '2026-12-07T143900.001Z-7a1c' });
  });

  it('goes back to the plans once the run is closed', async () => {
    const { root, app } = mount(F.state({ kind: 'home' }, { run: F.RUN_FINISHED }));
    dispose = () => app.dispose();
    app.go('runs');
    byTestId(root, 'close-run').click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('close_run', undefined));
    app.render(F.state({ kind: 'home' }, { run: null, preferences: { testersView: true } }));
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid="run-plan"]')).toHaveLength(3));
  });
});
