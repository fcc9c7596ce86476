// The restoring screen: shown while careid signs the last session back in, instead of a flash of home.
import { h, heading1 } from '../dom';

export function renderRestoring(): Node[] {
  return [
    heading1('Signing you back in'),
    h(
      'p',
      { class: 'nhsuk-body' },
      'careid is renewing the session you had open last time. This usually takes a few seconds and does not need your smartcard.',
    ),
    h('p', { class: 'nhsuk-body', role: 'status' }, 'Please wait…'),
  ];
}
