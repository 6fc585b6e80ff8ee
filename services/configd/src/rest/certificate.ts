/**
 * The REST listener's certificate when none is given: a self-signed one generated with
 * `openssl` into `<data>/rest/` on first start and reused afterwards (as Proxmox generates
 * `pve-ssl.pem`), with its SHA-256 fingerprint for clients to pin.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigdError } from '../errors.js';

const run = promisify(execFile);

/** A certificate, its key (PEM) and the SHA-256 fingerprint (`AA:BB:…`). */
export interface RestCertificate {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly fingerprint: string;
  /** True when this call generated it. */
  readonly generated: boolean;
}

/** SHA-256 fingerprint of a PEM certificate, colon-separated upper-case hex. */
export function certificateFingerprint(cert: Buffer): string {
  return new X509Certificate(cert).fingerprint256;
}

/**
 * Returns `<dataDir>/rest/{cert,key}.pem`, generating a self-signed pair (10 years, CN and
 * subjectAltName = `node`, `localhost`, 127.0.0.1, ::1) when they do not exist yet.
 */
export async function ensureRestCertificate(dataDir: string, node: string, signal?: AbortSignal): Promise<RestCertificate> {
  const dir = join(dataDir, 'rest');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  let generated = false;
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      await run(
        'openssl',
        [
          'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
          '-subj', `/CN=${node}/O=Palisade configd`,
          '-addext', `subjectAltName=DNS:${node},DNS:localhost,IP:127.0.0.1,IP:::1`,
          '-keyout', keyPath, '-out', certPath,
        ],
        { timeout: 60_000, ...(signal ? { signal } : {}) },
      );
    } catch (err) {
      throw new ConfigdError('unavailable', `cannot generate the REST certificate with openssl (Debian package openssl): ${(err as Error).message}`, {}, { cause: err });
    }
    generated = true;
  }
  const cert = readFileSync(certPath);
  const key = readFileSync(keyPath);
  return { cert, key, fingerprint: certificateFingerprint(cert), generated };
}
