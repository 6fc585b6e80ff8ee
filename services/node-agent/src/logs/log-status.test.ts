import { describe, expect, it } from 'vitest';
import { statusToProto } from '../rpc/agent-service.js';
import type { AgentStatus } from '../state/agent-status.js';

const status = {
  node: 'pve1',
  dryRun: false,
  applier: 'nft-cli',
  appliedRevision: 1,
  rulesetDigest: 'x',
  storeRevision: 1,
  inSync: true,
  connected: true,
  enabled: true,
  restored: 'none',
  errors: [],
  sysctlFailures: [],
  facts: { hostAddresses: [], interfaces: [] },
  counters: { compiles: 1, applies: 1, applyFailures: 0, skippedIdentical: 0, driftRepairs: 0 },
  flushed: false,
} as unknown as AgentStatus;

describe('agent status: the log pipeline', () => {
  it('carries the log capture counters when there is a capture, nothing without', () => {
    const logs = { group: 7401, listening: true, natsConnected: false, received: 10, published: 4, publishedMessages: 1, spooled: 10, spoolPending: 6, lostKernel: 3, enobufs: 1, lostSpool: 0, decodeErrors: 2 };
    expect(statusToProto({ ...status, logs }).logs).toEqual({ nflogGroup: 7401, listening: true, natsConnected: false, received: 10, published: 4, spooled: 10, spoolPending: 6, lostKernel: 3, enobufs: 1, lostSpool: 0, decodeErrors: 2 });
    expect(statusToProto(status).logs).toBeUndefined();
  });
});
