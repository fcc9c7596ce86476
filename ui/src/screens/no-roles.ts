// The no-roles screen: signed in to CIS2, but with no role careid can act in.
import type { NoRolesView } from '../generated/ipc';
import type { Ctx } from '../context';
import * as api from '../api';
import { button, h, heading1 } from '../dom';

export function renderNoRoles(ctx: Ctx, view: NoRolesView): Node[] {
  return [
    heading1('You do not have a role in the Care Identity Service'),
    h('p', { class: 'nhsuk-body' }, `You signed in as ${view.user.name} (${view.user.userId}), but your Care Identity has no role to work in.`),
    h('h2', { class: 'nhsuk-heading-m' }, 'What to do'),
    h(
      'ol',
      { class: 'nhsuk-list nhsuk-list--number' },
      h('li', {}, 'Ask your Registration Authority (RA) to give you a role.'),
      h('li', {}, 'When they have, sign in again.'),
    ),
    button('Sign out', () => ctx.run(() => api.signOut()), { 'data-testid': 'no-roles-sign-out' }),
  ];
}
