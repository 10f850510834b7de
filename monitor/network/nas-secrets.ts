/**
 * Which shared secret a NAS (the PGW or GGSN sending accounting) uses, by its source address.
 * The policy, in order:
 *
 *   source address                     secret                    otherwise
 *   ---------------------------------  ------------------------  -----------------------------
 *   listed in LASTSEEN_RADIUS_CLIENTS  its own secret            —
 *   not listed                         LASTSEEN_RADIUS_SECRET    unknown_nas: dropped, counted,
 *                                                                not answered (no secret to
 *                                                                check or sign with)
 *
 * So listing every gateway and leaving LASTSEEN_RADIUS_SECRET unset hears no one else.
 * IPv4-mapped IPv6 sources (::ffff:10.0.0.1) are matched by their IPv4 address.
 */
export function nasSecrets(clients: Readonly<Record<string, string>>, fallback: string | null): (address: string) => string | null {
  const map = new Map(Object.entries(clients));
  return (address) => map.get(address.startsWith('::ffff:') ? address.slice(7) : address) ?? fallback;
}
