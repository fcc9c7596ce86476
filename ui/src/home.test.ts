// Tests for the home screen's DOM: structure, version text and error alert.
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { renderHome, showAppInfo, showError } from './home';

let root: HTMLElement;

beforeEach(() => {
  document.title = '';
  root = document.createElement('div');
  renderHome(root);
});

const byTestId = (id: string) => root.querySelector<HTMLElement>(`[data-testid="${id}"]`);

describe('renderHome', () => {
  it('renders the NHS.UK page structure with landmarks and a skip link', () => {
    expect(document.title).toBe('careid');
    expect(root.querySelector('header.nhsuk-header .nhsuk-header__service-name')?.textContent).toBe('careid');
    expect(root.querySelector('main#maincontent.nhsuk-main-wrapper h1')?.textContent).toBe('careid');
    expect(root.querySelector('footer.nhsuk-footer')).not.toBeNull();
    const skip = root.querySelector<HTMLAnchorElement>('a.nhsuk-skip-link');
    expect(skip?.getAttribute('href')).toBe('#maincontent');
    expect(root.firstElementChild).toBe(skip);
  });

  it('says what careid is', () => {
    expect(root.querySelector('.nhsuk-lede-text')?.textContent).toBe(
      'Sign in to NHS Care Identity Service 2 (CIS2) from your desktop, with your smartcard, security key or Windows Hello.',
    );
  });

  it('shows the loading text and no alert before app_info answers', () => {
    const version = byTestId('app-version');
    expect(version?.id).toBe('app-version');
    expect(version?.textContent).toBe('Loading version…');
    expect(byTestId('app-error')?.hidden).toBe(true);
  });

  it('uses no inline style attributes (the CSP forbids them)', () => {
    expect(root.querySelectorAll('[style]')).toHaveLength(0);
    expect(root.querySelectorAll('script, style')).toHaveLength(0);
  });
});

describe('showAppInfo', () => {
  it('shows exactly "Version <version> (<profile> build)"', () => {
    showAppInfo(root, { name: 'careid', version: '0.1.0', buildProfile: 'debug' });
    expect(byTestId('app-version')?.textContent).toBe('Version 0.1.0 (debug build)');

    showAppInfo(root, { name: 'careid', version: '1.2.3-rc.1', buildProfile: 'release' });
    expect(byTestId('app-version')?.textContent).toBe('Version 1.2.3-rc.1 (release build)');
  });

  it('treats the version as text, not HTML', () => {
    showAppInfo(root, { name: 'careid', version: '<img src=x>', buildProfile: 'release' });
    expect(byTestId('app-version')?.querySelector('img')).toBeNull();
    expect(byTestId('app-version')?.textContent).toBe('Version <img src=x> (release build)');
  });
});

describe('showError', () => {
  it('shows the sentence for the code in a visible alert', () => {
    showError(root, new ApiError('ipc_failed', 'raw detail'));
    const alert = byTestId('app-error');
    expect(alert?.getAttribute('role')).toBe('alert');
    expect(alert?.hidden).toBe(false);
    expect(alert?.textContent).toBe('Sorry, this screen could not talk to careid. Close careid and open it again.');
    expect(byTestId('app-version')?.textContent).toBe('Version unknown');
  });
});
