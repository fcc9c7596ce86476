// The home screen: the profile in use, the "Log in with my Care Identity" button and the mock's test users.
import type { MockGuide } from '../generated/ipc';
import type { Ctx } from '../context';
import * as api from '../api';
import { details, h, heading1, navLink } from '../dom';
import { renderOverridesForm, toLoginOverrides } from './overrides';

const SVG = 'http://www.w3.org/2000/svg';

export function renderHome(ctx: Ctx): Node[] {
  const { state } = ctx;
  const profile = state.profile;
  const nodes: Node[] = [heading1('Sign in to careid')];

  nodes.push(
    h(
      'p',
      { class: 'nhsuk-body' },
      'Profile in use: ',
      h('strong', { 'data-testid': 'profile-name' }, profile.name),
      ` – ${profile.description}. `,
      navLink('Change profile', () => ctx.go('profiles'), { 'data-testid': 'change-profile', class: 'careid-target' }),
    ),
  );

  const ready = profile.missing.length === 0;
  if (!ready) {
    nodes.push(
      h(
        'div',
        { class: 'nhsuk-card nhsuk-card--warning', 'data-testid': 'profile-not-ready' },
        h(
          'div',
          { class: 'nhsuk-card__content' },
          h('h2', { class: 'nhsuk-card__heading' }, 'This profile is not ready'),
          h('p', { class: 'nhsuk-card__description' }, `Before you can sign in with “${profile.name}”, it needs:`),
          h('ul', { class: 'nhsuk-list nhsuk-list--bullet' }, ...profile.missing.map((m) => h('li', {}, m))),
          h('p', {}, navLink('Set up the profile on the Profiles page', () => ctx.go('profiles'), { class: 'careid-target' })),
        ),
      ),
    );
  }

  const signIn = careIdentityButton(!ready);
  signIn.addEventListener('click', () => {
    const overrides = state.preferences.testersView ? toLoginOverrides(ctx.ui.overrides) : null;
    ctx.run(() => api.signIn(overrides));
  });
  nodes.push(
    h(
      'p',
      { class: 'nhsuk-body' },
      'Use your smartcard, security key or Windows Hello. The sign-in page opens in your browser.',
    ),
    signIn,
  );

  if (state.preferences.testersView) nodes.push(renderOverridesForm(ctx));
  if (profile.name === 'mock') nodes.push(renderMockGuide(state.mockGuide));
  return nodes;
}

/**
 * A faithful build of NHS England's "Log in with my Care Identity" button: NHS blue (#005eb8) with
 * white text, a simple Care Identity mark and the agreed wording, at least 44 px tall and full width
 * on narrow screens. When NHS England's official button artwork can be downloaded, put it in
 * src/assets/ (see src/assets/README.md) and use it here instead of this mark.
 */
export function careIdentityButton(disabled: boolean): HTMLButtonElement {
  const btn = h(
    'button',
    {
      type: 'button',
      class: 'nhsuk-button nhsuk-button--login careid-cis2-button',
      'data-testid': 'sign-in-button',
      disabled,
      'aria-disabled': disabled ? 'true' : null,
    },
    careIdentityMark(),
    h('span', { class: 'careid-cis2-button__text' }, 'Log in with my Care Identity'),
  );
  return btn;
}

// A person inside a rounded card outline: the idea of NHS England's mark, drawn in currentColor.
function careIdentityMark(): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'careid-cis2-button__mark');
  svg.setAttribute('viewBox', '0 0 32 32');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '28');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const shapes: Array<[string, Record<string, string>]> = [
    ['rect', { x: '2', y: '5', width: '28', height: '22', rx: '4', fill: 'none', stroke: 'currentColor', 'stroke-width': '2.5' }],
    ['circle', { cx: '12', cy: '13.5', r: '3.5', fill: 'currentColor' }],
    ['path', { d: 'M6 23c0-3.3 2.7-5 6-5s6 1.7 6 5z', fill: 'currentColor' }],
    ['rect', { x: '20', y: '11', width: '7', height: '2.5', rx: '1', fill: 'currentColor' }],
    ['rect', { x: '20', y: '16', width: '7', height: '2.5', rx: '1', fill: 'currentColor' }],
  ];
  for (const [tag, attrs] of shapes) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  }
  return svg;
}

function renderMockGuide(guide: MockGuide): HTMLElement {
  const th = (text: string) => h('th', { class: 'nhsuk-table__header', scope: 'col' }, text);
  const td = (text: string) => h('td', { class: 'nhsuk-table__cell careid-wrap' }, text);
  const users = h(
    'table',
    { class: 'nhsuk-table', 'data-testid': 'mock-users' },
    h('caption', { class: 'nhsuk-table__caption' }, 'Test users'),
    h('thead', { class: 'nhsuk-table__head' }, h('tr', { class: 'nhsuk-table__row' }, th('User ID'), th('Name'), th('Description'), th('Roles'), th('Authenticators'))),
    h(
      'tbody',
      { class: 'nhsuk-table__body' },
      ...guide.users.map((u) =>
        h('tr', { class: 'nhsuk-table__row' }, td(u.id), td(u.name), td(u.description), td(String(u.roles)), td(u.authenticators.join(', '))),
      ),
    ),
  );
  const authenticators = h(
    'table',
    { class: 'nhsuk-table', 'data-testid': 'mock-authenticators' },
    h('caption', { class: 'nhsuk-table__caption' }, 'Authenticators'),
    h('thead', { class: 'nhsuk-table__head' }, h('tr', { class: 'nhsuk-table__row' }, th('Authenticator'), th('Assurance level'), th('amr'))),
    h(
      'tbody',
      { class: 'nhsuk-table__body' },
      ...guide.authenticators.map((a) =>
        h('tr', { class: 'nhsuk-table__row' }, td(a.label), td(`AAL${a.assuranceLevel}`), td(a.amr)),
      ),
    ),
  );
  return h(
    'section',
    { 'aria-labelledby': 'home-help-heading', class: 'careid-section' },
    h('h2', { class: 'nhsuk-heading-m', id: 'home-help-heading' }, 'Help'),
    details(
      'Test users of the built-in mock',
      h(
        'div',
        {},
        h('p', {}, 'The built-in mock is a pretend CIS2 for testing. On its sign-in page, pick one of these users and an authenticator.'),
        h('div', { class: 'careid-table-scroll' }, users),
        h('div', { class: 'careid-table-scroll' }, authenticators),
      ),
      { id: 'mock-guide' },
    ),
  );
}
