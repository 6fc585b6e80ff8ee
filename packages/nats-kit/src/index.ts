export {
  NATS_CONNECT_DEFAULTS,
  NatsKitError,
  connectNats,
  natsClientOf,
  natsConnectionOptions,
  resolveNatsConnectOptions,
  type NatsClient,
  type NatsAuth,
  type NatsConnectOptions,
  type NatsConnectionState,
  type ResolvedNatsConnectOptions,
} from './connect.js';
export { classifyPublishError, probeStreamQuorum, retryBackoffMs, streamHasQuorum, type PublishFailure, type QuorumProbe } from './jetstream.js';
export { QUORUM_VERDICT_DEFAULTS, QuorumVerdict, type FailedProbe, type QuorumVerdictOptions } from './quorum.js';
export { NATS_CREDENTIAL_ARGS, natsCredentialFlags, natsSecurityFromFlags, type NatsCredentialFlags, type NatsSecurity } from './credentials.js';
