// Tests for start-up wiring: the first state, later events, a failing bridge, and activity reports.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { start } from './main';
import { App } from './render';
import * as F from './fixtures';
import type { AppState } from './generated/ipc';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));
const invokeMock = vi.mocked(invoke);
const listenMock = vi.mocked(listen);

let root: HTMLElement;
let emit: (state: AppState) => void;

beforeEach(() => {
  invokeMock.mockReset();
  listenMock.mockReset();
  listenMock.mockImplementation(async (_event, handler) => {
    emit = (payload) => handler({ event: 'state-changed', id: 1, payload });
    return () => undefined;
  });
  document.body.innerHTML = '';
  root = document.createElement('div');
  document.body.append(root);
});

const screenOf = () => root.querySelector('main')?.dataset.screen;

describe('start', () => {
  it('draws current_state, then each state-changed event', async () => {
    invokeMock.mockResolvedValue(F.RESTORING);

    const app = await start(root);

    expect(invokeMock).toHaveBeenCalledWith('current_state', undefined);
    expect(screenOf()).toBe('restoring');
    expect(root.querySelector('[data-testid="app-version"]')?.textContent).toBe('Version 0.1.0 (debug build)');
    emit(F.HOME);
    expect(screenOf()).toBe('home');
    app?.dispose();
  });

  it('keeps an event that arrived before current_state answered (it is newer)', async () => {
    invokeMock.mockImplementation(async () => {
      emit(F.SIGNED_IN);
      return F.RESTORING;
    });

    const app = await start(root);

    expect(screenOf()).toBe('signedIn');
    app?.dispose();
  });

  it('asks for the state without waiting for the listener, and draws the answer at once', async () => {
    let registered: (() => void) | null = null;
    listenMock.mockImplementation(
      (_event, handler) =>
        new Promise((resolve) => {
          emit = (payload) => handler({ event: 'state-changed', id: 1, payload });
          registered = () => resolve(() => undefined);
        }),
    );
    invokeMock.mockResolvedValue(F.HOME);

    const started = start(root);
    await vi.waitFor(() => expect(screenOf()).toBe('home'));
    expect(registered).not.toBeNull();
    registered!();
    const app = await started;
    app?.dispose();
  });

  it('draws a change published after the first answer but before the listener was registered', async () => {
    let registered: (() => void) | null = null;
    listenMock.mockImplementation(
      (_event, handler) =>
        new Promise((resolve) => {
          emit = (payload) => handler({ event: 'state-changed', id: 1, payload });
          registered = () => resolve(() => undefined);
        }),
    );
    invokeMock.mockResolvedValueOnce(F.RESTORING).mockResolvedValueOnce(F.HOME);

    const started = start(root);
    await vi.waitFor(() => expect(screenOf()).toBe('restoring'));
    registered!();
    const app = await started;
    expect(screenOf()).toBe('home');
    expect(invokeMock.mock.calls.filter((c) => c[0] === 'current_state')).toHaveLength(2);
    app?.dispose();
  });

  it('does not draw again when the second answer is the same (the focus stays where it is)', async () => {
    invokeMock.mockResolvedValue(F.HOME);
    const drawn = vi.spyOn(App.prototype, 'render');
    const app = await start(root);
    expect(invokeMock.mock.calls.filter((c) => c[0] === 'current_state')).toHaveLength(2);
    expect(drawn).toHaveBeenCalledTimes(1);
    drawn.mockRestore();
    app?.dispose();
  });

  it('shows the sentence chosen by the error code when the bridge fails', async () => {
    invokeMock.mockRejectedValue('command current_state not found');

    await start(root);

    const alert = root.querySelector<HTMLElement>('[data-testid="app-error"]');
    expect(screenOf()).toBe('error');
    expect(alert?.getAttribute('role')).toBe('alert');
    expect(alert?.textContent).toBe('Sorry, this screen could not talk to careid. Close careid and open it again.');
    expect(alert?.textContent).not.toContain('not found');
  });

  it('shows a fault that stopped careid at start with what to do and the technical detail', async () => {
    invokeMock.mockRejectedValue({
      code: 'folder_writable_by_others',
      class: 'other',
      message: 'careid will not use /home/flo/.config/careid: other users can write to it (mode 777); run `chmod go-w /home/flo/.config/careid`',
    });

    await start(root);

    expect(screenOf()).toBe('error');
    expect(root.querySelector('h1')?.textContent).toBe('careid could not start');
    expect(root.querySelector('[data-testid="app-error"]')?.textContent).toContain('Other people on this computer can change');
    expect(root.querySelector('[data-testid="app-error-to-do"]')?.textContent).toContain('IT service desk');
    const detail = root.querySelector('[data-testid="app-error-detail"]');
    expect(detail?.tagName).toBe('DETAILS');
    expect(detail?.textContent).toContain('folder_writable_by_others');
    expect(detail?.textContent).toContain('chmod go-w /home/flo/.config/careid');
    // The plain words never carry the technical ones.
    expect(root.querySelector('[data-testid="app-error"]')?.textContent).not.toContain('chmod');
  });

  it('reports activity while signed in, at most once every 15 seconds', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(F.NOW * 1000);
    invokeMock.mockResolvedValue(F.SIGNED_IN);
    const app = await start(root);
    invokeMock.mockClear();
    invokeMock.mockResolvedValue(null);

    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }));
    document.dispatchEvent(new Event('pointerdown'));
    vi.setSystemTime(F.NOW * 1000 + 14_000);
    document.dispatchEvent(new Event('wheel'));
    expect(invokeMock.mock.calls.filter((c) => c[0] === 'note_activity')).toHaveLength(1);

    vi.setSystemTime(F.NOW * 1000 + 15_000);
    document.dispatchEvent(new Event('touchstart'));
    expect(invokeMock.mock.calls.filter((c) => c[0] === 'note_activity')).toHaveLength(2);

    emit(F.HOME);
    vi.setSystemTime(F.NOW * 1000 + 60_000);
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }));
    expect(invokeMock.mock.calls.filter((c) => c[0] === 'note_activity')).toHaveLength(2);
    app?.dispose();
    vi.useRealTimers();
  });
});
