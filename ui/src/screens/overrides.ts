// The testers' "Overrides for the next sign-in" form, and turning what was typed into LoginOverrides.
import type { LoginOverrides } from '../generated/ipc';
import type { Ctx, OverrideDraft } from '../context';
import { h } from '../dom';

/** CIS2's acr_values, offered as suggestions; any other value may still be typed. */
export const CIS2_ACR_VALUES = [
  'AAL3_ANY',
  'AAL2_OR_AAL3_ANY',
  'AAL2_ANY',
  'AAL1_USERPASS',
  'AAL3_IOS',
  'AAL3_FIDO2',
  'AAL3_N3_SMARTCARD',
  'AAL3_CIS2_SMARTCARD',
  'AAL3_SMARTCARD',
  'AAL2_TOTP',
  'AAL2_NHSMAIL',
] as const;

/** Empty fields become null (the profile's own value); all empty means no overrides at all. */
export function toLoginOverrides(draft: OverrideDraft): LoginOverrides | null {
  const acrValues = draft.acrValues.trim() || null;
  const prompt = draft.prompt || null;
  const maxAgeNumber = draft.maxAge.trim() === '' ? NaN : Number(draft.maxAge);
  const maxAge = Number.isInteger(maxAgeNumber) && maxAgeNumber >= 0 ? maxAgeNumber : null;
  const scopeList = draft.scopes.split(/\s+/).filter(Boolean);
  const scopes = scopeList.length > 0 ? scopeList : null;
  if (acrValues === null && prompt === null && maxAge === null && scopes === null) return null;
  return { acrValues, prompt, maxAge, scopes };
}

export function renderOverridesForm(ctx: Ctx): HTMLElement {
  const draft = ctx.ui.overrides;
  const field = (id: string, label: string, hint: string, control: HTMLElement) =>
    h(
      'div',
      { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: id }, label),
      h('div', { class: 'nhsuk-hint', id: `${id}-hint` }, hint),
      control,
    );
  const text = (id: string, key: keyof OverrideDraft, testId: string, extra: Record<string, string> = {}) => {
    const input = h('input', {
      class: 'nhsuk-input',
      id,
      name: id,
      type: 'text',
      value: draft[key],
      'aria-describedby': `${id}-hint`,
      autocomplete: 'off',
      spellcheck: 'false',
      'data-testid': testId,
      ...extra,
    });
    input.addEventListener('input', () => {
      draft[key] = input.value;
    });
    return input;
  };

  const prompt = h(
    'select',
    { class: 'nhsuk-select', id: 'override-prompt', name: 'override-prompt', 'aria-describedby': 'override-prompt-hint', 'data-testid': 'override-prompt' },
    ...[
      ['', 'Profile default'],
      ['login', 'login'],
      ['none', 'none'],
      ['consent', 'consent'],
    ].map(([value, label]) => h('option', { value: value ?? '', selected: draft.prompt === value }, label ?? '')),
  );
  prompt.addEventListener('change', () => {
    draft.prompt = prompt.value;
  });

  const maxAge = text('override-max-age', 'maxAge', 'override-max-age', { inputmode: 'numeric', pattern: '[0-9]*' });
  maxAge.classList.add('nhsuk-input--width-5');

  return h(
    'form',
    { class: 'careid-overrides', novalidate: true, 'aria-labelledby': 'overrides-heading' },
    h('h2', { class: 'nhsuk-heading-m', id: 'overrides-heading' }, 'Overrides for the next sign-in'),
    h('p', { class: 'nhsuk-body' }, 'Leave a field empty to use the profile’s own value.'),
    field(
      'override-acr',
      'acr_values',
      'For example AAL3_ANY. Pick from the list or type your own.',
      text('override-acr', 'acrValues', 'override-acr', { list: 'acr-values-list' }),
    ),
    h('datalist', { id: 'acr-values-list' }, ...CIS2_ACR_VALUES.map((v) => h('option', { value: v }))),
    field('override-prompt', 'prompt', 'login asks for the authenticator again; none fails rather than asking.', prompt),
    field('override-max-age', 'max_age (seconds)', 'The oldest sign-in CIS2 may reuse, in seconds.', maxAge),
    field('override-scopes', 'Scopes', 'Separated by spaces, for example: openid profile nationalrbacaccess', text('override-scopes', 'scopes', 'override-scopes')),
  );
}
