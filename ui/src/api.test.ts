// Tests for the Rust bridge: command names, response checking and error mapping.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import { ApiError, appInfo, describeError } from './api';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
const invokeMock = vi.mocked(invoke);

beforeEach(() => {
  invokeMock.mockReset();
});

describe('appInfo', () => {
  it('calls the app_info command and returns its answer', async () => {
    invokeMock.mockResolvedValue({ name: 'careid', version: '0.1.0', buildProfile: 'release' });

    await expect(appInfo()).resolves.toEqual({ name: 'careid', version: '0.1.0', buildProfile: 'release' });
    expect(invokeMock).toHaveBeenCalledTimes(1);
    expect(invokeMock.mock.calls[0]?.[0]).toBe('app_info');
  });

  it('turns a { code, message } rejection from Rust into an ApiError with that code', async () => {
    invokeMock.mockRejectedValue({ code: 'some_rust_code', message: 'detail for logs' });

    const error = await appInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'some_rust_code', message: 'detail for logs' });
  });

  it('reports an unstructured rejection as ipc_failed', async () => {
    invokeMock.mockRejectedValue('command app_info not found');

    await expect(appInfo()).rejects.toMatchObject({ code: 'ipc_failed', message: 'command app_info not found' });
  });

  it('rejects an answer in the wrong shape (snake_case) as bad_response', async () => {
    invokeMock.mockResolvedValue({ name: 'careid', version: '0.1.0', build_profile: 'debug' });

    await expect(appInfo()).rejects.toMatchObject({ code: 'bad_response' });
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
