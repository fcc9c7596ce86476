// The testers' view: what the last sign-in asked for and got back, its timings, copy and export, overrides.
import type { LoginOverrides, TesterRecord } from '../generated/ipc';
import type { Ctx } from '../context';
import * as api from '../api';
import { button, details, h, jsonBlock, navLink, summaryList, summaryRow } from '../dom';
import { formatDateTime } from '../time';
import { renderOverridesForm } from './overrides';

export function renderTesters(ctx: Ctx): Node[] {
  const record = ctx.state.tester;
  if (!record) {
    return [
      h('h2', { class: 'nhsuk-heading-l' }, 'Testers’ view'),
      h('p', { class: 'nhsuk-body' }, 'There is no sign-in record yet. Sign in to see what came back.'),
      historyLink(ctx),
      renderOverridesForm(ctx),
    ];
  }
  return [
    h('h2', { class: 'nhsuk-heading-l' }, 'Testers’ view'),
    h('p', { class: 'nhsuk-body' }, `Signed in with profile “${record.profile}” at ${formatDateTime(record.signedInAt)}.`),
    summaryList(
      summaryRow('acr', record.acr ?? 'not sent', 'tester-acr'),
      summaryRow('amr', record.amr.length > 0 ? record.amr.join(', ') : 'not sent', 'tester-amr'),
      summaryRow('Authentication assurance level', record.authenticationAssuranceLevel ?? 'not sent', 'tester-aal'),
      summaryRow('Identity assurance level', record.idAssuranceLevel ?? 'not sent', 'tester-ial'),
      summaryRow(
        'auth_time',
        record.authTime === null ? 'not sent' : `${record.authTime} (${formatDateTime(record.authTime)})`,
        'tester-auth-time',
      ),
      summaryRow('sid', h('span', { class: 'careid-wrap' }, record.sid ?? 'not sent'), 'tester-sid'),
      summaryRow('selected_roleid', record.selectedRoleid ?? 'not sent', 'tester-selected-roleid'),
      summaryRow('Issuer', h('span', { class: 'careid-wrap' }, record.issuer)),
      summaryRow(
        'Responses for another sign-in',
        record.strayCallbacks === 0
          ? 'none'
          : `${record.strayCallbacks} refused while this sign-in waited (another state): a web page or an older tab sent them`,
        'tester-stray-callbacks',
      ),
    ),
    h('h3', { class: 'nhsuk-heading-m' }, 'What the sign-in asked for'),
    renderRequested(record.requested),
    h('h3', { class: 'nhsuk-heading-m' }, 'Timings'),
    renderTimings(record),
    h('h3', { class: 'nhsuk-heading-m' }, 'Claims and documents'),
    details('ID token claims', jsonBlock(record.idTokenClaims), { id: 'tester-id-token', 'data-testid': 'tester-id-token' }),
    details(
      'Access token claims',
      record.accessTokenClaims === null ? h('p', {}, 'The access token is not a JWT, so it has no claims to show.') : jsonBlock(record.accessTokenClaims),
      { id: 'tester-access-token', 'data-testid': 'tester-access-token' },
    ),
    details(
      'UserInfo claims',
      record.userinfo === null ? h('p', {}, 'No UserInfo response.') : jsonBlock(record.userinfo),
      { id: 'tester-userinfo', 'data-testid': 'tester-userinfo' },
    ),
    details('Discovery document', jsonBlock(record.discovery), { id: 'tester-discovery', 'data-testid': 'tester-discovery' }),
    renderCopyAndExport(ctx),
    historyLink(ctx),
    renderOverridesForm(ctx),
  ];
}

/** Every attempt, failures included, lives on the history page. */
function historyLink(ctx: Ctx): HTMLElement {
  return h(
    'p',
    { class: 'nhsuk-body' },
    navLink('Sign-in history', () => ctx.go('history'), { class: 'careid-target', 'data-testid': 'testers-history-link' }),
    ': every attempt, failed ones too, with each check it made. ',
    navLink('Runs', () => ctx.go('runs'), { class: 'careid-target', 'data-testid': 'testers-runs-link' }),
    ': a plan of sign-ins, each judged against what it should give, with reports.',
  );
}

function renderRequested(requested: LoginOverrides): HTMLElement {
  return summaryList(
    summaryRow('acr_values', requested.acrValues ?? 'profile default', 'requested-acr'),
    summaryRow('prompt', requested.prompt ?? 'profile default', 'requested-prompt'),
    summaryRow('max_age', requested.maxAge === null ? 'profile default' : `${requested.maxAge} seconds`, 'requested-max-age'),
    summaryRow('Scopes', requested.scopes === null ? 'profile default' : requested.scopes.join(' '), 'requested-scopes'),
  );
}

function renderTimings(record: TesterRecord): HTMLElement {
  return h(
    'table',
    { class: 'nhsuk-table', 'data-testid': 'tester-timings' },
    h('caption', { class: 'nhsuk-u-visually-hidden' }, 'How long each step took'),
    h(
      'thead',
      { class: 'nhsuk-table__head' },
      h(
        'tr',
        { class: 'nhsuk-table__row' },
        h('th', { class: 'nhsuk-table__header', scope: 'col' }, 'Step'),
        h('th', { class: 'nhsuk-table__header nhsuk-table__header--numeric', scope: 'col' }, 'Milliseconds'),
      ),
    ),
    h(
      'tbody',
      { class: 'nhsuk-table__body' },
      ...record.timings.map((t) =>
        h(
          'tr',
          { class: 'nhsuk-table__row' },
          h('td', { class: 'nhsuk-table__cell' }, t.step),
          h('td', { class: 'nhsuk-table__cell nhsuk-table__cell--numeric' }, String(t.millis)),
        ),
      ),
    ),
  );
}

function renderCopyAndExport(ctx: Ctx): HTMLElement {
  const ui = ctx.ui;
  const exportText =
    ui.exportResult === undefined ? '' : ui.exportResult === null ? 'Not saved: the save was cancelled.' : `Saved to ${ui.exportResult}`;
  return h(
    'div',
    { class: 'careid-section' },
    h(
      'div',
      { class: 'nhsuk-button-group' },
      button(
        'Copy access token',
        () =>
          ctx.run(
            () => api.copyAccessToken(),
            () => {
              ui.tokenCopied = true;
              ctx.rerender();
            },
          ),
        { 'data-testid': 'copy-access-token' },
        'secondary',
      ),
      button(
        'Export sign-in record (JSON)',
        () =>
          ctx.run(
            () => api.exportSignInRecord(),
            (path) => {
              ui.exportResult = path;
              ctx.rerender();
            },
          ),
        { 'data-testid': 'export-record' },
        'secondary',
      ),
    ),
    h(
      'p',
      { class: 'nhsuk-hint', 'data-testid': 'copy-care' },
      'careid clears the access token from the clipboard after 30 seconds, and asks your system to keep it out of clipboard history and cloud clipboard.',
    ),
    h(
      'p',
      { class: 'nhsuk-body', role: 'status', 'data-testid': 'copy-confirmation' },
      ui.tokenCopied ? 'Access token copied: it is cleared from the clipboard in 30 seconds' : '',
    ),
    h('p', { class: 'nhsuk-body careid-wrap', role: 'status', 'data-testid': 'export-result' }, exportText),
  );
}
