// The choose-your-role screen: radios grouped by organisation, a search for long lists, and validation.
import type { RoleChoiceView, RoleView } from '../generated/ipc';
import type { Ctx } from '../context';
import * as api from '../api';
import { button, details, h, heading1 } from '../dom';

/** With more roles than this, finding one by eye gets slow, so a search box appears. */
export const SEARCH_THRESHOLD = 5;
const ERROR_ID = 'role-error';

/** True when `query` (any case, any word order) appears in the role's name, codes, organisation or activities. */
export function roleMatches(role: RoleView, query: string): boolean {
  const haystack = [role.name, role.code, role.jobRoleCode, role.organisation.name, role.organisation.code, ...role.activities]
    .join(' ')
    .toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
}

export function renderChooseRole(ctx: Ctx, view: RoleChoiceView): Node[] {
  const ui = ctx.ui;
  if (ui.roleChoice === null) ui.roleChoice = view.preselected;
  const total = view.groups.reduce((n, g) => n + g.roles.length, 0);
  const items: Array<{ role: RoleView; item: HTMLElement }> = [];
  const groups: Array<{ fieldset: HTMLElement; members: HTMLElement[] }> = [];
  let index = 0;

  const groupNodes = view.groups.map((group) => {
    const members: HTMLElement[] = [];
    const radios = h('div', { class: 'nhsuk-radios' });
    for (const role of group.roles) {
      index += 1;
      const id = `role-${index}`;
      const input = h('input', {
        class: 'nhsuk-radios__input',
        id,
        name: 'role',
        type: 'radio',
        value: role.id,
        checked: ui.roleChoice === role.id,
        'aria-describedby': `${id}-hint`,
      });
      input.addEventListener('change', () => {
        ui.roleChoice = role.id;
      });
      const tag = role.id === view.preselected ? (view.changing ? 'Current role' : 'Last used') : null;
      const item = h(
        'div',
        { class: 'nhsuk-radios__item' },
        input,
        h(
          'label',
          { class: 'nhsuk-label nhsuk-radios__label', for: id },
          role.name,
          tag ? h('strong', { class: 'nhsuk-tag nhsuk-tag--blue careid-tag', 'data-testid': 'role-tag' }, tag) : null,
        ),
        // The role code holds the job role's R-code already: it is shown once.
        h('div', { class: 'nhsuk-hint nhsuk-radios__hint', id: `${id}-hint` }, h('span', { class: 'careid-wrap', 'data-testid': 'role-option-code' }, role.code)),
        role.activities.length > 0
          ? h(
              'div',
              { class: 'careid-radios__more' },
              details(
                `Activities (${role.activities.length})`,
                h('ul', { class: 'nhsuk-list nhsuk-list--bullet careid-activities' }, ...role.activities.map((a) => h('li', {}, a))),
                { id: `${id}-activities`, 'data-testid': 'role-activities' },
              ),
            )
          : null,
      );
      items.push({ role, item });
      members.push(item);
      radios.append(item);
    }
    const fieldset = h(
      'fieldset',
      { class: 'nhsuk-fieldset careid-role-group', 'data-testid': 'role-group', 'aria-describedby': ui.roleError ? ERROR_ID : null },
      h(
        'legend',
        { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' },
        `${group.organisation.name} (${group.organisation.code})`,
      ),
      radios,
    );
    groups.push({ fieldset, members });
    return fieldset;
  });

  const nodes: Node[] = [];
  if (ui.roleError) {
    const summary = h(
      'div',
      { class: 'nhsuk-error-summary', tabindex: -1, 'data-testid': 'role-error-summary', 'aria-labelledby': 'role-error-summary-title' },
      h(
        'div',
        { role: 'alert' },
        h('h2', { class: 'nhsuk-error-summary__heading', id: 'role-error-summary-title' }, 'There is a problem'),
        h(
          'div',
          { class: 'nhsuk-error-summary__body' },
          h('ul', { class: 'nhsuk-list nhsuk-error-summary__list' }, h('li', {}, errorLink())),
        ),
      ),
    );
    nodes.push(summary);
  }

  nodes.push(
    heading1(view.changing ? 'Change your role' : 'Choose your role'),
    h('p', { class: 'nhsuk-body' }, `Signed in as ${view.user.label}. Choose the role you are working in today.`),
  );

  const form = h('form', { novalidate: true, 'aria-labelledby': 'roles-form-label' });
  form.append(h('p', { class: 'nhsuk-u-visually-hidden', id: 'roles-form-label' }, 'Your roles'));

  if (total > SEARCH_THRESHOLD) {
    const count = h('p', { class: 'nhsuk-body-s', 'data-testid': 'role-search-count', 'aria-live': 'polite' });
    const search = h('input', {
      class: 'nhsuk-input',
      id: 'role-search',
      name: 'role-search',
      type: 'search',
      value: ui.roleSearch,
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-describedby': 'role-search-hint',
      'data-testid': 'role-search',
    });
    const apply = () => {
      ui.roleSearch = search.value;
      let shown = 0;
      for (const { role, item } of items) {
        const match = roleMatches(role, search.value);
        item.hidden = !match;
        if (match) shown += 1;
      }
      for (const g of groups) g.fieldset.hidden = g.members.every((m) => m.hidden);
      count.textContent = shown === 1 ? '1 role matches' : `${shown} roles match`;
    };
    search.addEventListener('input', apply);
    // Enter in the search box filters; it must not submit the role form.
    search.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') event.preventDefault();
    });
    form.append(
      h(
        'div',
        { class: 'nhsuk-form-group' },
        h('label', { class: 'nhsuk-label', for: 'role-search' }, 'Search roles'),
        h('div', { class: 'nhsuk-hint', id: 'role-search-hint' }, 'By role name, code, organisation name or ODS code, or activity'),
        search,
        count,
      ),
    );
    apply();
  }

  const group = h(
    'div',
    { class: ui.roleError ? 'nhsuk-form-group nhsuk-form-group--error' : 'nhsuk-form-group' },
    ui.roleError
      ? h('span', { class: 'nhsuk-error-message', id: ERROR_ID }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '), 'Choose a role')
      : null,
    ...groupNodes,
  );
  form.append(group);

  const actions = h(
    'div',
    { class: 'nhsuk-button-group' },
    h('button', { type: 'submit', class: 'nhsuk-button', 'data-testid': 'choose-role-submit' }, 'Continue'),
    view.changing
      ? button('Keep current role', () => ctx.run(() => api.keepCurrentRole()), { 'data-testid': 'keep-current-role' }, 'secondary')
      : null,
  );
  form.append(actions);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = form.querySelector<HTMLInputElement>('input[name="role"]:checked');
    if (!chosen) {
      ui.roleError = true;
      ctx.rerender();
      document.querySelector<HTMLElement>('[data-testid="role-error-summary"]')?.focus();
      return;
    }
    ui.roleError = false;
    ctx.run(() => api.chooseRole(chosen.value));
  });
  nodes.push(form);
  return nodes;
}

function errorLink(): HTMLAnchorElement {
  const link = h('a', { href: '#role-1' }, 'Choose a role');
  link.addEventListener('click', (event) => {
    event.preventDefault();
    document.getElementById('role-1')?.focus();
  });
  return link;
}
