import { SILENT_LOGGER } from '@palisade/service-kit';
import { describe, expect, it } from 'vitest';
import { CONFIGD_DEFAULTS, DEFAULT_GRPC_MAX_IMPORT_BYTES, resolveConfigdOptions, type ConfigdOptions } from './options.js';

const base: ConfigdOptions = { node: 'pve1', natsServers: ['nats://127.0.0.1:4222'], listen: '127.0.0.1:7400', dataDir: '/tmp/x', logger: SILENT_LOGGER };

describe('resolveConfigdOptions', () => {
  it('fills the former hard-coded tunables with the exported defaults', () => {
    const r = resolveConfigdOptions(base);
    expect([r.applyWaitMs, r.readWaitMs, r.grpcKeepaliveTimeMs, r.grpcKeepaliveTimeoutMs]).toEqual([
      CONFIGD_DEFAULTS.applyWaitMs,
      CONFIGD_DEFAULTS.readWaitMs,
      CONFIGD_DEFAULTS.grpcKeepaliveTimeMs,
      CONFIGD_DEFAULTS.grpcKeepaliveTimeoutMs,
    ]);
    // The receive limit is just above one document; Import has its own.
    expect(r.grpcMaxReceiveBytes).toBe(CONFIGD_DEFAULTS.maxDocumentBytes + 64 * 1024);
    expect(r.grpcMaxImportBytes).toBe(DEFAULT_GRPC_MAX_IMPORT_BYTES);
    const big = resolveConfigdOptions({ ...base, maxDocumentBytes: 32 * 1024 * 1024 });
    expect([big.grpcMaxReceiveBytes, big.grpcMaxImportBytes]).toEqual([32 * 1024 * 1024 + 64 * 1024, 512 * 1024 * 1024]);
    expect([r.maxWatchesPerToken, r.maxWatches, r.maxConcurrentDiffs, r.diffMaxChangedLines, r.grpcMaxConcurrentStreams]).toEqual([64, 256, 4, 20_000, 100]);
    expect([r.host, r.port]).toEqual(['127.0.0.1', 7400]);
  });

  it('rejects contradictions naming both fields', () => {
    expect(() => resolveConfigdOptions({ ...base, grpcMaxReceiveBytes: 1024 * 1024 })).toThrow(/grpcMaxReceiveBytes \(1048576\) must be at least maxDocumentBytes \(1048576\)/);
    expect(() => resolveConfigdOptions({ ...base, grpcKeepaliveTimeMs: 1000, grpcKeepaliveTimeoutMs: 1000 })).toThrow(
      /grpcKeepaliveTimeoutMs \(1000\) must be less than grpcKeepaliveTimeMs \(1000\)/,
    );
    expect(() => resolveConfigdOptions({ ...base, writeTimeoutMs: 2000, writeDeadlineMs: 1000 })).toThrow(/writeDeadlineMs \(1000\).*writeTimeoutMs \(2000\)/);
    expect(() => resolveConfigdOptions({ ...base, grpcMaxImportBytes: 2 * 1024 * 1024, grpcMaxReceiveBytes: 4 * 1024 * 1024 })).toThrow(
      /grpcMaxImportBytes \(2097152\) must be at least grpcMaxReceiveBytes \(4194304\)/,
    );
    expect(() => resolveConfigdOptions({ ...base, maxWatches: 0 })).toThrow(/maxWatches must be a positive integer/);
  });

  it('reports a malformed listen address as a configd invalid-argument', () => {
    expect(() => resolveConfigdOptions({ ...base, listen: 'nowhere' })).toThrow(expect.objectContaining({ name: 'ConfigdError', code: 'invalid-argument' }));
  });
});
