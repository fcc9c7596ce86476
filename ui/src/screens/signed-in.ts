// The signed-in screen: who, which role, how sure, when it ends; the inactivity warning (read out at 60, 30 and
// 10 seconds only, with Stay signed in and Sign out now); the testers' tab.
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
    summaryRow('Name', view.user.name ?? 'Not given by CIS2', 'user-name'),
    summaryRow(
      'Role',
      role
        ? [h('span', { 'data-testid': 'role-name' }, role.name), ', ', h('span', { class: 'careid-wrap', 'data-testid': 'role-code' }, `code ${role.code}`)]
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

/** When the warning is read out (seconds left), and how long the words stay in the live region. */
const ANNOUNCE_AT = [60, 30, 10] as const;
const ANNOUNCE_FOR = 5;

/**
 * The inactivity warning. The countdown is plain text, not a live region: a screen reader would read it every
 * second. A visually hidden live region beside it gets words only at 60, 30 and 10 seconds left, and is empty
 * in between.
 */
function renderInactivityWarning(ctx: Ctx, view: SignedInView): HTMLElement {
  const countdown = h('p', { class: 'nhsuk-body careid-countdown', 'data-testid': 'inactivity-countdown' });
  const announcer = h('p', {
    class: 'nhsuk-u-visually-hidden',
    'aria-live': 'assertive',
    'aria-atomic': 'true',
    'data-testid': 'inactivity-announcement',
  });
  let ticks = 0;
  let shownAt: number | null = null;
  ctx.onTick((now) => {
    const left = view.idleEndsAt - now;
    countdown.textContent = `Time left: ${formatDuration(left)}`;
    ticks += 1;
    if (shownAt !== null && now - shownAt >= ANNOUNCE_FOR) {
      announcer.textContent = '';
      shownAt = null;
    }
    // The first tick comes as the warning is drawn: a live region must be on the page before its words
    // change, or it may not be read out.
    if (ticks === 1) return;
    const due = ANNOUNCE_AT.filter((at) => left <= at).pop();
    if (due === undefined) return;
    // Remembered across redraws, so a warning drawn again is not read out again.
    const last = ctx.ui.inactivityAnnounced;
    if (last && last.idleEndsAt === view.idleEndsAt && last.at <= due) return;
    ctx.ui.inactivityAnnounced = { idleEndsAt: view.idleEndsAt, at: due };
    announcer.textContent = announcement(due, left);
    shownAt = now;
  });
  return h(
    'div',
    { class: 'nhsuk-card nhsuk-card--warning careid-inactivity', 'data-testid': 'inactivity-warning' },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h('h2', { class: 'nhsuk-card__heading' }, 'You will be signed out soon'),
      h('p', { class: 'nhsuk-card__description' }, 'You will be signed out in about a minute because you have not used this device.'),
      countdown,
      announcer,
      h(
        'div',
        { class: 'nhsuk-button-group' },
        button('Stay signed in', () => ctx.run(() => api.staySignedIn()), { 'data-testid': 'stay-signed-in' }),
        button('Sign out now', () => ctx.run(() => api.signOut()), { 'data-testid': 'sign-out-now' }, 'secondary'),
      ),
    ),
  );
}

/** What the live region says at `due` seconds left (the time left itself, when the warning came late). */
function announcement(due: number, left: number): string {
  const seconds = left > due - ANNOUNCE_FOR ? due : Math.max(1, Math.ceil(left));
  const when = seconds >= 60 ? '1 minute' : plural(seconds, 'second', 'seconds');
  if (due === 60) {
    return `You will be signed out of careid in ${when} because you have not used this device. Choose Stay signed in to carry on.`;
  }
  return `You will be signed out of careid in ${when}.`;
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
