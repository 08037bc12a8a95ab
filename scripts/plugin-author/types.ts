// Compiled by scripts/plugin-author-check.sh in a scratch package under `strict` with `skipLibCheck: false`: the
// installed package's declarations must type-check there, and must be real types (the @ts-expect-error lines fail if
// an export were `any`).
import { z } from 'zod';
import { defineSource, secret, type SourceDefinition } from 'segflow/plugins';
import { runSourceConformance } from 'segflow/plugins/conformance';
import { serveSandbox } from 'segflow/plugins/sandbox';

const spec = z.object({ baseUrl: z.string().url(), apiKey: secret(z.string().min(1)) });

export const source: SourceDefinition = defineSource({
  name: 'typed',
  spec,
  async check(config) {
    const url: string = config.baseUrl;
    return url.startsWith('http') ? { ok: true } : { ok: false, reason: 'baseUrl is not an http URL' };
  },
  streams: () => [],
});

// @ts-expect-error a check must return a reason when it is not ok
defineSource({ name: 'wrong', spec, check: async () => ({ ok: false }), streams: () => [] });

export const served: Promise<{ url: string }> = serveSandbox({ fetch: () => new Response('ok') });
export const register: (options: Parameters<typeof runSourceConformance>[0]) => void = runSourceConformance;
