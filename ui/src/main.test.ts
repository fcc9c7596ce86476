// Tests for start-up wiring: the home screen filled from a mocked Rust bridge.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import { start } from './main';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
const invokeMock = vi.mocked(invoke);

let root: HTMLElement;

beforeEach(() => {
  invokeMock.mockReset();
  document.body.innerHTML = '';
  root = document.createElement('div');
  document.body.append(root);
});

const byTestId = (id: string) => root.querySelector<HTMLElement>(`[data-testid="${id}"]`);

describe('start', () => {
  it('shows the version reported by app_info', async () => {
    invokeMock.mockResolvedValue({ name: 'careid', version: '0.1.0', buildProfile: 'debug' });

    await start(root);

    expect(invokeMock).toHaveBeenCalledWith('app_info', undefined);
    expect(byTestId('app-version')?.textContent).toBe('Version 0.1.0 (debug build)');
    expect(byTestId('app-error')?.hidden).toBe(true);
    expect(document.body.classList.contains('nhsuk-frontend-supported')).toBe(true);
  });

  it('shows the sentence chosen by the error code when app_info fails', async () => {
    invokeMock.mockRejectedValue('command app_info not found');

    await start(root);

    const alert = byTestId('app-error');
    expect(alert?.hidden).toBe(false);
    expect(alert?.getAttribute('role')).toBe('alert');
    expect(alert?.textContent).toBe('Sorry, this screen could not talk to careid. Close careid and open it again.');
    expect(alert?.textContent).not.toContain('not found');
  });

  it('shows the generic sentence for a code the UI does not know', async () => {
    invokeMock.mockRejectedValue({ code: 'something_new', message: 'from Rust' });

    await start(root);

    expect(byTestId('app-error')?.textContent).toBe(
      'Sorry, something went wrong in careid. Try again. If it keeps happening, contact your IT service desk.',
    );
  });
});
