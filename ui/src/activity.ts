// Tells Rust the user is active while signed in, at most once every 15 seconds, so the idle timer is fair.
import type { AppState } from './generated/ipc';

/** Often enough for a 15-minute limit, rare enough not to flood the bridge on every key press. */
export const ACTIVITY_INTERVAL_MS = 15_000;
export const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;

export class ActivityReporter {
  private last = -Infinity;

  constructor(
    private readonly state: () => AppState | null,
    private readonly report: () => void,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Called on every input event; reports only when signed in and 15 s have passed since the last report. */
  noteInput(): void {
    if (this.state()?.screen.kind !== 'signedIn') return;
    const now = this.now();
    if (now - this.last < ACTIVITY_INTERVAL_MS) return;
    this.last = now;
    this.report();
  }

  /** Listens for input on `target`; returns the function that stops listening. */
  listen(target: EventTarget): () => void {
    const onInput = () => this.noteInput();
    for (const type of ACTIVITY_EVENTS) target.addEventListener(type, onInput, { passive: true, capture: true });
    return () => {
      for (const type of ACTIVITY_EVENTS) target.removeEventListener(type, onInput, { capture: true });
    };
  }
}
