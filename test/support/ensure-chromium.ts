/** `npm test` runs this before vitest: Chromium for the browser tests, installed here when missing and possible. */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_INSTALL, chromiumPath, ensureChromium } from './chromium.js';

try {
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
} catch (error) {
  console.error(`npm test: ${(error as Error).message}`);
  process.exit(1);
}
