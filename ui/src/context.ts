// What every screen receives: the latest AppState, the UI's own memory, and the ways to act on both.
import type { AppState, AttemptSummaryView, AttemptView, DoctorLine, RunPlansView } from './generated/ipc';
import type { ErrorClass } from './api';

export type Page = 'main' | 'profiles' | 'help' | 'history' | 'runs';
export type Tab = 'session' | 'testers';

/** The testers' overrides as typed, kept as strings so half-typed values survive a re-render. */
export interface OverrideDraft {
  acrValues: string;
  prompt: string;
  maxAge: string;
  scopes: string;
}

/** The profile form as typed. */
export interface ProfileDraft {
  name: string;
  issuer: string;
  clientId: string;
  clientAuth: string;
  assertionAlgorithm: string;
  scopes: string;
  acrValues: string;
  prompt: string;
  maxAge: string;
  roleSelection: string;
  redirectPorts: string;
  inactivityMinutes: string;
  absoluteHours: string;
}

/** State that belongs to the UI alone: navigation, drafts and short-lived confirmations. Memory only. */
export interface UiMemory {
  page: Page;
  tab: Tab;
  overrides: OverrideDraft;
  roleSearch: string;
  roleChoice: string | null;
  roleError: boolean;
  linkCopied: boolean;
  tokenCopied: boolean;
  /** undefined: nothing exported yet; null: the user cancelled the save dialog. */
  exportResult: string | null | undefined;
  /** A command's rejection, shown like a notice until dismissed or the screen changes; its reference and time made here. */
  localError: { code: string; class: ErrorClass; message: string; reference: string; at: number } | null;
  /** The reference of the notice whose technical detail "Copy details" just copied. */
  detailsCopied: string | null;
  /** The inactivity warning's last announcement (seconds left), for the warning that ends at `idleEndsAt`. */
  inactivityAnnounced: { idleEndsAt: number; at: number } | null;
  /** The profile the form edits; null adds a new one. */
  editing: string | null;
  draft: ProfileDraft;
  formErrors: Partial<Record<keyof ProfileDraft, string>>;
  confirmRemove: string | null;
  doctor: Record<string, DoctorLine[]>;
  credentialStoredFor: string | null;
  /** Set after a successful store so the secret field comes back empty. */
  clearCredential: boolean;
  profileSaved: string | null;
  /** The history page: the list as last fetched (null until it comes), the attempt open, the last export. */
  history: HistoryMemory;
  /** The Runs page: the plans as last fetched (null until they come), the label typed, the last export. */
  runs: RunsMemory;
}

export interface HistoryMemory {
  list: AttemptSummaryView[] | null;
  open: AttemptView | null;
  /** undefined: nothing exported yet; null: the user cancelled the save dialog. */
  exported: string | null | undefined;
  /** The attempts ticked for export. */
  selected: string[];
  /** How many attempts are kept, as read; the field as typed; whether it was just saved. */
  keep: number | null;
  keepDraft: string;
  keepError: string | null;
  keepSaved: boolean;
}

export function emptyHistoryMemory(): HistoryMemory {
  return { list: null, open: null, exported: undefined, selected: [], keep: null, keepDraft: '', keepError: null, keepSaved: false };
}

export interface RunsMemory {
  plans: RunPlansView | null;
  label: string;
  /** undefined: nothing exported yet; null: the user cancelled the save dialog. */
  exported: string | null | undefined;
}

export function emptyRunsMemory(): RunsMemory {
  return { plans: null, label: '', exported: undefined };
}

export interface Ctx {
  readonly state: AppState;
  readonly ui: UiMemory;
  go(page: Page): void;
  setTab(tab: Tab): void;
  /** Redraws from the same AppState after the UI's memory changed. */
  rerender(): void;
  /** Runs a command; a rejection becomes the local error notice. */
  run<T>(action: () => Promise<T>, onDone?: (value: T) => void): void;
  /** Registers a function the once-a-second timer calls with the time in Unix seconds. */
  onTick(fn: (now: number) => void): void;
}

export function emptyProfileDraft(): ProfileDraft {
  return {
    name: '',
    issuer: '',
    clientId: '',
    clientAuth: 'none',
    assertionAlgorithm: '',
    scopes: 'openid profile email nationalrbacaccess',
    acrValues: '',
    prompt: '',
    maxAge: '',
    roleSelection: 'app',
    redirectPorts: '',
    inactivityMinutes: '15',
    absoluteHours: '12',
  };
}

export function initialUiMemory(): UiMemory {
  return {
    page: 'main',
    tab: 'session',
    overrides: { acrValues: '', prompt: '', maxAge: '', scopes: '' },
    roleSearch: '',
    roleChoice: null,
    roleError: false,
    linkCopied: false,
    tokenCopied: false,
    exportResult: undefined,
    localError: null,
    detailsCopied: null,
    inactivityAnnounced: null,
    editing: null,
    draft: emptyProfileDraft(),
    formErrors: {},
    confirmRemove: null,
    doctor: {},
    credentialStoredFor: null,
    clearCredential: false,
    profileSaved: null,
    history: emptyHistoryMemory(),
    runs: emptyRunsMemory(),
  };
}
