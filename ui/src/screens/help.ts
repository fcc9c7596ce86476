// The help page: how signing in works and what to do when it does not, in plain words.
import type { Ctx } from '../context';
import { h, heading1, navLink } from '../dom';

export function renderHelp(ctx: Ctx): Node[] {
  const section = (title: string, ...paragraphs: string[]) => [
    h('h2', { class: 'nhsuk-heading-m' }, title),
    ...paragraphs.map((p) => h('p', { class: 'nhsuk-body' }, p)),
  ];
  return [
    navLink('Back', () => ctx.go('main'), { class: 'nhsuk-back-link careid-target', 'data-testid': 'back-link' }),
    heading1('Help'),
    ...section(
      'Signing in',
      'Press “Log in with my Care Identity”. Your browser opens the NHS Care Identity Service sign-in page. Sign in there with your smartcard, security key or Windows Hello, then come back to careid.',
      'If you have more than one role, careid asks which one you are working in.',
    ),
    ...section(
      'If nothing happens in the browser',
      'Use “Copy sign-in link” on the waiting screen and paste the link into the browser you use for your Care Identity.',
      'If your firewall or antivirus asks about careid, allow it to listen on 127.0.0.1: that is how the browser hands the sign-in back to careid on this computer.',
    ),
    ...section(
      'Signing out',
      'careid signs you out after a time without activity, and at the end of the session limit. Signing out of careid does not close the sign-in tab in your browser: close it yourself if you share this computer.',
    ),
    ...section(
      'Roles',
      'Your roles come from your Registration Authority (RA). If a role is missing or wrong, ask your RA to change it, then sign in again.',
    ),
    ...section('Keyboard', 'Everything in careid works with the keyboard: Tab moves between controls, and the arrow keys move between tabs and between options.'),
  ];
}
