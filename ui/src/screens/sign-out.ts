// Sign out: one NHS secondary button that says the browser opens, since ending the CIS2 session happens there.
import type { Ctx } from '../context';
import * as api from '../api';
import { button, h } from '../dom';

export const SIGN_OUT_HINT = 'Your browser opens to end your Care Identity session';

/**
 * The screen's one Sign out. Secondary, not the red warning button: NHS.UK keeps red for actions
 * that destroy something, and signing out loses nothing. Placed near the top so it is in view
 * without scrolling on a 1024×768 laptop and a portrait tablet.
 */
export function signOutControl(ctx: Ctx, testId: string): HTMLElement {
  return h(
    'div',
    { class: 'careid-sign-out' },
    button('Sign out', () => ctx.run(() => api.signOut()), { 'data-testid': testId, 'aria-describedby': 'sign-out-hint' }, 'secondary'),
    h('p', { class: 'nhsuk-hint careid-sign-out__hint', id: 'sign-out-hint', 'data-testid': 'sign-out-hint' }, SIGN_OUT_HINT),
  );
}
