// Time and wording helpers: durations as m:ss, Unix seconds as local time, assurance levels in words.

/** Now, in Unix seconds, the unit every time in AppState uses. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/** 12 → "0:12", 312 → "5:12", 3723 → "1:02:03"; negative counts as zero. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, '0');
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`;
  return `${minutes}:${seconds}`;
}

/** Local clock time, e.g. "14:05" (the British 24-hour clock staff see on NHS systems). */
export function formatClock(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}

/** Local date and time, e.g. "29 November 2026 at 14:05". */
export function formatDateTime(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  const day = date.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
  return `${day} at ${formatClock(unixSeconds)}`;
}

/** A moment in Unix milliseconds as local date and time to the second, e.g. "29 November 2026 at 14:05:09 GMT". */
export function formatMoment(unixMillis: number): string {
  const date = new Date(unixMillis);
  const day = date.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
  const time = date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
  return `${day} at ${time}`;
}

/** A moment in Unix milliseconds in UTC, ISO 8601 to the second: "2026-11-29T14:05:09Z". */
export function formatUtc(unixMillis: number): string {
  return new Date(unixMillis).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** CIS2's authentication assurance level as staff would say it. */
export function assuranceInWords(level: number | null): string {
  if (level === 3) return 'very high confidence (AAL3)';
  if (level === 2) return 'high confidence (AAL2)';
  if (level === 1) return 'low confidence (AAL1)';
  if (level === null) return 'not stated';
  return `level ${level}`;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
