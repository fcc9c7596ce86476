// Which environment the profile in use signs in to (the mock, INT, DEP, live or a custom issuer), as the NHS tag every screen shows.
import type { ProfileView } from './generated/ipc';
import { h } from './dom';

export type EnvironmentKind = 'mock' | 'int' | 'dep' | 'live' | 'custom';

export interface Environment {
  kind: EnvironmentKind;
  /** The tag's words. */
  label: string;
  /** The NHS tag colour: each environment its own, live unlike any test one. */
  tagClass: string;
}

// Yellow says "not real" on the mock; live is red, the one colour no test environment uses.
const BUILT_IN: Readonly<Record<Exclude<EnvironmentKind, 'custom'>, Omit<Environment, 'kind'>>> = {
  mock: { label: 'Mock – not real', tagClass: 'nhsuk-tag--yellow' },
  int: { label: 'INT', tagClass: 'nhsuk-tag--blue' },
  dep: { label: 'DEP', tagClass: 'nhsuk-tag--purple' },
  live: { label: 'Live', tagClass: 'nhsuk-tag--red' },
};

function isBuiltInKind(name: string): name is Exclude<EnvironmentKind, 'custom'> {
  return Object.prototype.hasOwnProperty.call(BUILT_IN, name);
}

/** The built-in profiles are the environments by their own names; any other profile is a custom issuer. */
export function environmentOf(profile: Pick<ProfileView, 'name' | 'builtIn'>): Environment {
  if (profile.builtIn && isBuiltInKind(profile.name)) return { kind: profile.name, ...BUILT_IN[profile.name] };
  return { kind: 'custom', label: `Custom: ${profile.name}`, tagClass: 'nhsuk-tag--grey' };
}

/** The environment's tag; a screen reader hears "Environment:" first. */
export function environmentTag(profile: Pick<ProfileView, 'name' | 'builtIn'>): HTMLElement {
  const env = environmentOf(profile);
  return h(
    'strong',
    {
      class: `nhsuk-tag ${env.tagClass} careid-env-tag`,
      'data-testid': 'environment-tag',
      'data-environment': env.kind,
    },
    h('span', { class: 'nhsuk-u-visually-hidden' }, 'Environment: '),
    env.label,
  );
}
