// What every page shares: its token (from the URL fragment, which browsers never send to the
// server), a client SDK connection whose state is shown in the header, small DOM helpers and
// authenticated GETs. Browser code: imports only the client SDK.

import { connect, type OmniClient } from '../../client/mod.ts';

export type Role = 'customer' | 'kiosk' | 'agent' | 'supervisor' | 'admin' | 'ingest';

export interface Claims {
  sub: string;
  role: Role;
  loc?: string;
  exp?: number;
}

type Child = Node | string | null | undefined | false;

/** `el('p', {class: 'x', 'data-testid': 'y'}, 'text', child)`: attributes are set verbatim. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/** The page's token from `#token=…`, or undefined. */
export function readToken(): string | undefined {
  const value = new URLSearchParams(location.hash.slice(1)).get('token');
  return value === null || value === '' ? undefined : value;
}

/** The token's claims, read without verifying (the server verifies; the page only needs the names). */
export function readClaims(token: string): Claims | undefined {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    // atob gives one character per byte; the claims are UTF-8 (a sub may be any Unicode id).
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0)))) as Partial<Claims>;
    return typeof claims.sub === 'string' && typeof claims.role === 'string' ? (claims as Claims) : undefined;
  } catch {
    return undefined;
  }
}

/** The page's frame: a header with the title and the connection state, and a main area. */
export function mountPage(title: string): { main: HTMLElement; header: HTMLElement; connection: HTMLElement } {
  const connection = el('span', { class: 'connection', 'data-testid': 'connection', role: 'status' }, 'connecting…');
  const header = el('header', {}, el('h1', {}, title), connection);
  const main = el('main', { id: 'main' });
  document.body.replaceChildren(header, main);
  return { main, header, connection };
}

/** Says plainly what token the page needs and how to get one. */
export function showTokenNeeded(main: HTMLElement, roles: string, example: string): void {
  main.replaceChildren(
    el('section', { class: 'notice', 'data-testid': 'token-needed', role: 'alert' },
      el('h2', {}, 'A token is needed'),
      el('p', {}, `This page needs a ${roles} token in the address, after #token=.`),
      el('p', {}, 'Get a ready link with ', el('code', {}, example))),
  );
}

/**
 * Connects through the SDK and mirrors its state in `badge`. Reconnecting and resuming are the
 * SDK's (seq/epoch resume or a fresh snapshot); the page only redraws what it is handed. The
 * backoff is capped low because a person is waiting and the server is one hop away.
 */
export function startClient(badge: HTMLElement, token: string | undefined): OmniClient {
  const client = connect({ url: location.origin, token, backoff: { initialMs: 200, maxMs: 3000 } });
  const show = (state: 'live' | 'reconnecting', text: string) => {
    badge.textContent = text;
    badge.dataset.state = state;
  };
  client.on('open', () => show('live', 'live'));
  client.on('close', (info) => {
    if (info.willReconnect) show('reconnecting', 'reconnecting…');
  });
  client.on('reconnecting', () => show('reconnecting', 'reconnecting…'));
  client.on('error', (error) => console.warn('omni:', error.message));
  return client;
}

/** GET a JSON resource of the gateway with the page's token. */
export async function getJson<T>(path: string, token?: string): Promise<T> {
  const response = await fetch(path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** A short random id for events and ops (the server uses it as the idempotency key). */
export function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Plays the brief "changed" highlight again on every call. */
export function flash(node: HTMLElement): void {
  node.classList.remove('changed');
  void node.offsetWidth; // restarts the CSS animation
  node.classList.add('changed');
}
