// The page shown when careid cannot start: what happened in plain words, chosen by the error's code
// from the one table of words (`notices.ts`), and what to do; Rust's own words (the folder, the
// command that fixes it) under "Technical detail" for the service desk. Nothing here reads the
// message to choose the words.
import { ApiError } from './api';
import { h } from './dom';
import { describeError, plainSentence } from './notices';

/** A fault at start has no notice and so no reference: the service desk gets the detail itself. */
const TO_DO = 'This is not something you did or can fix here: contact your IT service desk and give them the technical detail below. Once it is put right, open careid again.';

/** Replaces `root` with the start failure page for `error`. */
export function renderStartFailure(root: HTMLElement, error: unknown): void {
  const heading = h('h1', { tabindex: -1 }, 'careid could not start');
  const known = error instanceof ApiError && error.errorClass !== 'ipc' ? plainSentence(error.code) : undefined;
  const happened = known ?? describeError(error);
  const parts: HTMLElement[] = [
    heading,
    h('p', { class: 'nhsuk-error-message', role: 'alert', 'data-testid': 'app-error' }, happened),
  ];
  if (known) {
    parts.push(h('h2', {}, 'What to do'), h('p', { 'data-testid': 'app-error-to-do' }, TO_DO));
  }
  // Rust's own words, for the service desk: never a token (Rust's messages carry none).
  if (error instanceof ApiError && error.errorClass !== 'ipc') {
    parts.push(
      h(
        'details',
        { class: 'nhsuk-details', 'data-testid': 'app-error-detail' },
        h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, 'Technical detail')),
        h('div', { class: 'nhsuk-details__text' }, h('p', {}, `Code: ${error.code}`), h('p', {}, error.message)),
      ),
    );
  }
  root.replaceChildren(
    h(
      'div',
      { class: 'careid-page__body' },
      h(
        'div',
        { class: 'nhsuk-width-container' },
        h('main', { class: 'nhsuk-main-wrapper', id: 'maincontent', 'data-testid': 'screen', 'data-screen': 'error' }, ...parts),
      ),
    ),
  );
  heading.focus();
}
