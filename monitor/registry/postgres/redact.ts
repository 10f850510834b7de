/**
 * A connection string fit for logs and errors: the password replaced by `***` (docs/security.md).
 * A string that is not a URL is not echoed at all.
 */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    return '(an unparsable connection string)';
  }
}
