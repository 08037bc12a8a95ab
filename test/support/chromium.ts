/**
 * The Chromium the browser tests drive (test/server/console). `npm test` installs it where it can (as root on Debian)
 * and otherwise stops with the command to run; the browser tests never skip.
 */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_INSTALL = 'apt-get update && apt-get install -y chromium';

/** SEGFLOW_CHROMIUM names another Chromium executable; Debian's package installs /usr/bin/chromium. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SEGFLOW_CHROMIUM || '/usr/bin/chromium';
}

export interface ChromiumHost {
  executable: string;
  exists(path: string): boolean;
  /** Running as root, with apt-get: the install can be done here. */
  canInstall: boolean;
  install(): void;
}

function missing(executable: string): string {
  return (
    `the browser tests need Chromium at ${executable}, which is missing: install it (as root on Debian: ` +
    `${CHROMIUM_INSTALL}), or set SEGFLOW_CHROMIUM to a Chromium executable`
  );
}

/** Returns the executable, installing Chromium first when it is missing and the host can; throws naming the command. */
export function ensureChromium(host: ChromiumHost): { executable: string; installed: boolean } {
  if (host.exists(host.executable)) return { executable: host.executable, installed: false };
  if (!host.canInstall) throw new Error(missing(host.executable));
  host.install();
  if (!host.exists(host.executable)) throw new Error(`after ${CHROMIUM_INSTALL}, ${missing(host.executable)}`);
  return { executable: host.executable, installed: true };
}

/**
 * What `npm test` does before the tests (SEGFLOW_INSTALL_CHROMIUM=1, in the global setup): installs Chromium when it is
 * missing and this is root on Debian, else throws naming the command.
 */
export function installChromiumIfMissing(): void {
  const { executable, installed } = ensureChromium({
    executable: chromiumPath(),
    exists: existsSync,
    canInstall: process.getuid?.() === 0 && existsSync('/usr/bin/apt-get'),
    install: () => {
      console.log(`Chromium is missing for the browser tests; installing it: ${CHROMIUM_INSTALL}`);
      execSync(CHROMIUM_INSTALL, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    },
  });
  if (installed) console.log(`Chromium installed: ${executable}`);
}

/** For the browser tests: the executable, or an error naming the command (they do not install anything). */
export function requireChromium(): string {
  const executable = chromiumPath();
  if (!existsSync(executable)) throw new Error(missing(executable));
  return executable;
}

/**
 * Launches the browser tests' headless Chromium (no sandbox, GPU or background traffic), at `executable` or the one
 * {@link requireChromium} finds.
 */
export async function launchChromium(executable: string = requireChromium()): Promise<Browser> {
  return chromium.launch({
    executablePath: executable,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
