/** API key roles. What each may call is decided only by the route table (src/http/routes.ts). */
export const ROLES = ['agent', 'auditor', 'privacy', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A key whose tenant is ALL_TENANTS acts across tenants (the operator's admin key, a global monitor). */
export const ALL_TENANTS = '*';

/** Tenant names: short, printable, no separators that could confuse storage keys or paths. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
