// Entry point: loads the styles, subscribes to Rust's state and draws every change.
import './styles.css';
import * as api from './api';
import { describeError } from './notices';
import type { AppState } from './generated/ipc';
import { ActivityReporter } from './activity';
import { App } from './render';
import { h } from './dom';

/** Renders the window into `root` from Rust's state, now and on every `state-changed` event. */
export async function start(root: HTMLElement): Promise<App | null> {
  // NHS.UK frontend gates some styles on these classes; its own page template sets them with an
  // inline script, which our CSP forbids.
  document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
  const app = new App(root);
  let latest: AppState | null = null;
  let eventSeen = false;

  const activity = new ActivityReporter(
    () => latest,
    () => {
      // A lost activity note only shortens the idle timer; no need to interrupt the user.
      api.noteActivity().catch(() => undefined);
    },
  );

  try {
    const unlisten = await api.onStateChanged((state) => {
      eventSeen = true;
      latest = state;
      app.render(state);
    });
    app.addDisposer(unlisten);
    const initial = await api.currentState();
    // An event that arrived while current_state was in flight is newer than its answer.
    if (!eventSeen) {
      latest = initial;
      app.render(initial);
    }
  } catch (e) {
    renderStartFailure(root, e);
    return null;
  }
  app.addDisposer(activity.listen(document));
  return app;
}

function renderStartFailure(root: HTMLElement, error: unknown): void {
  const heading = h('h1', { tabindex: -1 }, 'careid could not start');
  root.replaceChildren(
    h(
      'div',
      { class: 'careid-page__body' },
      h(
        'div',
        { class: 'nhsuk-width-container' },
        h(
          'main',
          { class: 'nhsuk-main-wrapper', id: 'maincontent', 'data-testid': 'screen', 'data-screen': 'error' },
          heading,
          h('p', { class: 'nhsuk-error-message', role: 'alert', 'data-testid': 'app-error' }, describeError(error)),
        ),
      ),
    ),
  );
  heading.focus();
}

const root = document.getElementById('app');
if (root) void start(root);
