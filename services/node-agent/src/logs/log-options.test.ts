import { describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '@palisade/service-kit';
import { AGENT_DEFAULTS, resolveAgentOptions } from '../options.js';
import { LOG_PUBLISHER_DEFAULTS } from './log-publisher.js';

const base = { node: 'pve1', dataDir: '/tmp/x', logger: SILENT_LOGGER };

describe('--log-batch-entries (agent options)', () => {
  it('defaults to the publisher default (64 entries a message)', () => {
    expect(AGENT_DEFAULTS.logBatchEntries).toBe(LOG_PUBLISHER_DEFAULTS.maxEntriesPerMessage);
    expect(resolveAgentOptions(base).logBatchEntries).toBe(256);
  });

  it('keeps 1 (the single-entry wire form) to the batch limit', () => {
    expect(resolveAgentOptions({ ...base, logBatchEntries: 1 }).logBatchEntries).toBe(1);
    expect(resolveAgentOptions({ ...base, logBatchEntries: 4096 }).logBatchEntries).toBe(4096);
  });

  it('refuses 0, a fraction and more than a batch may hold, naming the option', () => {
    for (const n of [0, 1.5, 4097]) {
      expect(() => resolveAgentOptions({ ...base, logBatchEntries: n })).toThrow(/log-batch-entries/);
    }
  });
});
