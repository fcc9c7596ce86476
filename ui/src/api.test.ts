// Tests for the Rust bridge: command names and arguments, response checking, error mapping, the state event.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import * as api from './api';
import { ApiError } from './api';
import { describeError } from './notices';
import { HOME } from './fixtures';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));
const invokeMock = vi.mocked(invoke);
const listenMock = vi.mocked(listen);

beforeEach(() => {
  invokeMock.mockReset();
  listenMock.mockReset();
});

describe('errors across the bridge', () => {
  it('turns a CommandError rejection from Rust into an ApiError with its code and class', async () => {
    invokeMock.mockRejectedValue({ code: 'some_rust_code', class: 'keychain', message: 'detail for logs' });

    const error = await api.signOut().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'some_rust_code', errorClass: 'keychain', message: 'detail for logs' });
  });

  it('reports an unstructured rejection as ipc_failed', async () => {
    invokeMock.mockRejectedValue('command sign_out not found');

    await expect(api.signOut()).rejects.toMatchObject({ code: 'ipc_failed', message: 'command sign_out not found' });
  });
});

describe('command wrappers', () => {
  const overrides = { acrValues: 'AAL3_ANY', prompt: null, maxAge: 0, scopes: ['openid'] };
  const profile = {
    name: 'ward-test',
    issuer: 'https://idp.example',
    clientId: 'x',
    clientAuth: 'none',
    assertionAlgorithm: null,
    scopes: null,
    acrValues: null,
    prompt: null,
    maxAge: null,
    roleSelection: 'app',
    redirectPorts: [53682],
    inactivityMinutes: 15,
    absoluteHours: 12,
  };
  const cases: Array<[string, () => Promise<unknown>, string, Record<string, unknown> | undefined]> = [
    ['signIn', () => api.signIn(overrides), 'sign_in', { overrides }],
    ['signIn without overrides', () => api.signIn(null), 'sign_in', { overrides: null }],
    ['cancelSignIn', () => api.cancelSignIn(), 'cancel_sign_in', undefined],
    ['openSignInPageAgain', () => api.openSignInPageAgain(), 'open_sign_in_page_again', undefined],
    ['copySignInLink', () => api.copySignInLink(), 'copy_sign_in_link', undefined],
    ['chooseRole', () => api.chooseRole('555254242105'), 'choose_role', { roleId: '555254242105' }],
    ['changeRole', () => api.changeRole(), 'change_role', undefined],
    ['keepCurrentRole', () => api.keepCurrentRole(), 'keep_current_role', undefined],
    ['signOut', () => api.signOut(), 'sign_out', undefined],
    ['staySignedIn', () => api.staySignedIn(), 'stay_signed_in', undefined],
    ['noteActivity', () => api.noteActivity(), 'note_activity', undefined],
    ['useProfile', () => api.useProfile('int'), 'use_profile', { name: 'int' }],
    ['setTestersView', () => api.setTestersView(true), 'set_testers_view', { enabled: true }],
    ['dismissNotice', () => api.dismissNotice(), 'dismiss_notice', undefined],
    ['copyAccessToken', () => api.copyAccessToken(), 'copy_access_token', undefined],
    ['saveProfile', () => api.saveProfile(profile), 'save_profile', { profile }],
    ['removeProfile', () => api.removeProfile('ward-test'), 'remove_profile', { name: 'ward-test' }],
    ['storeCredential', () => api.storeCredential('int', 's3cret'), 'store_credential', { name: 'int', value: 's3cret' }],
  ];

  it.each(cases)('%s calls %s with camelCase arguments', async (_label, run, command, args) => {
    invokeMock.mockResolvedValue(null);
    await run();
    expect(invokeMock).toHaveBeenCalledWith(command, args);
  });

  it('currentState returns the state and rejects a foreign shape', async () => {
    invokeMock.mockResolvedValueOnce(HOME);
    await expect(api.currentState()).resolves.toBe(HOME);
    invokeMock.mockResolvedValueOnce({ screen: 'home' });
    await expect(api.currentState()).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('exportSignInRecord returns the path, or null when the save was cancelled', async () => {
    invokeMock.mockResolvedValueOnce('/home/flo/careid-record.json');
    await expect(api.exportSignInRecord()).resolves.toBe('/home/flo/careid-record.json');
    invokeMock.mockResolvedValueOnce(null);
    await expect(api.exportSignInRecord()).resolves.toBeNull();
    expect(invokeMock).toHaveBeenCalledWith('export_sign_in_record', undefined);
  });

  it('checkProfile returns the doctor lines', async () => {
    const lines = [{ name: 'discovery', status: 'pass', detail: 'fetched in 40 ms' }];
    invokeMock.mockResolvedValueOnce(lines);
    await expect(api.checkProfile('int')).resolves.toEqual(lines);
    expect(invokeMock).toHaveBeenCalledWith('check_profile', { name: 'int' });
  });
});

describe('onStateChanged', () => {
  it('listens to state-changed and passes on well-formed payloads only', async () => {
    const unlisten = vi.fn();
    listenMock.mockResolvedValue(unlisten);
    const handler = vi.fn();

    await expect(api.onStateChanged(handler)).resolves.toBe(unlisten);
    expect(listenMock.mock.calls[0]?.[0]).toBe('state-changed');
    const deliver = listenMock.mock.calls[0]?.[1];
    deliver?.({ event: 'state-changed', id: 1, payload: HOME });
    deliver?.({ event: 'state-changed', id: 2, payload: { nonsense: true } });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler).toHaveBeenCalledWith(HOME);
  });
});

describe('describeError', () => {
  it('chooses the sentence by code, not by message', () => {
    const a = describeError(new ApiError('ipc_failed', 'one message'));
    const b = describeError(new ApiError('ipc_failed', 'a different message'));
    expect(a).toBe(b);
    expect(a).toBe('Sorry, this screen could not talk to careid. Close careid and open it again.');
  });

  it('falls back to a generic sentence for unknown codes and non-API errors', () => {
    const generic =
      'Sorry, something went wrong in careid. Try again. If it keeps happening, contact your IT service desk.';
    expect(describeError(new ApiError('not_a_known_code', 'x'))).toBe(generic);
    expect(describeError(new TypeError('boom'))).toBe(generic);
    expect(describeError(undefined)).toBe(generic);
  });

  it('never shows the raw message to the user', () => {
    expect(describeError(new ApiError('whatever', 'secret internal detail'))).not.toContain('secret internal detail');
  });
});
