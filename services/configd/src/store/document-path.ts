/**
 * Document paths: which /etc/pve-relative paths configd stores, and how a prefix is checked.
 * Paths double as NATS KV keys (subject tokens split on "."), so the character set is narrow.
 */
import { classifyPath, DOCUMENT_PATH_FORMS, type PathInfo } from '@palisade/fw-lang';
import { ConfigdError } from '../errors.js';

/** What a path denotes (the language library's classification, so both accept the same paths). */
export type DocumentPathInfo = PathInfo;

export { DOCUMENT_PATH_FORMS };

/** Strips an optional leading "/etc/pve/" or "/" so both spellings address the same document. */
export function normalizeDocumentPath(path: string): string {
  if (path.startsWith('/etc/pve/')) return path.slice('/etc/pve/'.length);
  if (path.startsWith('/')) return path.slice(1);
  return path;
}

/** Classifies a normalized path; undefined when configd does not store such a document. */
export function classifyDocumentPath(path: string): DocumentPathInfo | undefined {
  return classifyPath(path);
}

/** Normalizes and checks a document path; throws `invalid-argument` for unknown paths. */
export function requireDocumentPath(raw: string): { path: string; info: DocumentPathInfo } {
  const path = normalizeDocumentPath(raw);
  if (path === '') throw new ConfigdError('invalid-argument', 'path is empty');
  const info = classifyDocumentPath(path);
  if (!info) {
    throw new ConfigdError(
      'invalid-argument',
      `unknown document path '${raw}': configd stores ${DOCUMENT_PATH_FORMS.join(', ')}`,
      { path: raw },
    );
  }
  return { path, info };
}

const PREFIX_RE = /^[A-Za-z0-9_./-]*$/;

/** Normalizes and checks a listing/watch prefix ("" = everything). */
export function requirePrefix(raw: string): string {
  const prefix = raw === '/' || raw === '/etc/pve' ? '' : normalizeDocumentPath(raw);
  if (!PREFIX_RE.test(prefix) || prefix.length > 512) {
    throw new ConfigdError('invalid-argument', `invalid path prefix '${raw}'`);
  }
  return prefix;
}
