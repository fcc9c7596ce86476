// Entry point: loads the styles, renders the home screen and fills it from Rust.
import './styles.css';
import { SkipLink } from 'nhsuk-frontend';
import { appInfo } from './api';
import { renderHome, showAppInfo, showError } from './home';

/** Renders the home screen into `root` and asks Rust which build is running. */
export async function start(root: HTMLElement): Promise<void> {
  // NHS.UK frontend gates its component scripts on these classes; its own page
  // template sets them with an inline script, which our CSP forbids.
  document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
  renderHome(root);
  try {
    // Moves keyboard and screen-reader focus to <main>, as on NHS.UK. Only an
    // enhancement: the plain #maincontent link still works if this fails.
    new SkipLink(root.querySelector('.nhsuk-skip-link'));
  } catch (e) {
    console.error('careid: skip link not enhanced', e);
  }

  try {
    showAppInfo(root, await appInfo());
  } catch (e) {
    showError(root, e);
  }
}

const root = document.getElementById('app');
if (root) void start(root);
