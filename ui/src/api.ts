// The only module that talks to the Rust side: typed wrappers around Tauri's invoke.
import { invoke } from '@tauri-apps/api/core';

/** Mirrors `AppInfo` in src-tauri/src/ipc.rs (serialised camelCase). */
export interface AppInfo {
  name: string;
  version: string;
  buildProfile: 'debug' | 'release';
}

/** Every command name the UI may call; keeps stray strings out of app code. */
type Command = 'app_info';

/** Codes raised on this side of the bridge; Rust adds its own as it defines them. */
export const UI_ERROR_CODES = {
  /** invoke rejected without a `{ code, message }` body: not running inside careid, or the command is not registered. */
  ipcFailed: 'ipc_failed',
  /** Rust answered, but not in the shape this UI was built for. */
  badResponse: 'bad_response',
} as const;

/** A failure reported across the bridge. UI code branches on `code`; `message` is for logs only. */
export class ApiError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

const GENERIC_SENTENCE =
  'Sorry, something went wrong in careid. Try again. If it keeps happening, contact your IT service desk.';

const SENTENCES: Readonly<Record<string, string>> = {
  [UI_ERROR_CODES.ipcFailed]: 'Sorry, this screen could not talk to careid. Close careid and open it again.',
  [UI_ERROR_CODES.badResponse]:
    'Sorry, careid gave an answer this screen does not understand. Contact your IT service desk.',
};

/** A sentence fit to show a member of staff, chosen by error code, never by message text. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return SENTENCES[error.code] ?? GENERIC_SENTENCE;
  return GENERIC_SENTENCE;
}

/** Name, version and build profile of the running app. */
export async function appInfo(): Promise<AppInfo> {
  const info = await call('app_info');
  if (!isAppInfo(info)) {
    throw new ApiError(UI_ERROR_CODES.badResponse, 'app_info returned an unexpected shape');
  }
  return info;
}

async function call(command: Command, args?: Record<string, unknown>): Promise<unknown> {
  try {
    return await invoke<unknown>(command, args);
  } catch (e) {
    throw toApiError(e);
  }
}

function toApiError(e: unknown): ApiError {
  if (isRecord(e) && typeof e.code === 'string' && typeof e.message === 'string') {
    return new ApiError(e.code, e.message);
  }
  return new ApiError(UI_ERROR_CODES.ipcFailed, e instanceof Error ? e.message : String(e));
}

// A cheap guard so a Rust/TS mismatch shows an error instead of "Version undefined".
function isAppInfo(v: unknown): v is AppInfo {
  return (
    isRecord(v) &&
    typeof v.name === 'string' &&
    typeof v.version === 'string' &&
    (v.buildProfile === 'debug' || v.buildProfile === 'release')
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
