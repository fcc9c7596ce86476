// Draws the whole window from the latest AppState: page frame, screen dispatch, focus and the 1-second timer.
import type { AppState, Notice, Screen } from './generated/ipc';
import * as api from './api';
import { ApiError, UI_ERROR_CODES } from './api';
import { type Ctx, type Page, type Tab, type UiMemory, emptyHistoryMemory, emptyRunsMemory, initialUiMemory } from './context';
import { append, h, navLink } from './dom';
import { environmentTag } from './environment';
import { newReference, renderNotice } from './notices';
import { renderHelp } from './screens/help';
import { renderHistory } from './screens/history';
import { renderRuns } from './screens/runs';
import { renderHome } from './screens/home';
import { renderNoRoles } from './screens/no-roles';
import { renderProfiles } from './screens/profiles';
import { renderRestoring } from './screens/restoring';
import { renderChooseRole } from './screens/roles';
import { renderSignedIn } from './screens/signed-in';
import { renderWaiting } from './screens/waiting';
import { nowSeconds } from './time';

/** One window's UI: the AppState it last drew and its own memory (page, tab, drafts). */
export class App implements Ctx {
  readonly ui: UiMemory = initialUiMemory();
  private current: AppState | null = null;
  private lastKey: string | null = null;
  private lastNoticeId: string | null = null;
  private tickers: Array<(now: number) => void> = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly disposers: Array<() => void> = [];

  constructor(private readonly root: HTMLElement) {}

  get state(): AppState {
    if (!this.current) throw new Error('render called before any state arrived');
    return this.current;
  }

  /** Draws `state`; called for current_state's answer and every state-changed event. */
  render(state: AppState): void {
    this.current = state;
    this.draw();
  }

  rerender(): void {
    if (this.current) this.draw();
  }

  go(page: Page): void {
    this.ui.page = page;
    // The history is read afresh each time its page opens.
    if (page === 'history') this.ui.history = emptyHistoryMemory();
    // So are the plans, each time the Runs page opens.
    if (page === 'runs') this.ui.runs = emptyRunsMemory();
    this.ui.confirmRemove = null;
    this.rerender();
  }

  setTab(tab: Tab): void {
    this.ui.tab = tab;
    this.rerender();
  }

  run<T>(action: () => Promise<T>, onDone?: (value: T) => void): void {
    action().then(
      (value) => onDone?.(value),
      (e: unknown) => {
        const error = e instanceof ApiError ? e : new ApiError(UI_ERROR_CODES.ipcFailed, String(e));
        this.ui.localError = {
          code: error.code,
          class: error.errorClass,
          message: error.message,
          reference: newReference(),
          at: Date.now(),
        };
        this.rerender();
      },
    );
  }

  onTick(fn: (now: number) => void): void {
    this.tickers.push(fn);
  }

  /** Runs `fn` when the window's UI is torn down (listeners added from outside). */
  addDisposer(fn: () => void): void {
    this.disposers.push(fn);
  }

  /** Stops the timer and outside listeners; for tests and for tearing the window down. */
  dispose(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const fn of this.disposers.splice(0)) fn();
  }

  private draw(): void {
    const state = this.state;
    const key = this.screenKey(state);
    const sameScreen = key === this.lastKey;
    if (!sameScreen) this.forgetScreenMemory(key);

    const kept = sameScreen ? this.captureLiveState() : null;
    this.tickers = [];
    this.root.replaceChildren(...this.frame(state, key));
    this.tick();
    this.startTimer();

    const noticeBox = this.root.querySelector<HTMLElement>('[data-testid="notice"]');
    const noticeId = noticeBox ? `${noticeBox.dataset.noticeCode}|${noticeBox.dataset.noticeSource}` : null;
    const newError = noticeBox?.classList.contains('nhsuk-error-summary') && noticeId !== this.lastNoticeId;
    this.lastNoticeId = noticeId;
    this.lastKey = key;

    if (kept) this.restoreLiveState(kept);
    // A new error goes first, so screen readers hear it; otherwise a new screen announces its heading,
    // and an update to the same screen leaves focus where the user had it.
    if (newError && noticeBox) noticeBox.focus();
    else if (!sameScreen) this.root.querySelector<HTMLElement>('h1')?.focus();
  }

  private screenKey(state: AppState): string {
    return this.ui.page === 'main' ? `main:${state.screen.kind}` : this.ui.page;
  }

  // Drafts and confirmations belong to the screen they were made on.
  private forgetScreenMemory(key: string): void {
    const ui = this.ui;
    ui.localError = null;
    ui.roleSearch = '';
    ui.roleChoice = null;
    ui.roleError = false;
    ui.linkCopied = false;
    if (!key.startsWith('main:signedIn')) {
      ui.tokenCopied = false;
      ui.exportResult = undefined;
    }
    ui.confirmRemove = null;
    ui.credentialStoredFor = null;
    ui.profileSaved = null;
  }

  private frame(state: AppState, key: string): Node[] {
    const page = this.ui.page;
    const screenName = page === 'main' ? state.screen.kind : page;
    const main = h('main', {
      class: 'nhsuk-main-wrapper careid-main',
      id: 'maincontent',
      'data-testid': 'screen',
      'data-screen': screenName,
    });
    const notice = this.noticeBox(state);
    if (notice) main.append(notice);
    append(main, ...this.screen(state));
    document.title = `${main.querySelector('h1')?.textContent ?? 'careid'} – careid`;
    main.dataset.key = key;

    const skip = h('a', { class: 'nhsuk-skip-link', href: '#maincontent' }, 'Skip to main content');
    skip.addEventListener('click', (event) => {
      event.preventDefault();
      this.root.querySelector<HTMLElement>('h1')?.focus();
    });
    return [
      skip,
      this.header(state),
      h('div', { class: 'careid-page__body' }, h('div', { class: 'nhsuk-width-container' }, main)),
      this.footer(state),
    ];
  }

  private screen(state: AppState): Node[] {
    if (this.ui.page === 'profiles') return renderProfiles(this);
    if (this.ui.page === 'help') return renderHelp(this);
    if (this.ui.page === 'history') return renderHistory(this);
    if (this.ui.page === 'runs') return renderRuns(this);
    const screen = state.screen;
    switch (screen.kind) {
      case 'restoring':
        return renderRestoring();
      case 'home':
        return renderHome(this);
      case 'waiting':
        return renderWaiting(this, screen);
      case 'chooseRole':
        return renderChooseRole(this, screen);
      case 'noRoles':
        return renderNoRoles(this, screen);
      case 'signedIn':
        return renderSignedIn(this, screen);
    }
  }

  private noticeBox(state: AppState): HTMLElement | null {
    const local = this.ui.localError;
    const notice: Notice | null = local
      ? {
          code: local.code,
          class: local.class === 'ipc' ? 'other' : local.class,
          detail: local.message || null,
          providerError: null,
          providerDescription: null,
          acrValues: null,
          reference: local.reference,
          at: local.at,
        }
      : state.notice;
    if (!notice) return null;
    const box = renderNotice(notice, state.profile, {
      app: state.app,
      onDismiss: local
        ? () => {
            this.ui.localError = null;
            this.rerender();
          }
        : () => this.run(() => api.dismissNotice()),
      onCopy: (text) =>
        this.run(
          () => api.copyNoticeDetails(text),
          () => {
            this.ui.detailsCopied = notice.reference;
            this.rerender();
          },
        ),
      copied: this.ui.detailsCopied === notice.reference,
    });
    // Each notice has its own reference, so the same error twice is still news.
    box.dataset.noticeSource = `${local ? 'ui' : 'rust'}:${notice.reference}`;
    return box;
  }

  // NHS header: the service name with the environment's tag on every screen, and, once CIS2 knows
  // who the user is, the account section with their name, role and organisation. Signing out is
  // on the screen itself, once, where it can say that the browser opens.
  private header(state: AppState): HTMLElement {
    const container = h(
      'div',
      { class: 'nhsuk-header__container nhsuk-width-container' },
      h(
        'div',
        { class: 'nhsuk-header__service careid-header__service' },
        h('span', { class: 'nhsuk-header__service-name' }, 'careid'),
        environmentTag(state.profile),
      ),
    );
    const account = accountSection(state.screen);
    if (account) container.append(account);
    return h('header', { class: 'nhsuk-header', role: 'banner' }, container);
  }

  private footer(state: AppState): HTMLElement {
    const link = (label: string, page: Page, testId: string) =>
      h(
        'li',
        { class: 'nhsuk-footer__list-item' },
        navLink(label, () => this.go(page), { class: 'nhsuk-footer__list-item-link careid-target', 'data-testid': testId }),
      );
    return h(
      'footer',
      { class: 'nhsuk-footer', role: 'contentinfo' },
      h(
        'div',
        { class: 'nhsuk-width-container' },
        h(
          'div',
          { class: 'nhsuk-footer__meta' },
          h('h2', { class: 'nhsuk-u-visually-hidden' }, 'Support links'),
          h(
            'ul',
            { class: 'nhsuk-footer__list' },
            link('Help', 'help', 'help-link'),
            link('Profiles', 'profiles', 'profiles-link'),
            // For testers: every attempt, success or failure.
            state.preferences.testersView ? link('Sign-in history', 'history', 'history-link') : null,
            // A run stays reachable while it is under way, whatever the view.
            state.preferences.testersView || state.run ? link('Runs', 'runs', 'runs-link') : null,
          ),
          h(
            'p',
            { class: 'nhsuk-body-s', id: 'app-version', 'data-testid': 'app-version' },
            `Version ${state.app.version} (${state.app.buildProfile} build)`,
          ),
        ),
      ),
    );
  }

  private tick(): void {
    const now = nowSeconds();
    for (const fn of this.tickers) fn(now);
  }

  private startTimer(): void {
    if (this.timer === null) this.timer = setInterval(() => this.tick(), 1000);
  }

  // What a redraw would otherwise lose: focus, caret, open expanders, and the secret being typed
  // (kept only in the DOM, never in the UI's memory).
  private captureLiveState(): LiveState {
    const active = document.activeElement;
    const focus = active instanceof HTMLElement && this.root.contains(active) ? locate(this.root, active) : null;
    const caret =
      active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement
        ? safeSelection(active)
        : null;
    const open = [...this.root.querySelectorAll<HTMLDetailsElement>('details[id]')].filter((d) => d.open).map((d) => d.id);
    const secret = this.root.querySelector<HTMLTextAreaElement>('#credential-input')?.value ?? '';
    return { focus, caret, open, secret };
  }

  private restoreLiveState(kept: LiveState): void {
    for (const id of kept.open) {
      const d = document.getElementById(id);
      if (d instanceof HTMLDetailsElement && this.root.contains(d)) d.open = true;
    }
    const secretField = this.root.querySelector<HTMLTextAreaElement>('#credential-input');
    if (secretField && !this.ui.clearCredential) secretField.value = kept.secret;
    this.ui.clearCredential = false;
    if (!kept.focus) return;
    const target = find(this.root, kept.focus);
    if (!target) return;
    target.focus();
    if (kept.caret && (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement)) {
      try {
        target.setSelectionRange(kept.caret[0], kept.caret[1]);
      } catch {
        // Number and similar inputs have no caret to restore.
      }
    }
  }
}

/** The header's account section: who CIS2 signed in, and the role they work in (none before one is chosen). */
function accountSection(screen: Screen): HTMLElement | null {
  if (screen.kind !== 'signedIn' && screen.kind !== 'chooseRole' && screen.kind !== 'noRoles') return null;
  const items = [
    h(
      'li',
      { class: 'nhsuk-header__account-item' },
      userIcon(),
      h('span', { 'data-testid': 'header-user-name' }, screen.user.label),
    ),
  ];
  if (screen.kind === 'signedIn') {
    const role = screen.role;
    items.push(
      h(
        'li',
        { class: 'nhsuk-header__account-item', 'data-testid': 'header-role-item' },
        role
          ? h(
              'span',
              {},
              h('span', { 'data-testid': 'header-role' }, role.name),
              ', ',
              h('span', { 'data-testid': 'header-organisation' }, `${role.organisation.name} (${role.organisation.code})`),
            )
          : h('span', { 'data-testid': 'header-role' }, 'No role selected'),
      ),
    );
  }
  return h(
    'nav',
    { class: 'nhsuk-header__account careid-account', 'aria-label': 'Account' },
    h('ul', { class: 'nhsuk-header__account-list' }, ...items),
  );
}

// NHS.UK frontend's "user" icon, drawn here because its macros are Nunjucks.
function userIcon(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [k, v] of Object.entries({
    class: 'nhsuk-icon nhsuk-icon--user',
    viewBox: '0 0 24 24',
    width: '16',
    height: '16',
    focusable: 'false',
    'aria-hidden': 'true',
  })) {
    svg.setAttribute(k, v);
  }
  const path = document.createElementNS(ns, 'path');
  path.setAttribute(
    'd',
    'M12 1a11 11 0 1 1 0 22 11 11 0 0 1 0-22Zm0 2a9 9 0 0 0-5 16.5V18a4 4 0 0 1 4-4h2a4 4 0 0 1 4 4v1.5A9 9 0 0 0 12 3Zm0 3a3.5 3.5 0 1 1-3.5 3.5A3.4 3.4 0 0 1 12 6Z',
  );
  svg.append(path);
  return svg;
}

interface LiveState {
  focus: Locator | null;
  caret: [number, number] | null;
  open: string[];
  secret: string;
}

type Locator = { id: string } | { testId: string; index: number } | null;

function locate(root: HTMLElement, el: HTMLElement): Locator {
  if (el.id) return { id: el.id };
  const testId = el.dataset.testid;
  if (testId) {
    return { testId, index: withTestId(root, testId).indexOf(el) };
  }
  return null;
}

function find(root: HTMLElement, loc: NonNullable<Locator>): HTMLElement | null {
  if ('id' in loc) {
    const el = document.getElementById(loc.id);
    return el && root.contains(el) ? el : null;
  }
  return withTestId(root, loc.testId)[loc.index] ?? null;
}

// Compares attribute values directly, so no selector escaping is needed.
function withTestId(root: HTMLElement, testId: string): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>('[data-testid]')].filter((el) => el.dataset.testid === testId);
}

function safeSelection(el: HTMLInputElement | HTMLTextAreaElement): [number, number] | null {
  try {
    return el.selectionStart === null || el.selectionEnd === null ? null : [el.selectionStart, el.selectionEnd];
  } catch {
    return null;
  }
}

const apps = new WeakMap<HTMLElement, App>();

/** Renders `state` into `root`, keeping one App (and so one UI memory) per root. */
export function render(root: HTMLElement, state: AppState): App {
  let app = apps.get(root);
  if (!app) {
    app = new App(root);
    apps.set(root, app);
  }
  app.render(state);
  return app;
}

