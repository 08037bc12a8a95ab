/**
 * A store's location: a SQLite file path, or a PostgreSQL connection URL (`postgres://` or `postgresql://`).
 *
 * @example
 * isPostgresLocation('postgres://segflow@db:5432/segflow') // true
 */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/**
 * The location as it may be shown in logs, errors and API responses: a URL's password becomes `***` (in the
 * `user:password@` part and in a `password=` parameter); a path is returned as it is.
 *
 * @example
 * redactLocation('postgres://app:s3cret@db:5432/segflow') // 'postgres://app:***@db:5432/segflow'
 */
export function redactLocation(location: string): string {
  if (!isPostgresLocation(location)) return location;
  return location.replace(/^([a-z]+:\/\/[^:@/?#]*):[^@/?#]*@/i, '$1:***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** Replaces every occurrence of the location's password in `text` (an error message from the driver, say) with `***`. */
export function redactPassword(text: string, location: string): string {
  if (!isPostgresLocation(location)) return text;
  let password: string | undefined;
  try {
    password = decodeURIComponent(new URL(location).password) || undefined;
  } catch {
    password = undefined;
  }
  const full = text.split(location).join(redactLocation(location));
  return password ? full.split(password).join('***') : full;
}
