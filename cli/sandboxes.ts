/**
 * The tool sandboxes the CLI can start — for the demo, for plugin authors, and for trying a connector by hand.
 * Each renders the same seeded world, so one person is seen consistently by every tool.
 */
import * as hubspot from '../connectors/hubspot/index.js';
import * as mailchimp from '../connectors/mailchimp/index.js';
import * as salesforce from '../connectors/salesforce/index.js';
import * as segment from '../connectors/segment/index.js';
import type { World } from '../plugins/sandbox/index.js';

export interface StartOptions {
  port?: number;
  seed?: number | string;
  people?: number;
  world?: World;
  statePath?: string;
}

/** A running sandbox, described for a person and for a connector config. */
export interface RunningSandbox {
  tool: string;
  url: string;
  /** Credentials the sandbox accepts (sandbox-only values, safe to print). */
  credentials: Record<string, unknown>;
  /** The connector config that points at this sandbox. */
  config: Record<string, unknown>;
  close(): Promise<void>;
}

type Starter = (options: StartOptions) => Promise<RunningSandbox>;

const definedOnly = (options: StartOptions) =>
  Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as StartOptions;

/** The sandboxes by tool name. */
export const SANDBOXES: Record<string, Starter> = {
  async hubspot(options) {
    const sandbox = await hubspot.startSandbox(definedOnly(options));
    return {
      tool: 'hubspot',
      url: sandbox.url,
      credentials: sandbox.credentials,
      config: hubspot.sandboxConfig(sandbox),
      close: () => sandbox.close(),
    };
  },
  async salesforce(options) {
    const sandbox = await salesforce.startSandbox(definedOnly(options));
    return {
      tool: 'salesforce',
      url: sandbox.url,
      credentials: { ...sandbox.credentials, privateKey: '(RSA key for the JWT flow; see sandboxConfig)' },
      config: salesforce.sandboxConfig(sandbox),
      close: () => sandbox.close(),
    };
  },
  async mailchimp(options) {
    const sandbox = await mailchimp.startSandbox(definedOnly(options));
    return {
      tool: 'mailchimp',
      url: sandbox.url,
      credentials: sandbox.credentials,
      config: mailchimp.sandboxConfig(sandbox),
      close: () => sandbox.close(),
    };
  },
  async segment(options) {
    const { people: _people, world: _world, ...rest } = definedOnly(options);
    const sandbox = await segment.startSandbox(rest);
    return {
      tool: 'segment',
      url: sandbox.url,
      credentials: sandbox.credentials,
      config: segment.sandboxConfig(sandbox),
      close: () => sandbox.close(),
    };
  },
};
