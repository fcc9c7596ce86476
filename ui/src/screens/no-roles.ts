// The no-roles screen: signed in to CIS2, but with no role careid can act in; check again once the RA has added one.
import type { NoRolesView } from '../generated/ipc';
import type { Ctx } from '../context';
import * as api from '../api';
import { button, h, heading1 } from '../dom';
import { signOutControl } from './sign-out';

export function renderNoRoles(ctx: Ctx, view: NoRolesView): Node[] {
  // careid learns the roles from UserInfo at sign-in, so checking again is a new sign-in: the
  // browser opens, and the roles CIS2 sends back this time are the ones shown.
  const checkAgain = button('Check again', () => ctx.run(() => api.signIn(null)), {
    'data-testid': 'check-again',
    'aria-describedby': 'check-again-hint',
  });
  return [
    heading1('You do not have a role in the Care Identity Service'),
    h('p', { class: 'nhsuk-body' }, `You signed in as ${view.user.label}, but your Care Identity has no role to work in.`),
    h('h2', { class: 'nhsuk-heading-m' }, 'What to do'),
    h(
      'ol',
      { class: 'nhsuk-list nhsuk-list--number' },
      h('li', {}, 'Ask your Registration Authority (RA) to give you a role.'),
      h('li', {}, 'When they have, choose “Check again”.'),
    ),
    h(
      'div',
      { class: 'careid-check-again' },
      checkAgain,
      h(
        'p',
        { class: 'nhsuk-hint', id: 'check-again-hint', 'data-testid': 'check-again-hint' },
        'Your browser opens so you can sign in again, and careid asks CIS2 for your roles',
      ),
    ),
    signOutControl(ctx, 'no-roles-sign-out'),
  ];
}
