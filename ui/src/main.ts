// Entry point: loads the styles, subscribes to Rust's state and draws every change.
import './styles.css';
import * as api from './api';
import type { AppState } from './generated/ipc';
import { ActivityReporter } from './activity';
import { App } from './render';
import { renderStartFailure } from './start-failure';

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

  // Both asked at once, so the first screen is drawn after one round trip, not two.
  const listening = api.onStateChanged((state) => {
    eventSeen = true;
    latest = state;
    app.render(state);
  });
  listening.catch(() => undefined); // awaited below; a failure is reported there
  try {
    const initial = await api.currentState();
    // An event that arrived while current_state was in flight is newer than its answer.
    if (!eventSeen) {
      latest = initial;
      app.render(initial);
    }
    app.addDisposer(await listening);
    // A change published after that answer but before the listener was registered reached no
    // one: ask once more, and draw only what differs (a redraw would move the focus).
    if (!eventSeen) {
      const settled = await api.currentState();
      if (!eventSeen && JSON.stringify(settled) !== JSON.stringify(latest)) {
        latest = settled;
        app.render(settled);
      }
    }
  } catch (e) {
    renderStartFailure(root, e);
    return null;
  }
  app.addDisposer(activity.listen(document));
  return app;
}

const root = document.getElementById('app');
if (root) void start(root);
