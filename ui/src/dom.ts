// Small element builders: every dynamic string reaches the DOM through textContent or an attribute.

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

/** Creates `<tag>` with attributes (true = present, false/null/undefined = absent) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** An NHS button that runs `onClick`; `type="button"` so it never submits a surrounding form. */
export function button(
  label: string,
  onClick: () => void,
  attrs: Attrs = {},
  variant: '' | 'secondary' | 'warning' | 'reverse' | 'login' = '',
): HTMLButtonElement {
  const cls = ['nhsuk-button', variant ? `nhsuk-button--${variant}` : '', attrs.class ?? '']
    .filter(Boolean)
    .join(' ');
  const el = h('button', { type: 'button', ...attrs, class: cls }, label);
  el.addEventListener('click', onClick);
  return el;
}

/** A link that navigates inside the app (the webview cannot open URLs, so nothing leaves it). */
export function navLink(label: string, onClick: () => void, attrs: Attrs = {}): HTMLAnchorElement {
  const el = h('a', { href: '#maincontent', ...attrs }, label);
  el.addEventListener('click', (event) => {
    event.preventDefault();
    onClick();
  });
  return el;
}

/** A row of an NHS summary list; `testId` marks the value cell; `action` (a "Change" link) goes in its actions cell. */
export function summaryRow(key: string, value: Child | Child[], testId?: string, action?: HTMLElement): HTMLDivElement {
  const dd = h('dd', { class: 'nhsuk-summary-list__value', 'data-testid': testId });
  append(dd, ...(Array.isArray(value) ? value : [value]));
  return h(
    'div',
    { class: 'nhsuk-summary-list__row' },
    h('dt', { class: 'nhsuk-summary-list__key' }, key),
    dd,
    action ? h('dd', { class: 'nhsuk-summary-list__actions' }, action) : null,
  );
}

/** An NHS summary list; when some rows have an action, the others are marked so the columns line up. */
export function summaryList(...rows: HTMLElement[]): HTMLDListElement {
  if (rows.some((row) => row.querySelector('.nhsuk-summary-list__actions'))) {
    for (const row of rows) {
      if (!row.querySelector('.nhsuk-summary-list__actions')) row.classList.add('nhsuk-summary-list__row--no-actions');
    }
  }
  return h('dl', { class: 'nhsuk-summary-list' }, ...rows);
}

/** An NHS details (expander) element, closed by default. */
export function details(summary: string, content: Child, attrs: Attrs = {}): HTMLDetailsElement {
  return h(
    'details',
    { class: 'nhsuk-details', ...attrs },
    h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, summary)),
    h('div', { class: 'nhsuk-details__text' }, content),
  );
}

/** The screen's single <h1>; tabindex=-1 so focus can move to it when the screen changes. */
export function heading1(text: string): HTMLHeadingElement {
  return h('h1', { tabindex: -1, class: 'careid-focus-target' }, text);
}

/** Pretty JSON in a <pre> that wraps, so long ids never push the page sideways. */
export function jsonBlock(value: unknown): HTMLPreElement {
  return h('pre', { class: 'careid-json', tabindex: 0 }, JSON.stringify(value, null, 2));
}
