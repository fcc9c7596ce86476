// The testers' sign-in history: every attempt, newest first, and one attempt in full (what was
// asked beside what came back, each check), with export and "Sign in again with these settings".
import type { AttemptSummaryView, AttemptView, ExportKind, NamedValue } from '../generated/ipc';
import type { Ctx } from '../context';
import * as api from '../api';
import { button, details, h, heading1, jsonBlock, navLink, summaryList, summaryRow } from '../dom';
import { formatDateTime } from '../time';

/** Each verdict in words, with its tag's colour: green signed in, red refused, the rest muted. */
const VERDICTS: Record<string, { words: string; tag: string }> = {
  signed_in: { words: 'Signed in', tag: 'nhsuk-tag--green' },
  no_roles: { words: 'Signed in, no roles', tag: 'nhsuk-tag--yellow' },
  refused: { words: 'Refused by a check', tag: 'nhsuk-tag--red' },
  provider_error: { words: 'Provider error', tag: 'nhsuk-tag--orange' },
  cancelled: { words: 'Cancelled', tag: 'nhsuk-tag--grey' },
  timed_out: { words: 'Timed out', tag: 'nhsuk-tag--grey' },
  failed: { words: 'Failed', tag: 'nhsuk-tag--red' },
};

const OUTCOMES: Record<string, { words: string; tag: string }> = {
  passed: { words: 'Passed', tag: 'nhsuk-tag--green' },
  failed: { words: 'Failed', tag: 'nhsuk-tag--red' },
  not_applicable: { words: 'Not applicable', tag: 'nhsuk-tag--grey' },
  not_run: { words: 'Not run', tag: 'nhsuk-tag--white' },
};

function tag(table: Record<string, { words: string; tag: string }>, code: string): HTMLElement {
  const known = table[code] ?? { words: code, tag: 'nhsuk-tag--grey' };
  return h('strong', { class: `nhsuk-tag ${known.tag}`, 'data-code': code }, known.words);
}

export function renderHistory(ctx: Ctx): Node[] {
  const memory = ctx.ui.history;
  if (memory.open) return renderAttempt(ctx, memory.open);
  const back = navLink('Back', () => ctx.go('main'), { class: 'nhsuk-back-link careid-target', 'data-testid': 'back-link' });
  if (memory.list === null) {
    ctx.run(
      () => Promise.all([api.listAttempts(), api.historyKeep()]),
      ([list, keep]) => {
        memory.list = list;
        memory.keep = keep;
        memory.keepDraft = String(keep);
        ctx.rerender();
      },
    );
    return [back, heading1('Sign-in history'), h('p', { class: 'nhsuk-body', role: 'status' }, 'Reading the history…')];
  }
  const list = memory.list;
  if (list.length === 0) {
    return [
      back,
      heading1('Sign-in history'),
      h('p', { class: 'nhsuk-body', 'data-testid': 'history-empty' }, 'No sign-in attempts yet. Each one, whether it succeeds or fails, is kept here.'),
      keepForm(ctx),
    ];
  }
  return [
    back,
    heading1('Sign-in history'),
    h(
      'p',
      { class: 'nhsuk-body' },
      `${list.length} attempt${list.length === 1 ? '' : 's'}, newest first. Each keeps what was asked, what came back and every check; never a token.`,
    ),
    h(
      'table',
      { class: 'nhsuk-table careid-history', 'data-testid': 'history-table' },
      h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Sign-in attempts, newest first'),
      h(
        'thead',
        { class: 'nhsuk-table__head' },
        h(
          'tr',
          { class: 'nhsuk-table__row' },
          h('th', { class: 'nhsuk-table__header', scope: 'col' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Export')),
          ...['Started', 'Outcome', 'Profile', 'Level', 'Detail'].map((name) => h('th', { class: 'nhsuk-table__header', scope: 'col' }, name)),
        ),
      ),
      h('tbody', { class: 'nhsuk-table__body' }, ...list.map((attempt) => attemptRow(ctx, attempt))),
    ),
    exportButtons(
      ctx,
      memory.selected.length > 0 ? memory.selected : list.map((attempt) => attempt.id),
      memory.selected.length > 0 ? 'selected' : 'all',
    ),
    keepForm(ctx),
  ];
}

/** "Keep the newest N attempts": older ones go as new ones come. */
function keepForm(ctx: Ctx): HTMLElement {
  const memory = ctx.ui.history;
  const input = h('input', {
    class: `nhsuk-input nhsuk-input--width-5${memory.keepError ? ' nhsuk-input--error' : ''}`,
    id: 'history-keep',
    name: 'history-keep',
    type: 'text',
    inputmode: 'numeric',
    pattern: '[0-9]*',
    value: memory.keepDraft,
    autocomplete: 'off',
    'aria-describedby': memory.keepError ? 'history-keep-hint history-keep-error' : 'history-keep-hint',
    'data-testid': 'history-keep',
  });
  input.addEventListener('input', () => {
    memory.keepDraft = input.value;
    memory.keepSaved = false;
  });
  const save = () => {
    const keep = Number(memory.keepDraft.trim());
    if (!/^[0-9]+$/.test(memory.keepDraft.trim()) || keep < 1 || keep > 100_000) {
      memory.keepError = 'Enter a number from 1 to 100,000';
      ctx.rerender();
      return;
    }
    memory.keepError = null;
    ctx.run(
      () => api.setHistoryKeep(keep),
      () => {
        memory.keep = keep;
        memory.keepSaved = true;
        // The oldest beyond the new number are gone: read the list again.
        memory.list = null;
        memory.selected = [];
        ctx.rerender();
      },
    );
  };
  return h(
    'div',
    { class: `nhsuk-form-group${memory.keepError ? ' nhsuk-form-group--error' : ''}` },
    h('label', { class: 'nhsuk-label', for: 'history-keep' }, 'How many attempts to keep'),
    h('div', { class: 'nhsuk-hint', id: 'history-keep-hint' }, 'The newest are kept; older ones are removed as new ones come. 200 unless you change it.'),
    memory.keepError ? h('span', { class: 'nhsuk-error-message', id: 'history-keep-error' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '), memory.keepError) : null,
    input,
    h('div', { class: 'nhsuk-button-group' }, button('Save', save, { 'data-testid': 'history-keep-save' }, 'secondary')),
    h('p', { class: 'nhsuk-body', role: 'status', 'data-testid': 'history-keep-saved' }, memory.keepSaved && memory.keep !== null ? `careid keeps the newest ${memory.keep} attempts.` : ''),
  );
}

function attemptRow(ctx: Ctx, attempt: AttemptSummaryView): HTMLElement {
  const detail = attempt.errorCode ?? attempt.authenticators.join(', ');
  const open = navLink(
    formatDateTime(attempt.startedAt),
    () =>
      ctx.run(
        () => api.attemptDetails(attempt.id),
        (view) => {
          ctx.ui.history.open = view;
          ctx.ui.history.exported = undefined;
          ctx.rerender();
        },
      ),
    { class: 'careid-target', 'data-testid': 'history-open', 'data-attempt': attempt.id },
  );
  const memory = ctx.ui.history;
  const box = h('input', {
    class: 'nhsuk-checkboxes__input',
    id: `select-${attempt.id}`,
    type: 'checkbox',
    checked: memory.selected.includes(attempt.id),
    'data-testid': 'history-select',
  });
  box.addEventListener('change', () => {
    memory.selected = box.checked ? [...memory.selected, attempt.id] : memory.selected.filter((id) => id !== attempt.id);
    ctx.rerender();
  });
  const choose = h(
    'div',
    { class: 'nhsuk-checkboxes nhsuk-checkboxes--small' },
    h(
      'div',
      { class: 'nhsuk-checkboxes__item' },
      box,
      h('label', { class: 'nhsuk-label nhsuk-checkboxes__label', for: `select-${attempt.id}` }, h('span', { class: 'nhsuk-u-visually-hidden' }, `Export the attempt of ${formatDateTime(attempt.startedAt)}`)),
    ),
  );
  return h(
    'tr',
    { class: 'nhsuk-table__row', 'data-testid': 'history-row', 'data-verdict': attempt.verdict },
    h('td', { class: 'nhsuk-table__cell' }, choose),
    h('td', { class: 'nhsuk-table__cell' }, open),
    h('td', { class: 'nhsuk-table__cell' }, tag(VERDICTS, attempt.verdict)),
    h('td', { class: 'nhsuk-table__cell careid-wrap' }, attempt.profile),
    h('td', { class: 'nhsuk-table__cell' }, attempt.level ?? '–'),
    h(
      'td',
      { class: 'nhsuk-table__cell careid-wrap' },
      detail,
      attempt.label ? h('span', { class: 'nhsuk-hint careid-history__label' }, ` ${attempt.label}`) : null,
    ),
  );
}

function renderAttempt(ctx: Ctx, view: AttemptView): Node[] {
  const summary = view.summary;
  const back = navLink(
    'Back to the history',
    () => {
      ctx.ui.history.open = null;
      ctx.rerender();
    },
    { class: 'nhsuk-back-link careid-target', 'data-testid': 'back-link' },
  );
  return [
    back,
    heading1(`Attempt of ${formatDateTime(summary.startedAt)}`),
    h('p', { class: 'nhsuk-body', 'data-testid': 'attempt-verdict' }, tag(VERDICTS, summary.verdict)),
    summaryList(
      ...[
        summaryRow('Profile', summary.profile),
        summaryRow('Attempt', h('span', { class: 'careid-wrap' }, summary.id), 'attempt-id'),
        summary.label ? summaryRow('Label', summary.label) : null,
        view.errorMessage
          ? summaryRow('What went wrong', h('span', { class: 'careid-wrap' }, `${summary.errorCode ?? ''}: ${view.errorMessage}`), 'attempt-error')
          : null,
      ].filter((row): row is HTMLDivElement => row !== null),
    ),
    h(
      'div',
      { class: 'nhsuk-button-group' },
      button('Sign in again with these settings', () => ctx.run(() => api.signInAgain(summary.id), () => ctx.go('main')), {
        'data-testid': 'sign-in-again',
      }),
    ),
    h('h2', { class: 'nhsuk-heading-m' }, 'What was asked'),
    table(
      'What the sign-in request carried, and where each value came from',
      ['Parameter', 'Value', 'From'],
      view.asked.map((row) => [row.name, row.value ?? 'not sent', sourceWords(row.source)]),
      'attempt-asked',
    ),
    h('h2', { class: 'nhsuk-heading-m' }, 'What came back'),
    view.returned.length === 0
      ? h('p', { class: 'nhsuk-body' }, 'No ID token came back.')
      : summaryList(...view.returned.map((row) => summaryRow(row.name, h('span', { class: 'careid-wrap' }, row.value)))),
    h('h2', { class: 'nhsuk-heading-m' }, 'Checks'),
    checksTable(view),
    named('Token headers', view.headers),
    named('Times', view.times),
    h('h2', { class: 'nhsuk-heading-m' }, 'Timings'),
    table(
      'How long each step took',
      ['Step', 'Milliseconds'],
      view.timings.map((timing) => [timing.step, String(timing.millis)]),
      'attempt-timings',
    ),
    ...(view.timeline.length > 0 ? [named('Timeline', view.timeline)] : []),
    details('The record as exported (JSON)', jsonBlock(view.record), { 'data-testid': 'attempt-record' }),
    exportButtons(ctx, [summary.id], 'one'),
  ];
}

function sourceWords(source: string): string {
  switch (source) {
    case 'profile':
      return 'the profile';
    case 'overridden':
      return 'changed for this sign-in';
    case 'careid':
      return 'careid';
    default:
      return '–';
  }
}

function checksTable(view: AttemptView): HTMLElement {
  return h(
    'table',
    { class: 'nhsuk-table', 'data-testid': 'attempt-checks' },
    h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, 'Each check and how it came out'),
    h(
      'thead',
      { class: 'nhsuk-table__head' },
      h(
        'tr',
        { class: 'nhsuk-table__row' },
        ...['Check', 'Outcome', 'Detail'].map((name) => h('th', { class: 'nhsuk-table__header', scope: 'col' }, name)),
      ),
    ),
    h(
      'tbody',
      { class: 'nhsuk-table__body' },
      ...view.checks.map((check) =>
        h(
          'tr',
          { class: 'nhsuk-table__row', 'data-rule': check.rule, 'data-outcome': check.outcome },
          h('td', { class: 'nhsuk-table__cell careid-wrap' }, h('span', { class: 'careid-check__rule' }, check.rule), h('br'), check.description),
          h('td', { class: 'nhsuk-table__cell' }, tag(OUTCOMES, check.outcome)),
          h('td', { class: 'nhsuk-table__cell careid-wrap' }, check.detail ?? ''),
        ),
      ),
    ),
  );
}

function named(title: string, rows: NamedValue[]): HTMLElement {
  return h(
    'div',
    {},
    h('h2', { class: 'nhsuk-heading-m' }, title),
    rows.length === 0 ? h('p', { class: 'nhsuk-body' }, 'None.') : summaryList(...rows.map((row) => summaryRow(row.name, h('span', { class: 'careid-wrap' }, row.value)))),
  );
}

function table(caption: string, head: string[], rows: string[][], testId: string): HTMLElement {
  return h(
    'table',
    { class: 'nhsuk-table', 'data-testid': testId },
    h('caption', { class: 'nhsuk-table__caption nhsuk-u-visually-hidden' }, caption),
    h(
      'thead',
      { class: 'nhsuk-table__head' },
      h('tr', { class: 'nhsuk-table__row' }, ...head.map((name) => h('th', { class: 'nhsuk-table__header', scope: 'col' }, name))),
    ),
    h(
      'tbody',
      { class: 'nhsuk-table__body' },
      ...rows.map((cells) => h('tr', { class: 'nhsuk-table__row' }, ...cells.map((cell) => h('td', { class: 'nhsuk-table__cell careid-wrap' }, cell)))),
    ),
  );
}

function exportButtons(ctx: Ctx, ids: string[], which: 'all' | 'selected' | 'one'): HTMLElement {
  const memory = ctx.ui.history;
  const save = (kind: ExportKind) => () =>
    ctx.run(
      () => api.exportAttempts(ids, kind),
      (path) => {
        memory.exported = path;
        ctx.rerender();
      },
    );
  const what = which === 'all' ? 'all' : which === 'selected' ? `the ${ids.length} selected` : 'this attempt';
  const result =
    memory.exported === undefined ? '' : memory.exported === null ? 'Not saved: the save was cancelled.' : `Saved to ${memory.exported}`;
  return h(
    'div',
    { class: 'careid-section' },
    h(
      'div',
      { class: 'nhsuk-button-group' },
      button(`Export ${what} as a web page`, save('html'), { 'data-testid': 'export-html' }, 'secondary'),
      button(`Export ${what} as JSON`, save('json'), { 'data-testid': 'export-json' }, 'secondary'),
    ),
    h('p', { class: 'nhsuk-body careid-wrap', role: 'status', 'data-testid': 'history-export-result' }, result),
  );
}
