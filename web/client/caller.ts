/**
 * Who the page is signed in as (`caller` of GET /api/config), token or person: the page offers
 * only what that login may do. The server decides every request anyway (web/authz.ts); this
 * only keeps buttons away from people who would get a 403.
 */

export interface Caller {
  role: 'admin' | 'agent' | 'customer' | string;
  customerId: string | null;
  username: string | null;
}

let current: Caller = { role: 'customer', customerId: null, username: null };

export function setCaller(c: Caller | undefined): void {
  if (c) current = c;
}

export function caller(): Caller {
  return current;
}

/** Admins and agents: the support desk, who acknowledge, assign, resolve and write to customers. */
export function isStaff(c: Caller = current): boolean {
  return c.role === 'admin' || c.role === 'agent';
}
