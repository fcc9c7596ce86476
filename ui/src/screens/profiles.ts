// The profiles page: each profile with use/edit/remove/check, the profile form, the credential field, settings.
import type { DoctorLine, DoctorStatus, ProfileInput, ProfileView } from '../generated/ipc';
import { type Ctx, type ProfileDraft, emptyProfileDraft } from '../context';
import * as api from '../api';
import { button, h, heading1, navLink, summaryList, summaryRow } from '../dom';

const CLIENT_AUTH = ['none', 'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'];
const ALGORITHMS = ['', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'HS256', 'HS384', 'HS512'];

export function renderProfiles(ctx: Ctx): Node[] {
  const { state, ui } = ctx;
  const nodes: Node[] = [navLink('Back', () => ctx.go('main'), { class: 'nhsuk-back-link careid-target', 'data-testid': 'back-link' })];
  if (ui.profileSaved) nodes.push(savedBanner(ui.profileSaved));
  nodes.push(
    heading1('Profiles'),
    h('p', { class: 'nhsuk-body' }, 'A profile says which sign-in service careid uses and how. Profile in use: ', h('strong', {}, state.profile.name), '.'),
  );
  nodes.push(h('ul', { class: 'nhsuk-list careid-profile-list' }, ...state.profiles.map((p) => renderProfileRow(ctx, p))));
  nodes.push(renderForm(ctx));
  nodes.push(renderCredential(ctx));
  nodes.push(renderSettings(ctx));
  return nodes;
}

// NHS notification banner (success): news about the user's own action, not an error.
function savedBanner(name: string): HTMLElement {
  return h(
    'div',
    {
      class: 'nhsuk-notification-banner nhsuk-notification-banner--success',
      role: 'alert',
      'aria-labelledby': 'profile-saved-title',
      'data-testid': 'profile-saved-banner',
    },
    h('div', { class: 'nhsuk-notification-banner__header' }, h('h2', { class: 'nhsuk-notification-banner__title', id: 'profile-saved-title' }, 'Success')),
    h(
      'div',
      { class: 'nhsuk-notification-banner__content' },
      h('p', { class: 'nhsuk-notification-banner__heading careid-wrap', 'data-testid': 'profile-saved' }, `Profile “${name}” saved`),
    ),
  );
}

function credentialWords(credential: string): string {
  if (credential === 'stored') return 'stored';
  if (credential === 'missing') return 'missing';
  if (credential === 'notNeeded' || credential === 'not_needed' || credential === 'none') return 'not needed';
  return credential;
}

function renderProfileRow(ctx: Ctx, p: ProfileView): HTMLElement {
  const { state, ui } = ctx;
  const inUse = p.name === state.profile.name;
  const headingId = `profile-${p.name}-heading`;
  const actions = h('div', { class: 'nhsuk-button-group' });
  if (!inUse) {
    actions.append(button('Use this profile', () => ctx.run(() => api.useProfile(p.name)), { 'data-testid': 'use-profile', 'aria-describedby': headingId }));
  }
  actions.append(
    button('Edit', () => startEditing(ctx, p), { 'data-testid': 'edit-profile', 'aria-describedby': headingId }, 'secondary'),
    button(
      'Check provider',
      () =>
        ctx.run(
          () => api.checkProfile(p.name),
          (lines) => {
            ui.doctor[p.name] = lines;
            ctx.rerender();
          },
        ),
      { 'data-testid': 'check-profile', 'aria-describedby': headingId },
      'secondary',
    ),
  );
  if (!p.builtIn) {
    actions.append(
      button(
        'Remove',
        () => {
          ui.confirmRemove = p.name;
          ctx.rerender();
          document.querySelector<HTMLElement>('[data-testid="confirm-remove"]')?.focus();
        },
        { 'data-testid': 'remove-profile', 'aria-describedby': headingId },
        'warning',
      ),
    );
  }

  const row = h(
    'li',
    { class: 'nhsuk-card careid-profile', 'data-testid': 'profile-row', 'data-profile': p.name },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h(
        'h2',
        { class: 'nhsuk-card__heading nhsuk-heading-m careid-wrap', id: headingId },
        p.name,
        inUse ? h('strong', { class: 'nhsuk-tag nhsuk-tag--green careid-tag' }, 'In use') : null,
        p.builtIn ? h('strong', { class: 'nhsuk-tag nhsuk-tag--grey careid-tag' }, 'Built in') : null,
      ),
      h('p', { class: 'nhsuk-card__description' }, p.description),
      summaryList(
        summaryRow('Issuer', h('span', { class: 'careid-wrap' }, p.issuer ?? 'the built-in mock’s own, chosen when it starts')),
        summaryRow('Client ID', h('span', { class: 'careid-wrap' }, p.clientId ?? 'not set')),
        summaryRow('Client authentication', p.clientAuth),
        summaryRow('Credential', credentialWords(p.credential), 'profile-credential'),
        summaryRow(
          'Redirect URIs to register',
          p.redirectUris.length === 0
            ? h('span', { class: 'careid-wrap' }, p.redirectRegister)
            : h('ul', { class: 'nhsuk-list' }, ...p.redirectUris.map((uri) => h('li', {}, h('code', { class: 'careid-wrap' }, uri)))),
          'profile-redirect-uris',
        ),
        summaryRow(
          'Needs',
          p.missing.length === 0 ? 'nothing: ready to sign in' : h('ul', { class: 'nhsuk-list' }, ...p.missing.map((m) => h('li', {}, m))),
          'profile-missing',
        ),
      ),
      actions,
      ui.confirmRemove === p.name ? renderConfirmRemove(ctx, p.name) : null,
      ui.doctor[p.name] ? renderDoctor(ui.doctor[p.name] ?? []) : null,
    ),
  );
  return row;
}

function renderConfirmRemove(ctx: Ctx, name: string): HTMLElement {
  return h(
    'div',
    { class: 'nhsuk-card nhsuk-card--warning', 'data-testid': 'confirm-remove-box' },
    h(
      'div',
      { class: 'nhsuk-card__content' },
      h('p', { class: 'nhsuk-card__description' }, `Remove the profile “${name}”? Its stored client secret or key is removed too.`),
      h(
        'div',
        { class: 'nhsuk-button-group' },
        button(
          'Yes, remove it',
          () => {
            ctx.ui.confirmRemove = null;
            ctx.run(() => api.removeProfile(name));
          },
          { 'data-testid': 'confirm-remove' },
          'warning',
        ),
        button(
          'No, keep it',
          () => {
            ctx.ui.confirmRemove = null;
            ctx.rerender();
          },
          { 'data-testid': 'cancel-remove' },
          'secondary',
        ),
      ),
    ),
  );
}

const STATUS_TAG: Readonly<Record<DoctorStatus, string>> = {
  pass: 'nhsuk-tag--green',
  warn: 'nhsuk-tag--yellow',
  fail: 'nhsuk-tag--red',
  info: 'nhsuk-tag--grey',
};

function renderDoctor(lines: DoctorLine[]): HTMLElement {
  return h(
    'div',
    { 'data-testid': 'doctor-result', role: 'status' },
    h('h3', { class: 'nhsuk-heading-s' }, 'Provider check'),
    h(
      'ul',
      { class: 'nhsuk-list careid-doctor' },
      ...lines.map((line) =>
        h(
          'li',
          { 'data-status': line.status },
          h('strong', { class: `nhsuk-tag ${STATUS_TAG[line.status] ?? 'nhsuk-tag--grey'} careid-tag` }, line.status),
          ' ',
          h('span', {}, line.name),
          line.detail ? h('span', { class: 'careid-wrap' }, `: ${line.detail}`) : null,
        ),
      ),
    ),
  );
}

function startEditing(ctx: Ctx, p: ProfileView): void {
  const ui = ctx.ui;
  ui.editing = p.name;
  ui.formErrors = {};
  ui.draft = {
    name: p.name,
    issuer: p.issuer ?? '',
    clientId: p.clientId ?? '',
    clientAuth: p.clientAuth,
    assertionAlgorithm: p.assertionAlgorithm ?? '',
    scopes: p.scopes.join(' '),
    acrValues: p.acrValues ?? '',
    prompt: p.prompt ?? '',
    maxAge: p.maxAge === null ? '' : String(p.maxAge),
    roleSelection: p.roleSelection,
    redirectPorts: p.redirectPorts.join(', '),
    inactivityMinutes: String(p.inactivityMinutes),
    absoluteHours: String(p.absoluteHours),
  };
  ctx.rerender();
  document.getElementById('profile-form-heading')?.focus();
}

type Parsed = { input: ProfileInput } | { errors: Partial<Record<keyof ProfileDraft, string>> };

/** Checks what was typed and maps it to ProfileInput; empty optional fields become null. */
export function parseProfileDraft(d: ProfileDraft): Parsed {
  const errors: Partial<Record<keyof ProfileDraft, string>> = {};
  const name = d.name.trim();
  if (!name) errors.name = 'Enter a name for the profile';
  else if (!/^[A-Za-z0-9_-]+$/.test(name)) errors.name = 'Name must use only letters, numbers, hyphens and underscores';

  const whole = (key: keyof ProfileDraft, label: string, min: number): number | null => {
    const raw = d[key].trim();
    if (raw === '') return null;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      errors[key] = `${label} must be a whole number${min > 0 ? ` of ${min} or more` : ''}`;
      return null;
    }
    return n;
  };
  const maxAge = whole('maxAge', 'max_age', 0);
  const inactivityMinutes = whole('inactivityMinutes', 'Inactivity minutes', 1);
  const absoluteHours = whole('absoluteHours', 'Absolute hours', 1);

  let redirectPorts: number[] | null = null;
  const portsRaw = d.redirectPorts.trim();
  if (portsRaw) {
    const ports = portsRaw.split(',').map((s) => Number(s.trim()));
    if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
      errors.redirectPorts = 'Redirect ports must be numbers from 1 to 65535, separated by commas';
    } else redirectPorts = ports;
  }
  if (Object.keys(errors).length > 0) return { errors };

  const text = (s: string) => s.trim() || null;
  const scopes = d.scopes.split(/\s+/).filter(Boolean);
  return {
    input: {
      name,
      issuer: text(d.issuer),
      clientId: text(d.clientId),
      clientAuth: text(d.clientAuth),
      assertionAlgorithm: text(d.assertionAlgorithm),
      scopes: scopes.length > 0 ? scopes : null,
      acrValues: text(d.acrValues),
      prompt: text(d.prompt),
      maxAge,
      roleSelection: text(d.roleSelection),
      redirectPorts,
      inactivityMinutes,
      absoluteHours,
    },
  };
}

const FIELD_LABELS: Array<[keyof ProfileDraft, string]> = [
  ['name', 'Name'],
  ['issuer', 'Issuer'],
  ['clientId', 'Client ID'],
  ['scopes', 'Scopes'],
  ['acrValues', 'acr_values'],
  ['maxAge', 'max_age'],
  ['redirectPorts', 'Redirect ports'],
  ['inactivityMinutes', 'Inactivity minutes'],
  ['absoluteHours', 'Absolute hours'],
];

function renderForm(ctx: Ctx): HTMLElement {
  const ui = ctx.ui;
  const d = ui.draft;
  const errors = ui.formErrors;
  const id = (key: keyof ProfileDraft) => `profile-${key}`;

  const group = (key: keyof ProfileDraft, label: string, control: HTMLElement, hint?: string) => {
    const error = errors[key];
    const describedBy = [hint ? `${id(key)}-hint` : '', error ? `${id(key)}-error` : ''].filter(Boolean).join(' ');
    if (describedBy) control.setAttribute('aria-describedby', describedBy);
    if (error) control.classList.add(control.tagName === 'SELECT' ? 'nhsuk-select--error' : 'nhsuk-input--error');
    return h(
      'div',
      { class: error ? 'nhsuk-form-group nhsuk-form-group--error' : 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: id(key) }, label),
      // Hints may hold an issuer URL, which must wrap rather than widen the page (WCAG 1.4.10).
      hint ? h('div', { class: 'nhsuk-hint careid-wrap', id: `${id(key)}-hint` }, hint) : null,
      error
        ? h('span', { class: 'nhsuk-error-message', id: `${id(key)}-error` }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '), error)
        : null,
      control,
    );
  };
  const input = (key: keyof ProfileDraft, attrs: Record<string, string | boolean> = {}) => {
    const el = h('input', { class: 'nhsuk-input', id: id(key), name: key, type: 'text', value: d[key], autocomplete: 'off', spellcheck: 'false', ...attrs });
    el.addEventListener('input', () => {
      d[key] = el.value;
    });
    return el;
  };
  const select = (key: keyof ProfileDraft, options: Array<[string, string]>) => {
    const el = h(
      'select',
      { class: 'nhsuk-select', id: id(key), name: key },
      ...options.map(([value, label]) => h('option', { value, selected: d[key] === value }, label)),
    );
    el.addEventListener('change', () => {
      d[key] = el.value;
    });
    return el;
  };

  const editing = ui.editing;
  const form = h('form', { novalidate: true, 'data-testid': 'profile-form', 'aria-labelledby': 'profile-form-heading', class: 'careid-section' });
  form.append(h('h2', { class: 'nhsuk-heading-l', id: 'profile-form-heading', tabindex: -1 }, editing ? `Edit profile “${editing}”` : 'Add a profile'));

  const errorList = FIELD_LABELS.filter(([key]) => errors[key]);
  if (errorList.length > 0) {
    form.append(
      h(
        'div',
        { class: 'nhsuk-error-summary', tabindex: -1, 'data-testid': 'profile-form-errors', 'aria-labelledby': 'profile-form-errors-title' },
        h(
          'div',
          { role: 'alert' },
          h('h3', { class: 'nhsuk-error-summary__heading', id: 'profile-form-errors-title' }, 'There is a problem'),
          h(
            'div',
            { class: 'nhsuk-error-summary__body' },
            h('ul', { class: 'nhsuk-list nhsuk-error-summary__list' }, ...errorList.map(([key]) => h('li', {}, h('a', { href: `#${id(key)}` }, errors[key] ?? '')))),
          ),
        ),
      ),
    );
  }

  form.append(
    group('name', 'Name', input('name', editing ? { readonly: true } : {}), editing ? 'The name cannot change. Add a new profile to use another name.' : 'Letters, numbers, hyphens and underscores'),
    group('issuer', 'Issuer', input('issuer', { inputmode: 'url' }), 'Exactly as the provider publishes it, for example https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare'),
    group('clientId', 'Client ID', input('clientId')),
    group('clientAuth', 'Client authentication', select('clientAuth', CLIENT_AUTH.map((v) => [v, v]))),
    group('assertionAlgorithm', 'Assertion algorithm', select('assertionAlgorithm', ALGORITHMS.map((v) => [v, v || 'Default for the client authentication']))),
    group('scopes', 'Scopes', input('scopes'), 'Separated by spaces'),
    group('acrValues', 'acr_values', input('acrValues'), 'For example AAL3_ANY; leave empty to ask for nothing in particular'),
    group('prompt', 'prompt', select('prompt', [['', 'Not sent'], ['login', 'login'], ['none', 'none'], ['consent', 'consent']])),
    group('maxAge', 'max_age (seconds)', input('maxAge', { inputmode: 'numeric' }), 'Leave empty to not send it'),
    group('roleSelection', 'Role selection', select('roleSelection', [['app', 'In careid'], ['cis2', 'On the CIS2 page (selectedrole)']])),
    group('redirectPorts', 'Redirect ports', input('redirectPorts', { inputmode: 'numeric' }), 'Registered ports tried in order, separated by commas; leave empty for any free port'),
    group('inactivityMinutes', 'Inactivity limit (minutes)', input('inactivityMinutes', { inputmode: 'numeric' })),
    group('absoluteHours', 'Session limit (hours)', input('absoluteHours', { inputmode: 'numeric' })),
  );

  form.append(
    h(
      'div',
      { class: 'nhsuk-button-group' },
      h('button', { type: 'submit', class: 'nhsuk-button', 'data-testid': 'save-profile' }, 'Save profile'),
      editing
        ? button(
            'Add a new profile instead',
            () => {
              ui.editing = null;
              ui.draft = emptyProfileDraft();
              ui.formErrors = {};
              ctx.rerender();
            },
            { 'data-testid': 'new-profile' },
            'secondary',
          )
        : null,
    ),
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const parsed = parseProfileDraft(d);
    if ('errors' in parsed) {
      ui.formErrors = parsed.errors;
      ctx.rerender();
      document.querySelector<HTMLElement>('[data-testid="profile-form-errors"]')?.focus();
      return;
    }
    ui.formErrors = {};
    ctx.run(
      () => api.saveProfile(parsed.input),
      () => {
        ui.profileSaved = parsed.input.name;
        ui.editing = parsed.input.name;
        ctx.rerender();
      },
    );
  });
  return form;
}

function renderCredential(ctx: Ctx): HTMLElement {
  const ui = ctx.ui;
  const target = ui.editing ?? ctx.state.profile.name;
  const profile = ctx.state.profiles.find((p) => p.name === target);
  if (profile && credentialWords(profile.credential) === 'not needed') {
    // Nothing to store: a box for a secret here would only invite pasting one where it is unused.
    return h(
      'section',
      { class: 'careid-section', 'aria-labelledby': 'credential-heading' },
      h('h2', { class: 'nhsuk-heading-l', id: 'credential-heading' }, 'Client secret or private key'),
      h('p', { class: 'nhsuk-body', 'data-testid': 'credential-not-needed' }, `The “${target}” profile needs no client secret or private key.`),
    );
  }
  const field = h('textarea', {
    class: 'nhsuk-textarea',
    id: 'credential-input',
    name: 'credential',
    rows: 5,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'credential-input-hint',
    'data-testid': 'credential-input',
  });
  const store = button(
    'Store in the keychain',
    () => {
      const value = field.value;
      if (!value.trim()) return;
      ctx.run(
        () => api.storeCredential(target, value),
        () => {
          ui.credentialStoredFor = target;
          ui.clearCredential = true;
          field.value = '';
          ctx.rerender();
        },
      );
    },
    { 'data-testid': 'store-credential' },
    'secondary',
  );
  return h(
    'section',
    { class: 'careid-section', 'aria-labelledby': 'credential-heading' },
    h('h2', { class: 'nhsuk-heading-l', id: 'credential-heading' }, 'Client secret or private key'),
    h(
      'div',
      { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'credential-input' }, `Client secret or private key for the “${target}” profile`),
      h(
        'div',
        { class: 'nhsuk-hint', id: 'credential-input-hint' },
        'Paste the client secret, or the private key in PEM form. careid keeps it in this computer’s keychain and never shows it again.',
      ),
      field,
    ),
    store,
    h(
      'p',
      { class: 'nhsuk-body', role: 'status', 'data-testid': 'credential-stored' },
      ui.credentialStoredFor ? 'Stored. careid never shows it again.' : '',
    ),
  );
}

function renderSettings(ctx: Ctx): HTMLElement {
  const checkbox = h('input', {
    class: 'nhsuk-checkboxes__input',
    id: 'testers-view',
    name: 'testers-view',
    type: 'checkbox',
    checked: ctx.state.preferences.testersView,
    'aria-describedby': 'testers-view-hint',
    'data-testid': 'testers-view-toggle',
  });
  checkbox.addEventListener('change', () => ctx.run(() => api.setTestersView(checkbox.checked)));
  return h(
    'section',
    { class: 'careid-section', 'aria-labelledby': 'settings-heading' },
    h('h2', { class: 'nhsuk-heading-l', id: 'settings-heading' }, 'Settings'),
    h(
      'div',
      { class: 'nhsuk-form-group' },
      h(
        'div',
        { class: 'nhsuk-checkboxes' },
        h(
          'div',
          { class: 'nhsuk-checkboxes__item' },
          checkbox,
          h('label', { class: 'nhsuk-label nhsuk-checkboxes__label', for: 'testers-view' }, 'Testers’ view'),
          h(
            'div',
            { class: 'nhsuk-hint nhsuk-checkboxes__hint', id: 'testers-view-hint' },
            'Shows every claim, timing and document from a sign-in, and lets you override what the next sign-in asks for.',
          ),
        ),
      ),
    ),
  );
}
