// Home screen: NHS.UK-styled page markup and the version/error slots it fills in.
import type { AppInfo } from './api';
import { describeError } from './api';

// Static markup only: nothing from Rust or the user is interpolated here, so
// innerHTML cannot inject anything. Dynamic text goes in through textContent.
const HOME_HTML = `
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="nhsuk-header" role="banner">
  <div class="nhsuk-header__container nhsuk-width-container">
    <div class="nhsuk-header__service">
      <span class="nhsuk-header__service-name">careid</span>
    </div>
  </div>
</header>
<div class="careid-page__body">
  <div class="nhsuk-width-container">
    <main class="nhsuk-main-wrapper" id="maincontent">
      <h1>careid</h1>
      <p class="nhsuk-lede-text">Sign in to NHS Care Identity Service 2 (CIS2) from your desktop, with your smartcard, security key or Windows Hello.</p>
      <p class="nhsuk-error-message" data-testid="app-error" role="alert" hidden></p>
    </main>
  </div>
</div>
<footer class="nhsuk-footer" role="contentinfo">
  <div class="nhsuk-width-container">
    <div class="nhsuk-footer__meta">
      <p class="nhsuk-body-s" id="app-version" data-testid="app-version">Loading version…</p>
    </div>
  </div>
</footer>
`;

/** Replaces the contents of `root` with the home screen. */
export function renderHome(root: HTMLElement): void {
  document.title = 'careid';
  root.innerHTML = HOME_HTML;
}

/** Shows which build this is, e.g. "Version 0.1.0 (debug build)". */
export function showAppInfo(root: HTMLElement, info: AppInfo): void {
  slot(root, 'app-version').textContent = `Version ${info.version} (${info.buildProfile} build)`;
}

/** Shows a plain-English sentence for `error`; the alert role makes screen readers announce it. */
export function showError(root: HTMLElement, error: unknown): void {
  slot(root, 'app-version').textContent = 'Version unknown';
  const alert = slot(root, 'app-error');
  alert.textContent = describeError(error);
  alert.hidden = false;
}

function slot(root: HTMLElement, testId: string): HTMLElement {
  const el = root.querySelector<HTMLElement>(`[data-testid="${testId}"]`);
  if (!el) throw new Error(`home screen is missing [data-testid="${testId}"]; call renderHome first`);
  return el;
}
