/**
 * NATS closed by default, for tests and the demo: one user per role with permissions by
 * subject (the same roles as `deploy/nats/`), and TLS between servers (cluster routes) with a
 * throw-away CA made by `openssl`. Passwords are random per start.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The roles of Palisade's NATS users. */
export const NATS_ROLES = ['configd', 'agent', 'logger'] as const;
/** A NATS user's role; one user per role, with `NATS_ROLE_PERMISSIONS`. */
export type NatsRole = (typeof NATS_ROLES)[number];

/** A user's name and password. */
export interface NatsUserCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Subjects each role may publish and subscribe to. configd: the document buckets (`$KV.>`) and
 * the JetStream API; agent: publishing firewall logs (`palisade.log.>`) and the log stream's
 * info; logger: consuming the log stream. Every role receives replies on `_INBOX.>`.
 */
export const NATS_ROLE_PERMISSIONS: Readonly<Record<NatsRole, { readonly publish: readonly string[]; readonly subscribe: readonly string[] }>> = {
  configd: {
    publish: ['$KV.>', '$JS.API.>', '$JS.ACK.>', '$JS.FC.>', '_INBOX.>'],
    subscribe: ['_INBOX.>', '$KV.>'],
  },
  agent: {
    publish: ['palisade.log.>', '$JS.API.INFO', '$JS.API.STREAM.INFO.PALISADE_LOG', '$JS.API.STREAM.CREATE.PALISADE_LOG'],
    subscribe: ['_INBOX.>'],
  },
  logger: {
    publish: [
      '$JS.API.INFO',
      '$JS.API.STREAM.INFO.PALISADE_LOG',
      '$JS.API.STREAM.CREATE.PALISADE_LOG',
      '$JS.API.STREAM.UPDATE.PALISADE_LOG',
      '$JS.API.CONSUMER.*.PALISADE_LOG',
      '$JS.API.CONSUMER.*.PALISADE_LOG.>',
      '$JS.API.CONSUMER.MSG.NEXT.PALISADE_LOG.>',
      '$JS.API.CONSUMER.DURABLE.CREATE.PALISADE_LOG.>',
      '$JS.ACK.PALISADE_LOG.>',
      '$JS.FC.PALISADE_LOG.>',
    ],
    subscribe: ['_INBOX.>'],
  },
};

/** Random credentials for every role. */
export function randomNatsCredentials(): Readonly<Record<NatsRole, NatsUserCredentials>> {
  const make = (user: string): NatsUserCredentials => ({ user, password: randomBytes(18).toString('base64url') });
  return { configd: make('configd'), agent: make('agent'), logger: make('logger') };
}

const list = (xs: readonly string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

/** The `authorization { users: [...] }` block of a server config. */
export function natsAuthorizationBlock(creds: Readonly<Record<NatsRole, NatsUserCredentials>>): string[] {
  return [
    'authorization {',
    '  users: [',
    ...NATS_ROLES.map((role) => {
      const p = NATS_ROLE_PERMISSIONS[role];
      const c = creds[role];
      return `    { user: ${JSON.stringify(c.user)}, password: ${JSON.stringify(c.password)}, permissions: { publish: { allow: ${list(p.publish)} }, subscribe: { allow: ${list(p.subscribe)} }, allow_responses: true } }`;
    }),
    '  ]',
    '}',
  ];
}

/** Files of the throw-away route CA: one certificate (server and client use) for every server on 127.0.0.1. */
export interface RouteTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Makes a CA and a route certificate for 127.0.0.1 in `dir` with openssl (Debian package openssl). */
export function makeRouteTls(dir: string): RouteTlsFiles {
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=palisade-test-route-ca']);
  run(['req', ...ec, '-keyout', 'route.key', '-out', 'route.csr', '-subj', '/CN=palisade-test-route']);
  writeFileSync(join(dir, 'route.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  run(['x509', '-req', '-in', 'route.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'route.pem', '-days', '2', '-extfile', 'route.ext']);
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'route.pem'), keyFile: join(dir, 'route.key') };
}
