// The page shown when careid cannot start: what happened and what to do in plain words, chosen by
// the error's code; Rust's own words (the folder, the command that fixes it) under "Technical
// detail" for the service desk. Nothing here reads the message to choose the words.
import { ApiError, describeError } from './api';
import { h } from './dom';

/** What a member of staff is told about a fault at start, by its code. */
interface StartSentence {
  happened: string;
  toDo: string;
}

const SERVICE_DESK = 'Contact your IT service desk and give them the technical detail below.';

/** The faults that stop careid at start (Rust's `HostError` codes). */
export const START_SENTENCES: Readonly<Record<string, StartSentence>> = {
  folder_writable_by_others: {
    happened:
      'careid keeps your sign-in details in a folder that other people who use this computer can change, so it will not use it.',
    toDo: `${SERVICE_DESK} Once the folder is yours alone, open careid again.`,
  },
  folder_other_owner: {
    happened: 'The folder careid keeps your sign-in details in belongs to someone else on this computer, so careid will not use it.',
    toDo: `${SERVICE_DESK} Once the folder is yours, open careid again.`,
  },
  folder_uncheckable: {
    happened: 'careid could not check who can change the folder it keeps your sign-in details in, so it will not use it.',
    toDo: SERVICE_DESK,
  },
  no_config_folder: {
    happened: 'This computer gives careid no folder to keep your settings in.',
    toDo: SERVICE_DESK,
  },
};

/** Replaces `root` with the start failure page for `error`. */
export function renderStartFailure(root: HTMLElement, error: unknown): void {
  const heading = h('h1', { tabindex: -1 }, 'careid could not start');
  const known = error instanceof ApiError ? START_SENTENCES[error.code] : undefined;
  const happened = known?.happened ?? describeError(error);
  const parts: HTMLElement[] = [
    heading,
    h('p', { class: 'nhsuk-error-message', role: 'alert', 'data-testid': 'app-error' }, happened),
  ];
  if (known) {
    parts.push(h('h2', {}, 'What to do'), h('p', { 'data-testid': 'app-error-to-do' }, known.toDo));
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
