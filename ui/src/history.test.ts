// The sign-in history page: the list from list_attempts, one attempt in full, export and "sign in again".
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
      case 'list_attempts':
        return F.ATTEMPTS;
      case 'attempt_details':
        return F.ATTEMPT;
      case 'export_attempts':
        return '/home/tester/careid-attempt.html';
      case 'history_keep':
        return 200;
      default:
        return null;
    }
  });
});
afterEach(() => dispose?.());

describe('the history page', () => {
  it('is linked from the footer only in the testers’ view', () => {
    const plain = mount(F.HOME);
    expect(plain.root.querySelector('[data-testid="history-link"]')).toBeNull();
    plain.app.dispose();
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    expect(byTestId(root, 'history-link').textContent).toBe('Sign-in history');
  });

  it('lists every attempt newest first with its outcome, failures included', async () => {
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    byTestId(root, 'history-link').click();
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid="history-row"]')).toHaveLength(2));
    const rows = [...root.querySelectorAll<HTMLElement>('[data-testid="history-row"]')];
    expect(rows.map((row) => row.dataset.verdict)).toEqual(['refused', 'signed_in']);
    expect(rows[0]?.textContent).toContain('id_token_wrong_nonce');
    expect(rows[0]?.textContent).toContain('Refused by a check');
    expect(rows[1]?.textContent).toContain('smartcard at AAL3');
    expect(root.querySelector('h1')?.textContent).toBe('Sign-in history');
  });

  it('opens an attempt with each check, exports it and signs in again with its settings', async () => {
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    app.go('history');
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid="history-open"]')).toHaveLength(2));
    root.querySelector<HTMLElement>('[data-testid="history-open"]')?.click();
    await vi.waitFor(() => expect(root.querySelector('[data-testid="attempt-checks"]')).not.toBeNull());
    expect(invokeMock).toHaveBeenCalledWith('attempt_details', { id: F.REFUSED_ATTEMPT.id });
    const failed = root.querySelector<HTMLElement>('[data-rule="id_token_nonce"]');
    expect(failed?.dataset.outcome).toBe('failed');
    expect(failed?.textContent).toContain('Failed');
    expect(byTestId(root, 'attempt-asked').textContent).toContain('changed for this sign-in');

    byTestId(root, 'export-html').click();
    await vi.waitFor(() => expect(byTestId(root, 'history-export-result').textContent).toContain('Saved to'));
    expect(invokeMock).toHaveBeenCalledWith('export_attempts', { ids: [F.REFUSED_ATTEMPT.id], kind: 'html' });

    byTestId(root, 'sign-in-again').click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('sign_in_again', { id: F.REFUSED_ATTEMPT.id }));
    await vi.waitFor(() => expect(app.ui.page).toBe('main'));
  });

  it('exports the attempts ticked, and only those', async () => {
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    app.go('history');
    await vi.waitFor(() => expect(root.querySelectorAll('[data-testid="history-select"]')).toHaveLength(2));
    const second = root.querySelectorAll<HTMLInputElement>('[data-testid="history-select"]')[1];
    second!.click();
    expect(byTestId(root, 'export-json').textContent).toBe('Export the 1 selected as JSON');
    byTestId(root, 'export-json').click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('export_attempts', { ids: [F.ATTEMPTS[1]!.id], kind: 'json' }));
  });

  it('keeps the number of attempts the tester sets, and refuses one out of range', async () => {
    let kept = 200;
    invokeMock.mockImplementation(async (command: string, args?: unknown) => {
      if (command === 'history_keep') return kept;
      if (command === 'set_history_keep') kept = (args as { keep: number }).keep;
      if (command === 'list_attempts') return F.ATTEMPTS;
      return null;
    });
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    app.go('history');
    await vi.waitFor(() => expect(byTestId<HTMLInputElement>(root, 'history-keep').value).toBe('200'));
    const field = byTestId<HTMLInputElement>(root, 'history-keep');
    field.value = '0';
    field.dispatchEvent(new Event('input'));
    byTestId(root, 'history-keep-save').click();
    expect(root.querySelector('#history-keep-error')?.textContent).toContain('from 1 to 100,000');
    expect(invokeMock).not.toHaveBeenCalledWith('set_history_keep', expect.anything());
    const again = byTestId<HTMLInputElement>(root, 'history-keep');
    again.value = '50';
    again.dispatchEvent(new Event('input'));
    byTestId(root, 'history-keep-save').click();
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith('set_history_keep', { keep: 50 }));
    await vi.waitFor(() => expect(byTestId(root, 'history-keep-saved').textContent).toBe('careid keeps the newest 50 attempts.'));
  });

  it('says so when there is nothing yet', async () => {
    invokeMock.mockImplementation(async (command: string) => (command === 'history_keep' ? 200 : []));
    const { root, app } = mount(TESTERS);
    dispose = () => app.dispose();
    app.go('history');
    await vi.waitFor(() => expect(byTestId(root, 'history-empty').textContent).toContain('No sign-in attempts yet'));
  });
});
