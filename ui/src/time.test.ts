// Formatting of durations and assurance levels.
import { describe, expect, it } from 'vitest';
import { assuranceInWords, formatDuration, plural } from './time';

describe('formatDuration', () => {
  it.each([
    [0, '0:00'],
    [12, '0:12'],
    [12.9, '0:12'],
    [312, '5:12'],
    [3723, '1:02:03'],
    [-5, '0:00'],
  ])('%s seconds is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('assuranceInWords', () => {
  it('says levels as staff would', () => {
    expect(assuranceInWords(3)).toBe('very high confidence (AAL3)');
    expect(assuranceInWords(2)).toBe('high confidence (AAL2)');
    expect(assuranceInWords(null)).toBe('not stated');
  });
});

describe('plural', () => {
  it('uses the singular for one', () => {
    expect(plural(1, 'minute', 'minutes')).toBe('1 minute');
    expect(plural(15, 'minute', 'minutes')).toBe('15 minutes');
  });
});
