import { describe, expect, it } from 'vitest';
import { CHROMIUM_INSTALL, chromiumPath, ensureChromium, type ChromiumHost } from './chromium.js';

function host(present: string[], canInstall: boolean, onInstall: () => void = () => {}): ChromiumHost {
  const files = new Set(present);
  return {
    executable: '/opt/chrome/chromium',
    exists: (path) => files.has(path),
    canInstall,
    install: () => {
      onInstall();
      files.add('/opt/chrome/chromium');
    },
  };
}

describe('Chromium for the browser tests', () => {
  it('is used as it is when present, with nothing installed', () => {
    let installs = 0;
    expect(ensureChromium(host(['/opt/chrome/chromium'], true, () => installs++))).toEqual({
      executable: '/opt/chrome/chromium',
      installed: false,
    });
    expect(installs).toBe(0);
  });

  it('when missing and the user is not root, stops with an error naming the install command', () => {
    expect(() => ensureChromium(host([], false))).toThrow(
      'the browser tests need Chromium at /opt/chrome/chromium, which is missing: install it (as root on Debian: apt-get update && apt-get install -y chromium)',
    );
    expect(CHROMIUM_INSTALL).toBe('apt-get update && apt-get install -y chromium');
  });

  it('when missing and installable (root, apt-get), installs it once', () => {
    let installs = 0;
    expect(ensureChromium(host([], true, () => installs++))).toEqual({
      executable: '/opt/chrome/chromium',
      installed: true,
    });
    expect(installs).toBe(1);
  });

  it('when the install did not produce the executable, says so', () => {
    const broken: ChromiumHost = { ...host([], true), install: () => {} };
    expect(() => ensureChromium(broken)).toThrow(/after apt-get update && apt-get install -y chromium, the browser/);
  });

  it('takes the executable from SEGFLOW_CHROMIUM, else Debian’s /usr/bin/chromium', () => {
    expect(chromiumPath({ SEGFLOW_CHROMIUM: '/opt/chrome/chromium' })).toBe('/opt/chrome/chromium');
    expect(chromiumPath({})).toBe('/usr/bin/chromium');
  });
});
