/**
 * The one error type of `@palisade/nft-netlink`, with a closed set of codes.
 */

/**
 * Every code an `NftNetlinkError` can carry, closed so a caller can handle each. `KERNEL_ERROR`
 * means nothing of the batch was applied; after `TIMEOUT` or `ABORTED` the outcome of a sent
 * batch is unknown.
 */
export const NFT_NETLINK_ERROR_CODES = [
  /** The kernel refused the batch; nothing of it was applied. `errno` and `failed` say why and where. */
  'KERNEL_ERROR',
  /** The request cannot be encoded (bad name, family, key length, too large for one batch). */
  'INVALID_REQUEST',
  /** The encoded batch exceeds what one netlink datagram on this socket can carry. */
  'BATCH_TOO_LARGE',
  /** No complete answer within `timeoutMs`: whether the kernel applied the batch is unknown. */
  'TIMEOUT',
  /** The caller's AbortSignal fired: whether the kernel applied the batch is unknown once sent. */
  'ABORTED',
  /** Opening, sending on or receiving from the netlink socket failed (`errno` from the syscall). */
  'SOCKET_ERROR',
  /** The network-namespace relay process could not be started or went away. */
  'RELAY_ERROR',
  /** Bytes that are not well-formed netlink, or an answer that does not fit the request. */
  'PROTOCOL_ERROR',
  /** The applier was closed. */
  'CLOSED',
] as const;
/** One of `NFT_NETLINK_ERROR_CODES`, the `code` of an `NftNetlinkError`. */
export type NftNetlinkErrorCode = (typeof NFT_NETLINK_ERROR_CODES)[number];

/** Which message of a batch the kernel refused. */
export interface FailedMessage {
  /** `nlmsg_seq` of the refused message. */
  readonly seq: number;
  /** Index of the message in the batch (0 is BATCH_BEGIN). */
  readonly index: number;
  /** `batch` for an error about the batch as a whole (permission, commit failure). */
  readonly op: 'batch' | 'add' | 'delete' | 'object';
  readonly family?: string;
  /** `object` messages: what the refused message did (`add rule to inet palisade X (doc:line)`). */
  readonly what?: string;
  /** The source document and line of a refused rule. */
  readonly origin?: { readonly path: string; readonly line: number };
  readonly table?: string;
  readonly set?: string;
}

/**
 * Details given to the `NftNetlinkError` constructor; each becomes the field of the same name
 * (`allFailed` defaults to empty, `cause` becomes `Error.cause`).
 */
export interface NftNetlinkErrorContext {
  /** Positive errno from the kernel (NLMSG_ERROR) or the failing syscall. */
  readonly errno?: number;
  /** Symbolic errno name (`ENOENT`), when known. */
  readonly errnoName?: string;
  /** The first refused message of the batch. */
  readonly failed?: FailedMessage;
  /** Every refused message, in batch order (the kernel reports all of them). */
  readonly allFailed?: readonly (FailedMessage & { readonly errno: number })[];
  /** Extended-ack text from the kernel, when it sent one. */
  readonly kernelMessage?: string;
  readonly cause?: unknown;
}

/** Every error thrown by this package. */
export class NftNetlinkError extends Error {
  override readonly name = 'NftNetlinkError';
  readonly code: NftNetlinkErrorCode;
  readonly errno: number | undefined;
  readonly errnoName: string | undefined;
  readonly failed: FailedMessage | undefined;
  readonly allFailed: readonly (FailedMessage & { readonly errno: number })[];
  readonly kernelMessage: string | undefined;

  constructor(code: NftNetlinkErrorCode, message: string, context: NftNetlinkErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.errno = context.errno;
    this.errnoName = context.errnoName;
    this.failed = context.failed;
    this.allFailed = context.allFailed ?? [];
    this.kernelMessage = context.kernelMessage;
  }
}
