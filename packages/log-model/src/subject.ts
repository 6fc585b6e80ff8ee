import { LOG_SUBJECT_PREFIX } from './entry.js';
import { LogModelError } from './errors.js';

/** A node name as Proxmox allows it (a DNS label) — also safe as a NATS subject token. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

/** Whether `node` is a valid node name. */
export function isValidNodeName(node: string): boolean {
  return NODE_NAME_PATTERN.test(node);
}

/** The subject a node publishes its entries to: `palisade.log.<node>`. Throws `invalid-node-name`. */
export function logSubject(node: string): string {
  if (!isValidNodeName(node)) {
    throw new LogModelError('invalid-node-name', `invalid node name ${JSON.stringify(node)}: expected [A-Za-z0-9][A-Za-z0-9-]{0,62}`);
  }
  return LOG_SUBJECT_PREFIX + node;
}
