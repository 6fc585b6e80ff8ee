/**
 * A datagram link to the kernel's nfnetlink: the in-process socket (`socket-link.ts`) and the
 * relay into another network namespace (`netns-link.ts`) both provide it.
 */

/** What a link reports to its subscriber. */
export interface LinkListener {
  /** One datagram received from the kernel (one or more netlink messages). */
  datagram(bytes: Uint8Array): void;
  /** The link failed (socket error, relay gone); pending exchanges fail with it. */
  error(err: Error): void;
}

/**
 * The transport under an `NftSession`: one netlink socket, in this process or relayed into
 * another namespace, so the session and the exchange need not know which.
 */
export interface DatagramLink {
  /** Sends one datagram to the kernel (port 0); resolves once `sendmsg` returned. */
  send(bytes: Uint8Array): Promise<void>;
  /** Receives every datagram until the returned function is called. */
  subscribe(listener: LinkListener): () => void;
  /** Largest datagram `send` accepts (the socket's send buffer less netlink overhead), bytes. */
  readonly maxSendBytes: number;
  /** Closes the socket (and stops the relay). Idempotent. */
  close(): Promise<void>;
}
