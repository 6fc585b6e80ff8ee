/** @palisade/testkit: helpers for integration tests (never imported by production code). */
export {
  freePort,
  freePorts,
  natsServerBinary,
  startNats,
  type NatsClusterHandle,
  type NatsServerHandle,
  type StartNatsOptions,
  type StreamLeaderOptions,
} from './nats-server.js';
export { TestkitError } from './errors.js';
export {
  NATS_ROLES,
  NATS_ROLE_PERMISSIONS,
  makeRouteTls,
  natsAuthorizationBlock,
  randomNatsCredentials,
  type NatsRole,
  type NatsUserCredentials,
  type RouteTlsFiles,
} from './nats-auth.js';
export {
  startConfigdProcess,
  startInProcess,
  type ConfigdProcessHandle,
  type InProcessHandle,
  type StartConfigdProcessOptions,
  type StartedHandle,
} from './service-handles.js';
