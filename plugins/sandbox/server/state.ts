/**
 * Persisted sandbox state: what was written to a sandbox (lists, members, campaign members, tags…) kept as JSON in a
 * file, written atomically (temp file + rename), so a restarted demo finds the tools as it left them. Without a path
 * it lives in memory only.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Options of {@link createSandboxState}.
 *
 * @example
 * createSandboxState('.segflow/sandbox/hubspot.json', { autosave: false }); // written only on save()
 */
export interface SandboxStateOptions<S extends Record<string, unknown> = Record<string, unknown>> {
  /** Write the file after every `set` / `delete` (default true when a path is given). */
  autosave?: boolean;
  /**
   * How long `saveSoon` waits before writing, in ms (default 100): the writes of a burst of requests become one
   * write of the file.
   */
  delayMs?: number;
  /**
   * Entries taken from the sandbox's own structures just before each write, for a sandbox that keeps its data in
   * its own maps (a portal, an org) and persists only what was written to it.
   */
  snapshot?: () => Partial<S>;
}

/**
 * A sandbox's persisted state: a JSON object of named entries.
 *
 * @example
 * const state: SandboxState<{ members: Record<string, string[]> }> = createSandboxState(path);
 * state.ensure('members', () => ({})); state.save();
 */
export interface SandboxState<S extends Record<string, unknown>> {
  /** The file it persists to, if any. */
  readonly path: string | undefined;
  get<K extends keyof S & string>(key: K): S[K] | undefined;
  /** Returns the entry, creating it with `init()` first when it is absent. */
  ensure<K extends keyof S & string>(key: K, init: () => S[K]): S[K];
  set<K extends keyof S & string>(key: K, value: S[K]): void;
  delete(key: keyof S & string): void;
  /** Every entry. */
  all(): Partial<S>;
  /** Writes the file now (a no-op without a path). Call after mutating a value obtained with get/ensure. */
  save(): void;
  /** Writes the file within `delayMs`, once however many changes come meanwhile (a no-op without a path). */
  saveSoon(): void;
  /** Writes now if a `saveSoon` is pending (call it when the sandbox closes). */
  flush(): void;
}

/**
 * Opens (or starts) a sandbox's state. A missing file starts empty; a file that is not valid JSON is an error that
 * names the path, never silently replaced.
 *
 * @example
 * const state = createSandboxState<{ lists: Record<string, string[]> }>('.segflow/sandbox/hubspot.json');
 * const lists = state.ensure('lists', () => ({}));
 * lists['VIP'] = ['1000001'];
 * state.save();
 */
export function createSandboxState<S extends Record<string, unknown> = Record<string, unknown>>(
  path?: string,
  options: SandboxStateOptions<S> = {},
): SandboxState<S> {
  const autosave = options.autosave ?? true;
  let entries: Partial<S> = {};
  if (path) {
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not a JSON object');
        entries = parsed as Partial<S>;
      } catch (error) {
        throw new Error(
          `sandbox state ${path} is not a JSON object (${(error as Error).message}); move it aside to start afresh`,
          {
            cause: error,
          },
        );
      }
    }
  }

  let saves = 0;
  let pending: NodeJS.Timeout | undefined;
  const save = () => {
    if (pending) clearTimeout(pending);
    pending = undefined;
    if (!path) return;
    if (options.snapshot) entries = { ...entries, ...options.snapshot() };
    mkdirSync(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.${saves++}.tmp`;
    writeFileSync(temp, JSON.stringify(entries));
    renameSync(temp, path);
  };
  const changed = () => {
    if (autosave) save();
  };

  return {
    path,
    get: (key) => entries[key],
    ensure: (key, init) => {
      if (!(key in entries)) {
        entries[key] = init();
        changed();
      }
      return entries[key] as S[typeof key];
    },
    set: (key, value) => {
      entries[key] = value;
      changed();
    },
    delete: (key) => {
      delete entries[key];
      changed();
    },
    all: () => entries,
    save,
    saveSoon: () => {
      if (!path || pending) return;
      pending = setTimeout(save, options.delayMs ?? 100);
    },
    flush: () => {
      if (pending) save();
    },
  };
}
