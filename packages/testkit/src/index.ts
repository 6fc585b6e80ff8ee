/** @palisade/testkit: helpers for integration tests (never imported by production code). */
export {
  freePort,
  natsServerBinary,
  startNats,
  type NatsClusterHandle,
  type NatsServerHandle,
  type StartNatsOptions,
  type StreamLeaderOptions,
} from './nats-server.js';
