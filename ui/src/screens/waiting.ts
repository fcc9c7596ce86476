// The waiting screen: the sign-in continues in the browser; elapsed time, what to try, and a way out.
import type { WaitingView } from '../generated/ipc';
import type { Ctx } from '../context';
import * as api from '../api';
import { button, h, heading1 } from '../dom';
import { formatDuration } from '../time';

export function renderWaiting(ctx: Ctx, view: WaitingView): Node[] {
  const elapsed = h('p', { class: 'nhsuk-body-l careid-elapsed', 'data-testid': 'waiting-elapsed' });
  const remaining = h('p', { class: 'nhsuk-body', 'data-testid': 'waiting-remaining' });
  const hint = renderHint(view.redirectUri, view.redirectUriAccepted);
  ctx.onTick((now) => {
    // Text-only updates: nothing is redrawn, so focus and screen-reader position stay put.
    elapsed.textContent = `Waiting ${formatDuration(now - view.startedAt)}`;
    remaining.textContent = `Time left to finish signing in: ${formatDuration(view.deadline - now)}`;
    hint.hidden = now - view.startedAt < view.hintAfterSeconds;
  });

  const copied = h(
    'p',
    { class: 'nhsuk-body', role: 'status', 'data-testid': 'copy-link-confirmation' },
    ctx.ui.linkCopied ? 'Sign-in link copied. Paste it into the browser you use for your Care Identity.' : '',
  );

  return [
    heading1(view.changingRole ? 'Continue in your browser to change your role' : 'Continue in your browser'),
    h(
      'p',
      { class: 'nhsuk-body' },
      'A sign-in page has opened in your browser. Sign in there with your smartcard, security key or Windows Hello, then come back to careid.',
    ),
    elapsed,
    remaining,
    // The actions before the hint that comes after a while, so it never pushes Cancel below the
    // fold (1024 by 768, or a tablet).
    h(
      'div',
      { class: 'nhsuk-button-group' },
      button('Open the sign-in page again', () => ctx.run(() => api.openSignInPageAgain()), { 'data-testid': 'open-again' }, 'secondary'),
      button(
        'Copy sign-in link',
        () =>
          ctx.run(
            () => api.copySignInLink(),
            () => {
              ctx.ui.linkCopied = true;
              ctx.rerender();
            },
          ),
        { 'data-testid': 'copy-link' },
        'secondary',
      ),
      button('Cancel', () => ctx.run(() => api.cancelSignIn()), { 'data-testid': 'cancel-sign-in' }, 'secondary'),
    ),
    copied,
    hint,
  ];
}

function renderHint(redirectUri: string, redirectUriAccepted: boolean): HTMLElement {
  // A provider that refuses the redirect URI says so in the browser and never sends it back. When
  // a pushed request already had it accepted, that reason is not offered.
  const refused = redirectUriAccepted
    ? null
    : h(
        'li',
        { 'data-testid': 'waiting-hint-redirect' },
        'the browser shows an error about the redirect URI: ask for ',
        h('code', { class: 'careid-wrap' }, redirectUri),
        ' to be registered with CIS2 for this client (Profiles, Check provider lists every address to register)',
      );
  return h(
    'div',
    { class: 'nhsuk-inset-text', 'data-testid': 'waiting-hint', hidden: true },
    h('h2', { class: 'nhsuk-heading-s' }, 'Nothing yet?'),
    h('p', {}, 'The usual reasons are:'),
    h(
      'ul',
      { class: 'nhsuk-list nhsuk-list--bullet' },
      refused,
      h('li', {}, 'the page opened in another browser or browser profile: copy the sign-in link and paste it into the right one'),
      h(
        'li',
        {},
        'a firewall or antivirus is blocking ',
        h('code', { class: 'careid-wrap' }, loopbackAddress(redirectUri)),
        ', the address on this computer where the browser sends its answer',
      ),
      h('li', {}, 'the sign-in page was closed: open it again'),
    ),
  );
}

/** "http://127.0.0.1:53682" from the redirect URI; the whole string if it does not parse. */
export function loopbackAddress(redirectUri: string): string {
  try {
    const url = new URL(redirectUri);
    return `${url.protocol}//${url.host}`;
  } catch {
    return redirectUri;
  }
}
