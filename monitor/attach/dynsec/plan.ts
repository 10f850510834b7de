/**
 * What to send Mosquitto's dynamic-security plugin so one client (and its own role) becomes
 * what lastseen means. Pure: the caller reads the actual state (`getClient`/`getRole`, or the
 * `listClients`/`listRoles` of a resync) and sends what this returns, in order, in one message.
 *
 * What lastseen manages carries a mark, and nothing without it is ever changed or deleted: a
 * client's `textname` starts with `lastseen-managed`, a role's name with `lastseen-`. The
 * client's `textdescription` holds a fingerprint of its password (./secret-vault.ts), the only
 * way to tell later whether the password Mosquitto holds is still the one meant: dynsec never
 * returns passwords or their hashes.
 *
 *   desired   actual client            commands
 *   --------  -----------------------  -------------------------------------------------------
 *   none      none / not ours          —
 *   none      ours                     deleteClient; deleteRole of its role if that is ours
 *   some      not ours (no mark)       — , reported as a conflict (the operator's own client)
 *   some      none                     role created or corrected; createClient; disableClient if disabled
 *   some      ours                     role created or corrected; then
 *                                        disabled differs, desired disabled → disableClient first
 *                                        roles, groups, textname or fingerprint differ → one modifyClient
 *                                          (with the password only when the fingerprint differs)
 *                                        disabled differs, desired enabled → enableClient last
 *
 * Order matters where it shuts a door: disabling comes before anything else, enabling after the
 * password is right. Every modifyClient, setClientPassword and disableClient disconnects the
 * client's sessions at Mosquitto, so nothing is sent for a client already right.
 */

export const CLIENT_MARK = 'lastseen-managed';
export const ROLE_PREFIX = 'lastseen-';

export interface Acl {
  acltype:
    | 'publishClientSend'
    | 'publishClientReceive'
    | 'subscribeLiteral'
    | 'subscribePattern'
    | 'unsubscribeLiteral'
    | 'unsubscribePattern';
  topic: string;
  priority: number;
  allow: boolean;
}

export interface DesiredClient {
  username: string;
  textname: string;
  rolename: string;
  acls: Acl[];
  disabled: boolean;
  /** The password to set, or null when none is known (then a random one nobody holds). */
  password: string | null;
  /** Fingerprint of `password`; `none` when there is none. */
  fingerprint: string;
}

export interface ActualClient {
  username: string;
  textname?: string;
  textdescription?: string;
  disabled?: boolean;
  roles?: { rolename: string; priority?: number }[];
  groups?: { groupname: string }[];
}

export interface ActualRole {
  rolename: string;
  acls?: Acl[];
}

export type Command = Record<string, unknown> & { command: string };

export interface ClientPlan {
  commands: Command[];
  /** A client of that name exists and is not lastseen's: nothing was planned for it. */
  conflict: boolean;
}

export function isOurs(client: ActualClient | undefined | null): boolean {
  return !!client?.textname?.startsWith(CLIENT_MARK);
}

export function describe(fingerprint: string): string {
  return `${CLIENT_MARK} pw:${fingerprint}`;
}

/** The fingerprint a managed client's textdescription records, or null. */
export function recordedFingerprint(client: ActualClient): string | null {
  const m = /\bpw:([0-9a-z]+)$/.exec(client.textdescription ?? '');
  return m ? m[1] : null;
}

export function planClient(
  desired: DesiredClient | null,
  actual: ActualClient | null,
  role: ActualRole | null,
  randomPassword: () => string,
): ClientPlan {
  if (actual && !isOurs(actual)) return { commands: [], conflict: desired !== null };
  if (!desired) {
    if (!actual) return { commands: [], conflict: false };
    const commands: Command[] = [{ command: 'deleteClient', username: actual.username }];
    for (const r of actual.roles ?? []) {
      if (r.rolename.startsWith(ROLE_PREFIX)) commands.push({ command: 'deleteRole', rolename: r.rolename });
    }
    return { commands, conflict: false };
  }
  const commands: Command[] = planRole(desired, role);
  const password = desired.password ?? randomPassword();
  const description = describe(desired.fingerprint);
  if (!actual) {
    commands.push({
      command: 'createClient',
      username: desired.username,
      password,
      textname: desired.textname,
      textdescription: description,
      roles: [{ rolename: desired.rolename }],
    });
    if (desired.disabled) commands.push({ command: 'disableClient', username: desired.username });
    return { commands, conflict: false };
  }
  const isDisabled = actual.disabled === true;
  if (desired.disabled && !isDisabled) commands.push({ command: 'disableClient', username: desired.username });
  const modify: Command = { command: 'modifyClient', username: desired.username };
  const roles = actual.roles ?? [];
  if (roles.length !== 1 || roles[0].rolename !== desired.rolename) modify.roles = [{ rolename: desired.rolename }];
  if ((actual.groups ?? []).length > 0) modify.groups = [];
  if (actual.textname !== desired.textname) modify.textname = desired.textname;
  if (recordedFingerprint(actual) !== desired.fingerprint) {
    modify.password = password;
    modify.textdescription = description;
  }
  if (Object.keys(modify).length > 2) commands.push(modify);
  if (!desired.disabled && isDisabled) commands.push({ command: 'enableClient', username: desired.username });
  return { commands, conflict: false };
}

/**
 *   role        commands
 *   ----------  ---------------------------------------------------------------
 *   missing     createRole with every ACL
 *   exists      removeRoleACL for each ACL not meant (or meant differently), addRoleACL for each missing
 */
function planRole(desired: DesiredClient, role: ActualRole | null): Command[] {
  if (!role) return [{ command: 'createRole', rolename: desired.rolename, textname: CLIENT_MARK, acls: desired.acls }];
  const key = (a: Acl) => `${a.acltype} ${a.topic}`;
  const same = (a: Acl, b: Acl) => key(a) === key(b) && a.allow === b.allow && a.priority === b.priority;
  const have = role.acls ?? [];
  const commands: Command[] = [];
  for (const a of have) {
    if (!desired.acls.some((d) => same(a, d)))
      commands.push({ command: 'removeRoleACL', rolename: role.rolename, acltype: a.acltype, topic: a.topic });
  }
  for (const d of desired.acls) {
    if (!have.some((a) => same(a, d))) commands.push({ command: 'addRoleACL', rolename: role.rolename, ...d });
  }
  return commands;
}
