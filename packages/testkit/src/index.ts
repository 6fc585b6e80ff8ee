/** @palisade/testkit: helpers for integration tests (never imported by production code). */
export {
  freePort,
  natsServerBinary,
  startNats,
  type NatsClusterHandle,
  type NatsServerHandle,
  type StartNatsOptions,
} from './nats-server.js';
