/**
 * CPU time of a PostgreSQL server on this machine, read from /proc: the postmaster, every live child (backends,
 * parallel workers, background writer…) and the children it has already reaped (cutime/cstime), so short-lived
 * parallel-query workers count too. Benches add it to their own process's CPU, since on a machine shared with other
 * work the wall time is mostly waiting.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/** Clock ticks per second of /proc/<pid>/stat on Linux. */
const TICKS = 100;

/** The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1], utime [11] … cstime [14]). */
function statFields(pid: number): string[] | undefined {
  try {
    return (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
  } catch {
    return undefined;
  }
}

/** The postmaster's pid, as the parent of the backend serving a connection to `location`; undefined when not local. */
export async function postmasterPid(location: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: location });
  try {
    await client.connect();
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const parent = backend === undefined ? undefined : Number(statFields(backend)?.[1]);
    return parent !== undefined && Number.isFinite(parent) && parent > 1 ? parent : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * CPU seconds the server under `postmaster` has used so far (user + system, live and reaped children included), or
 * undefined when /proc cannot tell. The difference of two readings is the server's work in between — all of it,
 * whichever database it served.
 */
export function serverCpuSeconds(postmaster: number | undefined): number | undefined {
  if (postmaster === undefined) return undefined;
  const own = statFields(postmaster);
  if (!own) return undefined;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return Number.isFinite(ticks) ? ticks / TICKS : undefined;
}
