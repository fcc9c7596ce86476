// The only module that talks to the Rust side: typed wrappers around Tauri's invoke and the state event.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  AppState,
  AttemptSummaryView,
  AttemptView,
  Command,
  DoctorLine,
  ExportKind,
  LoginOverrides,
  NoticeClass,
  ProfileInput,
  RunAnswer,
  RunPlansView,
  RunPlanView,
  RunReportKind,
} from './generated/ipc';

/** A failure's class: Rust's (`NoticeClass`), or `ipc` for a failure on this side of the bridge. */
export type ErrorClass = NoticeClass | 'ipc';

/** The one event Rust emits: the whole state, after every change. */
const STATE_CHANGED = 'state-changed';

/** Codes raised on this side of the bridge; Rust adds its own as it defines them. */
export const UI_ERROR_CODES = {
  /** invoke rejected without a `{ code, message }` body: not running inside careid, or the command is not registered. */
  ipcFailed: 'ipc_failed',
  /** Rust answered, but not in the shape this UI was built for. */
  badResponse: 'bad_response',
} as const;

/** A failure reported across the bridge. UI code branches on `code` (then `errorClass`); `message` is for logs only. */
export class ApiError extends Error {
  readonly code: string;
  /** CommandError's `class` (e.g. `unreachable`, `keychain`); `ipc` for failures on this side. */
  readonly errorClass: ErrorClass;

  constructor(code: string, message: string, errorClass: ErrorClass = 'ipc') {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.errorClass = errorClass;
  }
}

/** The state to render at start; afterwards `onStateChanged` delivers every change. */
export async function currentState(): Promise<AppState> {
  const state = await call('current_state');
  if (!isAppState(state)) {
    throw new ApiError(UI_ERROR_CODES.badResponse, 'current_state returned an unexpected shape');
  }
  return state;
}

/**
 * Calls `handler` with each `state-changed` payload. Resolves to a function that stops listening.
 * A payload in the wrong shape is dropped rather than rendered half-understood.
 */
export async function onStateChanged(handler: (state: AppState) => void): Promise<() => void> {
  try {
    return await listen<unknown>(STATE_CHANGED, (event) => {
      if (isAppState(event.payload)) handler(event.payload);
    });
  } catch (e) {
    throw toApiError(e);
  }
}

/** Starts a sign-in; the screen becomes `waiting` by event. `null` uses the profile's own settings. */
export async function signIn(overrides: LoginOverrides | null): Promise<void> {
  await call('sign_in', { overrides });
}

export async function cancelSignIn(): Promise<void> {
  await call('cancel_sign_in');
}

export async function openSignInPageAgain(): Promise<void> {
  await call('open_sign_in_page_again');
}

/** Rust writes the clipboard, so the sign-in link never passes through the UI. */
export async function copySignInLink(): Promise<void> {
  await call('copy_sign_in_link');
}

export async function chooseRole(roleId: string): Promise<void> {
  await call('choose_role', { roleId });
}

export async function changeRole(): Promise<void> {
  await call('change_role');
}

export async function keepCurrentRole(): Promise<void> {
  await call('keep_current_role');
}

export async function signOut(): Promise<void> {
  await call('sign_out');
}

export async function staySignedIn(): Promise<void> {
  await call('stay_signed_in');
}

export async function noteActivity(): Promise<void> {
  await call('note_activity');
}

export async function useProfile(name: string): Promise<void> {
  await call('use_profile', { name });
}

export async function setTestersView(enabled: boolean): Promise<void> {
  await call('set_testers_view', { enabled });
}

export async function dismissNotice(): Promise<void> {
  await call('dismiss_notice');
}

/** A notice's technical detail (never a token: the UI holds none) to the clipboard; Rust writes it. */
export async function copyNoticeDetails(text: string): Promise<void> {
  await call('copy_notice_details', { text });
}

/** Rust writes the clipboard: the token never reaches the UI. */
export async function copyAccessToken(): Promise<void> {
  await call('copy_access_token');
}

/** The path written, or null when the user cancelled the save dialog. */
/** Every sign-in attempt, newest first (claims and checks, never a token). */
export async function listAttempts(): Promise<AttemptSummaryView[]> {
  const list = await call('list_attempts');
  if (!Array.isArray(list)) throw new ApiError(UI_ERROR_CODES.badResponse, 'list_attempts returned an unexpected shape');
  return list as AttemptSummaryView[];
}

/** How many attempts the history keeps. */
export async function historyKeep(): Promise<number> {
  const keep = await call('history_keep');
  if (typeof keep !== 'number') throw new ApiError(UI_ERROR_CODES.badResponse, 'history_keep returned an unexpected shape');
  return keep;
}

export async function setHistoryKeep(keep: number): Promise<void> {
  await call('set_history_keep', { keep });
}

export async function attemptDetails(id: string): Promise<AttemptView> {
  const view = await call('attempt_details', { id });
  if (typeof view !== 'object' || view === null || !('checks' in view)) {
    throw new ApiError(UI_ERROR_CODES.badResponse, 'attempt_details returned an unexpected shape');
  }
  return view as AttemptView;
}

/** The plans the Runs screen offers: the examples, the plans folder's, the ones opened. */
export async function listRunPlans(): Promise<RunPlansView> {
  const plans = await call('list_run_plans');
  if (typeof plans !== 'object' || plans === null || !('plans' in plans)) {
    throw new ApiError(UI_ERROR_CODES.badResponse, 'list_run_plans returned an unexpected shape');
  }
  return plans as RunPlansView;
}

/** A plan file the user chooses in the open dialog; null when they cancelled. */
export async function openRunPlan(): Promise<RunPlanView | null> {
  const plan = await call('open_run_plan');
  if (plan !== null && (typeof plan !== 'object' || !('id' in plan))) {
    throw new ApiError(UI_ERROR_CODES.badResponse, 'open_run_plan returned an unexpected shape');
  }
  return plan as RunPlanView | null;
}

/** Runs a listed plan; its progress comes with the state. */
export async function startRun(plan: string, label: string | null): Promise<void> {
  await call('start_run', { plan, label });
}

export async function answerRunStep(answer: RunAnswer): Promise<void> {
  await call('answer_run_step', { answer });
}

export async function cancelRun(): Promise<void> {
  await call('cancel_run');
}

export async function closeRun(): Promise<void> {
  await call('close_run');
}

/** Saves the finished run's report where the user chooses; the path, or null when they cancelled. */
export async function exportRunReport(kind: RunReportKind): Promise<string | null> {
  return savedPath(await call('export_run_report', { kind }), 'export_run_report');
}

/** Saves the attempts where the user chooses; the path, or null when they cancelled. */
export async function exportAttempts(ids: string[], kind: ExportKind): Promise<string | null> {
  return savedPath(await call('export_attempts', { ids, kind }), 'export_attempts');
}

/** Signs in again on the attempt's profile with what it sent. */
export async function signInAgain(id: string): Promise<void> {
  await call('sign_in_again', { id });
}

function savedPath(path: unknown, command: string): string | null {
  if (path !== null && typeof path !== 'string') {
    throw new ApiError(UI_ERROR_CODES.badResponse, `${command} returned an unexpected shape`);
  }
  return path;
}

export async function exportSignInRecord(): Promise<string | null> {
  return savedPath(await call('export_sign_in_record'), 'export_sign_in_record');
}

export async function saveProfile(profile: ProfileInput): Promise<void> {
  await call('save_profile', { profile });
}

export async function removeProfile(name: string): Promise<void> {
  await call('remove_profile', { name });
}

/** Hands a client secret or PEM private key to the keychain; the UI must not keep `value` afterwards. */
export async function storeCredential(name: string, value: string): Promise<void> {
  await call('store_credential', { name, value });
}

export async function checkProfile(name: string): Promise<DoctorLine[]> {
  const lines = await call('check_profile', { name });
  if (!Array.isArray(lines) || !lines.every(isDoctorLine)) {
    throw new ApiError(UI_ERROR_CODES.badResponse, 'check_profile returned an unexpected shape');
  }
  return lines;
}

/** `Command` is generated from the shell's one list of registered commands: any other name does not type-check. */
async function call(command: Command, args?: Record<string, unknown>): Promise<unknown> {
  try {
    return await invoke<unknown>(command, args);
  } catch (e) {
    throw toApiError(e);
  }
}

function toApiError(e: unknown): ApiError {
  if (isRecord(e) && typeof e.code === 'string' && typeof e.message === 'string') {
    return new ApiError(e.code, e.message, typeof e.class === 'string' ? (e.class as NoticeClass) : 'ipc');
  }
  return new ApiError(UI_ERROR_CODES.ipcFailed, e instanceof Error ? e.message : String(e));
}

// Checks the parts every screen reads; the generated types cover the rest at compile time.
function isAppState(v: unknown): v is AppState {
  return (
    isRecord(v) &&
    isRecord(v.app) &&
    isRecord(v.profile) &&
    Array.isArray(v.profiles) &&
    isRecord(v.screen) &&
    typeof v.screen.kind === 'string' &&
    isRecord(v.preferences) &&
    isRecord(v.mockGuide)
  );
}

function isDoctorLine(v: unknown): v is DoctorLine {
  return isRecord(v) && typeof v.name === 'string' && typeof v.status === 'string' && typeof v.detail === 'string';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
