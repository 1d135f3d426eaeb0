// Who is making a request: the claims of a verified token, or nobody (anonymous).

export const ROLES = ['anonymous', 'customer', 'kiosk', 'associate', 'agent', 'supervisor', 'ingest', 'admin'] as const;

export type Role = (typeof ROLES)[number];

/** Roles a token may carry: anonymity is the absence of a token, never a claim. */
export const TOKEN_ROLES: readonly Role[] = ROLES.filter((role) => role !== 'anonymous');

export interface Principal {
  role: Role;
  /** The customer, kiosk, staff or agent id the token speaks for ('' when anonymous). */
  sub: string;
  /** A kiosk's or a store associate's store: the only location it may act at. */
  loc?: string;
}

export const ANONYMOUS: Principal = Object.freeze({ role: 'anonymous', sub: '' });

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
