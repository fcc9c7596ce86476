// The signed-in screen: who, which role, how sure, when it ends; the inactivity warning; the testers' tab.
import type { SignedInView } from '../generated/ipc';
import type { Ctx, Tab } from '../context';
import * as api from '../api';
import { button, h, heading1, navLink, summaryList, summaryRow } from '../dom';
import { signOutControl } from './sign-out';
import { assuranceInWords, formatClock, formatDateTime, formatDuration, plural } from '../time';
import { renderTesters } from './testers';

export function renderSignedIn(ctx: Ctx, view: SignedInView): Node[] {
  const nodes: Node[] = [];
  if (view.inactivityWarning) nodes.push(renderInactivityWarning(ctx, view));
  nodes.push(heading1('You are signed in'), signOutControl(ctx, 'sign-out'));

  const showTabs = ctx.state.preferences.testersView;
  const tab: Tab = showTabs ? ctx.ui.tab : 'session';
  const session = renderSession(ctx, view);
  if (!showTabs) {
    nodes.push(...session);
    return nodes;
  }
  nodes.push(renderTabs(ctx, tab, session));
  return nodes;
}

// Who and in which role first, so the role's "Change" link is in view without scrolling.
function renderSession(ctx: Ctx, view: SignedInView): Node[] {
  const role = view.role;
  const change = view.canChangeRole
    ? navLink('Change', () => ctx.run(() => api.changeRole()), { class: 'careid-target', 'data-testid': 'change-role' })
    : undefined;
  change?.append(h('span', { class: 'nhsuk-u-visually-hidden' }, ' role'));
  const rows = [
    summaryRow('Name', view.user.name, 'user-name'),
    summaryRow(
      'Role',
      role
        ? [h('span', { 'data-testid': 'role-name' }, role.name), ' ', h('span', { class: 'careid-wrap', 'data-testid': 'role-code' }, `(${role.code})`)]
        : h('span', { 'data-testid': 'role-name' }, 'No role selected'),
      undefined,
      change,
    ),
    summaryRow('Organisation', role ? `${role.organisation.name} (${role.organisation.code})` : 'None', 'role-org'),
    summaryRow('User ID', view.user.userId, 'user-id'),
    summaryRow('Assurance level', assuranceInWords(view.assuranceLevel), 'assurance'),
    summaryRow(
      'Session ends',
      `${formatDateTime(view.endsAt)} (${plural(view.absoluteHours, 'hour', 'hours')} after you signed in)`,
      'session-ends',
    ),
    summaryRow(
      'Inactivity limit',
      `Signs you out after ${plural(view.inactivityMinutes, 'minute', 'minutes')} without activity (at ${formatClock(view.idleEndsAt)} if this device is not used before then)`,
      'inactivity-limit',
    ),
  ];
  return [summaryList(...rows)];
}

function renderInactivityWarning(ctx: Ctx, view: SignedInView): HTMLElement {
  const countdown = h('p', { class: 'nhsuk-body careid-countdown', 'data-testid': 'inactivity-countdown' });
  ctx.onTick((now) => {
    countdown.textContent = `Time left: ${formatDuration(view.idleEndsAt - now)}`;
  });
  return h(
    'div',
    { class: 'nhsuk-card nhsuk-card--warning careid-inactivity', role: 'alert', 'data-testid': 'inactivity-warning' },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h('h2', { class: 'nhsuk-card__heading' }, 'You will be signed out soon'),
      h('p', { class: 'nhsuk-card__description' }, 'You will be signed out in about a minute because you have not used this device.'),
      countdown,
      button('Stay signed in', () => ctx.run(() => api.staySignedIn()), { 'data-testid': 'stay-signed-in' }),
    ),
  );
}

const TABS: Array<{ id: Tab; label: string; testId: string }> = [
  { id: 'session', label: 'Session', testId: 'tab-session' },
  { id: 'testers', label: 'Testers’ view', testId: 'tab-testers' },
];

// NHS tabs markup, switched here with the WAI-ARIA tabs pattern (arrow keys, Home, End) rather
// than nhsuk-frontend's script, which drives the URL hash.
function renderTabs(ctx: Ctx, active: Tab, session: Node[]): HTMLElement {
  const list = h('ul', { class: 'nhsuk-tabs__list careid-tabs__list', role: 'tablist', 'aria-label': 'Signed-in details' });
  const buttons: HTMLButtonElement[] = [];
  for (const tab of TABS) {
    const selected = tab.id === active;
    const btn = h(
      'button',
      {
        type: 'button',
        class: 'nhsuk-tabs__tab careid-tabs__tab',
        role: 'tab',
        id: `tab-${tab.id}`,
        'aria-selected': selected ? 'true' : 'false',
        'aria-controls': `panel-${tab.id}`,
        tabindex: selected ? 0 : -1,
        'data-testid': tab.testId,
      },
      tab.label,
    );
    btn.addEventListener('click', () => ctx.setTab(tab.id));
    buttons.push(btn);
    list.append(
      h('li', { class: selected ? 'nhsuk-tabs__list-item nhsuk-tabs__list-item--selected' : 'nhsuk-tabs__list-item', role: 'presentation' }, btn),
    );
  }
  list.addEventListener('keydown', (event) => {
    const i = TABS.findIndex((t) => t.id === active);
    let next = -1;
    if (event.key === 'ArrowRight') next = (i + 1) % TABS.length;
    else if (event.key === 'ArrowLeft') next = (i - 1 + TABS.length) % TABS.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = TABS.length - 1;
    if (next < 0) return;
    event.preventDefault();
    const target = TABS[next];
    if (!target) return;
    ctx.setTab(target.id);
    document.getElementById(`tab-${target.id}`)?.focus();
  });

  const panel = (tab: Tab, content: Node[]) =>
    h(
      'div',
      {
        class: tab === active ? 'nhsuk-tabs__panel careid-tabs__panel' : 'nhsuk-tabs__panel nhsuk-tabs__panel--hidden',
        role: 'tabpanel',
        id: `panel-${tab}`,
        'aria-labelledby': `tab-${tab}`,
        hidden: tab !== active,
        tabindex: tab === active ? 0 : null,
      },
      ...(tab === active ? content : []),
    );

  return h(
    'div',
    { class: 'nhsuk-tabs careid-tabs' },
    list,
    panel('session', active === 'session' ? session : []),
    panel('testers', active === 'testers' ? renderTesters(ctx) : []),
  );
}
