// Shared test helpers: a fresh root in the document, lookup by test id, and waiting for command promises.
import type { AppState } from './generated/ipc';
import { App } from './render';

export function mount(state: AppState): { root: HTMLElement; app: App } {
  document.body.innerHTML = '';
  const root = document.createElement('div');
  root.className = 'careid-page';
  document.body.append(root);
  const app = new App(root);
  app.render(state);
  return { root, app };
}

export function byTestId<T extends HTMLElement = HTMLElement>(root: ParentNode, id: string): T {
  const el = root.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no [data-testid="${id}"]`);
  return el;
}

export function allByTestId(root: ParentNode, id: string): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];
}

/** Lets resolved command promises run their follow-up (a re-render, a confirmation). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}
