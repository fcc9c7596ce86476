// The testers' Runs page: choose a plan and run it. Each case opens the browser and says what to
// use; a step only a person can confirm is asked here; every case ends PASSED, WARNING, FAILED,
// SKIPPED or REVIEW, with its attempt in the history; the finished run's reports are exported.
import type { RunCaseView, RunPlanView, RunReportKind, RunView } from '../generated/ipc';
import type { Ctx } from '../context';
import * as api from '../api';
import { button, h, heading1, navLink, summaryList, summaryRow } from '../dom';

/** Each case status in words, with its tag's colour. */
const STATUSES: Record<string, { words: string; tag: string }> = {
  pending: { words: 'Waiting', tag: 'nhsuk-tag--white' },
  running: { words: 'Under way', tag: 'nhsuk-tag--blue' },
  passed: { words: 'Passed', tag: 'nhsuk-tag--green' },
  warning: { words: 'Warning', tag: 'nhsuk-tag--yellow' },
  failed: { words: 'Failed', tag: 'nhsuk-tag--red' },
  skipped: { words: 'Skipped', tag: 'nhsuk-tag--grey' },
  review: { words: 'Review', tag: 'nhsuk-tag--purple' },
};

const OUTCOMES: Record<string, string> = {
  running: 'The run is under way',
  passed: 'The run passed',
  failed: 'The run failed',
  cancelled: 'The run was cancelled',
};

function statusTag(status: string): HTMLElement {
  const known = STATUSES[status] ?? { words: status, tag: 'nhsuk-tag--grey' };
  return h('strong', { class: `nhsuk-tag ${known.tag}`, 'data-status': status }, known.words);
}

export function renderRuns(ctx: Ctx): Node[] {
  const back = navLink('Back', () => ctx.go('main'), { class: 'nhsuk-back-link careid-target', 'data-testid': 'back-link' });
  const run = ctx.state.run;
  if (run) return [back, ...renderRun(ctx, run)];
  return [back, ...renderPlans(ctx)];
}

function renderPlans(ctx: Ctx): Node[] {
  const memory = ctx.ui.runs;
  if (memory.plans === null) {
    ctx.run(
      () => api.listRunPlans(),
      (plans) => {
        memory.plans = plans;
        ctx.rerender();
      },
    );
    return [heading1('Runs'), h('p', { class: 'nhsuk-body', role: 'status' }, 'Reading the plans…')];
  }
  const signedIn = ctx.state.screen.kind !== 'home' && ctx.state.screen.kind !== 'restoring';
  const label = h('input', {
    class: 'nhsuk-input',
    id: 'run-label',
    name: 'run-label',
    type: 'text',
    value: memory.label,
    autocomplete: 'off',
    spellcheck: false,
    'aria-describedby': 'run-label-hint',
    'data-testid': 'run-label',
  });
  label.addEventListener('input', () => {
    memory.label = label.value;
  });
  return present([
    heading1('Runs'),
    h(
      'p',
      { class: 'nhsuk-body' },
      'A plan is a list of sign-ins: each authenticator at each level you ask for. careid runs them one after another, tells you what to use for each, and judges what comes back. Every case is also kept in the sign-in history.',
    ),
    signedIn
      ? h(
          'div',
          { class: 'nhsuk-inset-text', 'data-testid': 'runs-signed-in' },
          h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '),
          h('p', {}, 'You are signed in. Each case of a run signs in afresh, so sign out before you start one.'),
        )
      : null,
    h(
      'div',
      { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'run-label' }, 'A label for the run (optional)'),
      h('div', { class: 'nhsuk-hint', id: 'run-label-hint' }, 'It goes in every report, such as “INT, Tuesday’s build”. Without one, the plan’s name and the time.'),
      label,
    ),
    h(
      'ul',
      { class: 'nhsuk-list careid-plans', 'data-testid': 'run-plans' },
      ...memory.plans.plans.map((plan) => h('li', {}, planCard(ctx, plan))),
    ),
    h(
      'div',
      { class: 'nhsuk-button-group' },
      button(
        'Open a plan file',
        () =>
          ctx.run(
            () => api.openRunPlan(),
            (plan) => {
              // Read the list again: the plan opened joins it.
              if (plan) memory.plans = null;
              ctx.rerender();
            },
          ),
        { 'data-testid': 'open-run-plan' },
        'secondary',
      ),
    ),
    h(
      'p',
      { class: 'nhsuk-body careid-wrap' },
      'Plans in ',
      h('code', { 'data-testid': 'runs-folder' }, memory.plans.folder),
      ' are listed here. docs/runs.md says how to write one.',
    ),
  ]);
}

/** The nodes given, without the ones left out. */
function present(nodes: (Node | null)[]): Node[] {
  return nodes.filter((node): node is Node => node !== null);
}

function planCard(ctx: Ctx, plan: RunPlanView): HTMLElement {
  const title = plan.name ?? plan.file;
  const facts = plan.problem
    ? [summaryRow('File', h('span', { class: 'careid-wrap' }, plan.file))]
    : [
        summaryRow('File', h('span', { class: 'careid-wrap' }, plan.file)),
        summaryRow('Profile', plan.profile ?? ''),
        summaryRow('Cases', String(plan.cases)),
        summaryRow('Sign-in', plan.unattended ? 'Without a person (the built-in mock signs each case in)' : 'You sign in to each case in the browser'),
        summaryRow('Expected failures', plan.expectedFailures === 0 ? 'None' : String(plan.expectedFailures)),
      ];
  return h(
    'div',
    { class: 'nhsuk-card', 'data-testid': 'run-plan', 'data-plan': plan.id },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h('h2', { class: 'nhsuk-card__heading nhsuk-heading-m careid-wrap' }, title),
      plan.description ? h('p', { class: 'nhsuk-card__description' }, plan.description) : null,
      plan.problem
        ? h(
            'p',
            { class: 'nhsuk-error-message careid-wrap', 'data-testid': 'run-plan-problem' },
            h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '),
            plan.problem,
          )
        : null,
      summaryList(...facts),
      plan.problem
        ? null
        : button(
            `Run ${title}`,
            () => {
              const label = ctx.ui.runs.label.trim();
              ctx.run(() => api.startRun(plan.id, label === '' ? null : label));
            },
            { 'data-testid': 'start-run' },
          ),
    ),
  );
}

function renderRun(ctx: Ctx, run: RunView): Node[] {
  const running = run.state === 'running';
  const done = run.cases.filter((c) => c.status !== 'pending' && c.status !== 'running').length;
  return present([
    heading1(`Run: ${run.plan}`),
    summaryList(
      summaryRow('Label', h('span', { class: 'careid-wrap' }, run.label), 'run-label-shown'),
      summaryRow('Profile', run.profile),
      summaryRow('Progress', `${done} of ${run.cases.length} cases`, 'run-progress'),
    ),
    h(
      'div',
      { role: 'status', 'aria-live': 'polite', 'data-testid': 'run-status' },
      h('h2', { class: 'nhsuk-heading-m', 'data-testid': 'run-outcome', 'data-state': run.state }, OUTCOMES[run.state] ?? run.state),
      running && run.current !== null && run.instruction
        ? h(
            'div',
            { class: 'nhsuk-inset-text careid-run__instruction', 'data-testid': 'run-instruction' },
            h('p', { class: 'nhsuk-body-l' }, `Case ${run.current} of ${run.cases.length}: ${run.instruction}.`),
            h('p', {}, 'Your browser has opened at the sign-in page.'),
          )
        : null,
      run.summary ? h('p', { class: 'nhsuk-body', 'data-testid': 'run-summary' }, run.summary) : null,
    ),
    run.question ? question(ctx, run.question.case, run.question.step) : null,
    run.problems.length > 0
      ? h(
          'div',
          { class: 'nhsuk-card nhsuk-card--warning', 'data-testid': 'run-problems' },
          h(
            'div',
            { class: 'nhsuk-card__content' },
            h('h2', { class: 'nhsuk-card__heading' }, 'Why the run failed'),
            h('ul', { class: 'nhsuk-list nhsuk-list--bullet' }, ...run.problems.map((problem) => h('li', { class: 'careid-wrap' }, problem))),
          ),
        )
      : null,
    casesTable(ctx, run.cases),
    running
      ? h('div', { class: 'nhsuk-button-group' }, button('Cancel the run', () => ctx.run(() => api.cancelRun()), { 'data-testid': 'cancel-run' }, 'warning'))
      : finished(ctx),
  ]);
}

/** A step only a person can confirm. */
function question(ctx: Ctx, caseId: string, step: string): HTMLElement {
  const answer = (value: 'confirmed' | 'denied' | 'later') => () => ctx.run(() => api.answerRunStep(value));
  return h(
    'div',
    { class: 'nhsuk-card careid-run__question', 'data-testid': 'run-question' },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h('h2', { class: 'nhsuk-card__heading' }, 'Did this happen?'),
      h('p', { class: 'nhsuk-body-l careid-wrap', 'data-testid': 'run-question-step' }, step),
      h('p', { class: 'nhsuk-hint' }, `Case ${caseId}. Only you can tell: careid cannot see it.`),
      h(
        'div',
        { class: 'nhsuk-button-group' },
        button('Yes, it happened', answer('confirmed'), { 'data-testid': 'run-answer-yes' }),
        button('No', answer('denied'), { 'data-testid': 'run-answer-no' }, 'secondary'),
        button('Leave it for review', answer('later'), { 'data-testid': 'run-answer-later' }, 'secondary'),
      ),
    ),
  );
}

function casesTable(ctx: Ctx, cases: RunCaseView[]): HTMLElement {
  return h(
    'table',
    { class: 'nhsuk-table careid-run__cases', 'data-testid': 'run-cases' },
    h('caption', { class: 'nhsuk-table__caption' }, 'Cases'),
    h(
      'thead',
      { class: 'nhsuk-table__head' },
      h('tr', { class: 'nhsuk-table__row' }, ...['Case', 'Result', 'Detail'].map((name) => h('th', { class: 'nhsuk-table__header', scope: 'col' }, name))),
    ),
    h(
      'tbody',
      { class: 'nhsuk-table__body' },
      ...cases.map((c) =>
        h(
          'tr',
          { class: 'nhsuk-table__row', 'data-testid': 'run-case', 'data-case': c.id, 'data-status': c.status },
          h('td', { class: 'nhsuk-table__cell careid-wrap' }, h('span', { class: 'careid-check__rule' }, c.id), h('br'), c.authenticator),
          h('td', { class: 'nhsuk-table__cell' }, statusTag(c.status)),
          h('td', { class: 'nhsuk-table__cell careid-wrap' }, ...caseDetail(ctx, c)),
        ),
      ),
    ),
  );
}

function caseDetail(ctx: Ctx, c: RunCaseView): Node[] {
  const parts: Node[] = [];
  if (c.verdict) parts.push(h('span', {}, c.verdict));
  if (c.note) parts.push(h('p', { class: 'nhsuk-body-s' }, c.note));
  if (c.findings.length > 0) {
    parts.push(
      h(
        'ul',
        { class: 'nhsuk-list nhsuk-body-s' },
        ...c.findings.map((finding) =>
          h(
            'li',
            { 'data-testid': 'run-finding' },
            h('strong', {}, `${finding.aspect} ${finding.shown}`),
            `: expected ${finding.expected}, got ${finding.actual}`,
            finding.detail ? ` (${finding.detail})` : '',
          ),
        ),
      ),
    );
  }
  if (c.attempt) {
    const id = c.attempt;
    parts.push(
      h(
        'p',
        { class: 'nhsuk-body-s' },
        navLink(
          'Open its attempt',
          () =>
            ctx.run(
              () => api.attemptDetails(id),
              (view) => {
                ctx.go('history');
                ctx.ui.history.open = view;
                ctx.rerender();
              },
            ),
          { class: 'careid-target', 'data-testid': 'run-open-attempt', 'aria-label': `Open the attempt of case ${c.id}` },
        ),
      ),
    );
  }
  return parts;
}

function finished(ctx: Ctx): HTMLElement {
  const memory = ctx.ui.runs;
  const save = (kind: RunReportKind) => () =>
    ctx.run(
      () => api.exportRunReport(kind),
      (path) => {
        memory.exported = path;
        ctx.rerender();
      },
    );
  const result = memory.exported === undefined ? '' : memory.exported === null ? 'Not saved: the save was cancelled.' : `Saved to ${memory.exported}`;
  return h(
    'div',
    { class: 'careid-section' },
    h('h2', { class: 'nhsuk-heading-m' }, 'Reports'),
    h('p', { class: 'nhsuk-body' }, 'Each holds every case and check, with no token.'),
    h(
      'div',
      { class: 'nhsuk-button-group' },
      button('Export as a web page', save('html'), { 'data-testid': 'run-export-html' }, 'secondary'),
      button('Export as JUnit XML', save('junit'), { 'data-testid': 'run-export-junit' }, 'secondary'),
      button('Export as JSON', save('json'), { 'data-testid': 'run-export-json' }, 'secondary'),
    ),
    h('p', { class: 'nhsuk-body careid-wrap', role: 'status', 'data-testid': 'run-export-result' }, result),
    h(
      'div',
      { class: 'nhsuk-button-group' },
      button(
        'Back to the plans',
        () =>
          ctx.run(
            () => api.closeRun(),
            () => {
              memory.exported = undefined;
              memory.plans = null;
              ctx.rerender();
            },
          ),
        { 'data-testid': 'close-run' },
      ),
    ),
  );
}
