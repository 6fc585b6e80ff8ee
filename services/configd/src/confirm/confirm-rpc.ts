/** `DocumentService.Confirm` and `ListConfirmations` over `Confirmations`. */
import type { DocumentServiceServer, PendingConfirmation as PbPending } from '@palisade/api';
import { ConfigdError } from '../errors.js';
import type { ConfigdHandlers } from '../rpc/handler.js';
import type { Confirmations } from './confirmations.js';
import type { PendingConfirmation } from './pending-record.js';

/** The wire form of a pending confirmation. */
export function pendingToProto(p: PendingConfirmation): PbPending {
  return {
    path: p.path,
    changeRevision: p.changeRevision,
    restoreRevision: p.restoreRevision,
    deadlineMs: p.deadlineMs,
    author: p.author,
    writerNode: p.writerNode,
    state: p.state,
    rollbackNode: p.rollbackNode ?? '',
  };
}

/** The two methods, for `createDocumentService`. */
export function createConfirmMethods(rpc: ConfigdHandlers, confirmations: Confirmations): Pick<DocumentServiceServer, 'confirm' | 'listConfirmations'> {
  return {
    confirm: rpc.unary('write', async (req) => {
      if (!req.revision) throw new ConfigdError('invalid-argument', 'revision is required');
      return { confirmed: pendingToProto(await confirmations.confirm(req.revision)) };
    }),
    listConfirmations: rpc.unary('read', () => ({ pending: confirmations.list().map(pendingToProto) })),
  };
}
