/**
 * nf_tables wire constants for whole rulesets: object messages, their attributes and the
 * expressions the compiler's rules lower to. Values from `/usr/include/linux/netfilter/nf_tables.h`
 * (enum names in the comments), `linux/netfilter.h` (verdicts, hooks), `linux/netfilter/nfnetlink.h`
 * (batch attributes) and libnftnl's `include/udata.h` / nft's `include/rule.h` (user data, which
 * the kernel stores opaquely and nft reads back to list a set or a rule the way it was written).
 */

/** `enum nf_tables_msg_types`. */
export const NftObjMsg = {
  NEWTABLE: 0,
  GETTABLE: 1,
  DELTABLE: 2,
  NEWCHAIN: 3,
  GETCHAIN: 4,
  DELCHAIN: 5,
  NEWRULE: 6,
  GETRULE: 7,
  DELRULE: 8,
  NEWSET: 9,
  GETSET: 10,
  DELSET: 11,
  NEWSETELEM: 12,
  GETSETELEM: 13,
  DELSETELEM: 14,
  NEWGEN: 15,
  GETGEN: 16,
  NEWOBJ: 18,
  GETOBJ: 19,
  DELOBJ: 20,
} as const;
/** One of the `NFT_MSG_*` values, the low byte of an nf_tables `nlmsg_type`. */
export type NftObjMsg = (typeof NftObjMsg)[keyof typeof NftObjMsg];

/** `nfnetlink.h` `enum nfnl_batch_attributes`: the generation a batch is valid for. */
export const NFNL_BATCH_GENID = 1;
/** `enum nft_gen_attributes`. */
export const NftaGen = { ID: 1, PROC_PID: 2, PROC_NAME: 3 } as const;

/** `enum nft_table_attributes`. */
export const NftaTable = { NAME: 1, FLAGS: 2, USE: 3, HANDLE: 4, PAD: 5, USERDATA: 6, OWNER: 7 } as const;
/** `enum nft_chain_attributes`. */
export const NftaChain = { TABLE: 1, HANDLE: 2, NAME: 3, HOOK: 4, POLICY: 5, USE: 6, TYPE: 7, COUNTERS: 8, PAD: 9, FLAGS: 10, ID: 11, USERDATA: 12 } as const;
/** `enum nft_hook_attributes`. */
export const NftaHook = { HOOKNUM: 1, PRIORITY: 2, DEV: 3 } as const;
/** `enum nft_rule_attributes`. */
export const NftaRule = { TABLE: 1, CHAIN: 2, HANDLE: 3, EXPRESSIONS: 4, COMPAT: 5, POSITION: 6, USERDATA: 7, PAD: 8, ID: 9 } as const;
/** `enum nft_set_attributes`. */
export const NftaSet = {
  TABLE: 1,
  NAME: 2,
  FLAGS: 3,
  KEY_TYPE: 4,
  KEY_LEN: 5,
  DATA_TYPE: 6,
  DATA_LEN: 7,
  POLICY: 8,
  DESC: 9,
  ID: 10,
  TIMEOUT: 11,
  GC_INTERVAL: 12,
  USERDATA: 13,
  PAD: 14,
  OBJ_TYPE: 15,
  HANDLE: 16,
  EXPR: 17,
  EXPRESSIONS: 18,
} as const;
/** `enum nft_set_desc_attributes`. */
export const NftaSetDesc = { SIZE: 1, CONCAT: 2 } as const;
/** `enum nft_set_flags`. */
export const NftSetFlag = { ANONYMOUS: 0x1, CONSTANT: 0x2, INTERVAL: 0x4, MAP: 0x8, TIMEOUT: 0x10, EVAL: 0x20, OBJECT: 0x40, CONCAT: 0x80 } as const;
/** `enum nft_object_attributes`. */
export const NftaObj = { TABLE: 1, NAME: 2, TYPE: 3, DATA: 4, USE: 5, HANDLE: 6, PAD: 7, USERDATA: 8 } as const;
/** `NFT_OBJECT_*`. */
export const NftObjectType = { COUNTER: 1, QUOTA: 2, CT_HELPER: 3 } as const;
/** `enum nft_ct_helper_attributes`. */
export const NftaCtHelper = { NAME: 1, L3PROTO: 2, L4PROTO: 3 } as const;

/** `enum nft_list_attributes` / `enum nft_expr_attributes`. */
export const NftaExpr = { NAME: 1, DATA: 2 } as const;
/** `enum nft_data_attributes` / `enum nft_verdict_attributes`. */
export const NftaVerdict = { CODE: 1, CHAIN: 2 } as const;

/** `enum nft_registers`: the verdict register and the first 16-byte data register. */
export const NftReg = { VERDICT: 0, R1: 1 } as const;

/** `netfilter.h` `NF_DROP`/`NF_ACCEPT` and `enum nft_verdicts` (negative, as be32 two's complement). */
export const NftVerdictCode = { DROP: 0, ACCEPT: 1, CONTINUE: -1, BREAK: -2, JUMP: -3, GOTO: -4, RETURN: -5 } as const;

/** `netfilter.h` `enum nf_inet_hooks` (the bridge family uses the same numbers). */
export const NfHook = { prerouting: 0, input: 1, forward: 2, output: 3, postrouting: 4 } as const;

/** `enum nft_cmp_ops`. */
export const NftCmpOp = { EQ: 0, NEQ: 1, LT: 2, LTE: 3, GT: 4, GTE: 5 } as const;
/** `enum nft_range_ops`. */
export const NftRangeOp = { EQ: 0, NEQ: 1 } as const;
/** `enum nft_payload_bases`. */
export const NftPayloadBase = { LL: 0, NETWORK: 1, TRANSPORT: 2 } as const;
/** `enum nft_meta_keys` (the ones used here). */
export const NftMetaKey = { PROTOCOL: 1, MARK: 3, IIFNAME: 6, OIFNAME: 7, IIFTYPE: 8, NFPROTO: 15, L4PROTO: 16 } as const;
/** `enum nft_ct_keys` (the ones used here). */
export const NftCtKey = { STATE: 0, MARK: 3 } as const;
/** `NFT_LOOKUP_F_INV`. */
export const NFT_LOOKUP_F_INV = 0x1;
/** `enum nft_dynset_ops`, `NFT_DYNSET_F_*`. */
export const NftDynsetOp = { ADD: 0, UPDATE: 1, DELETE: 2 } as const;
/** `enum nft_limit_type`, `NFT_LIMIT_F_INV`. */
export const NftLimitType = { PKTS: 0, PKT_BYTES: 1 } as const;
/** `enum nft_limit_flags`: inverts a `limit` (it matches once the rate is exceeded), as `limit rate over` does. */
export const NFT_LIMIT_F_INV = 0x1;
/** `NFT_QUEUE_FLAG_BYPASS`. */
export const NFT_QUEUE_FLAG_BYPASS = 0x1;
/** `enum nft_reject_types`. */
export const NftRejectType = { ICMP_UNREACH: 0, TCP_RST: 1, ICMPX_UNREACH: 2 } as const;
/** `enum nft_fib_result`, `enum nft_fib_flags`. */
export const NftFibResult = { OIF: 1, OIFNAME: 2, ADDRTYPE: 3 } as const;
/**
 * `enum nft_fib_flags`: which address a `fib` lookup uses and which interface it takes into
 * account; `PRESENT` only tests that a result exists.
 */
export const NftFibFlag = { SADDR: 0x1, DADDR: 0x2, MARK: 0x4, IIF: 0x8, OIF: 0x10, PRESENT: 0x20 } as const;

/** Expression attributes, one `enum nft_<expr>_attributes` each. */
export const NftaMeta = { DREG: 1, KEY: 2, SREG: 3 } as const;
/** `enum nft_cmp_attributes`: compares a source register with constant data. */
export const NftaCmp = { SREG: 1, OP: 2, DATA: 3 } as const;
/** `enum nft_payload_attributes`: loads packet bytes (base, offset, length) into a register. */
export const NftaPayload = { DREG: 1, BASE: 2, OFFSET: 3, LEN: 4, SREG: 5 } as const;
/** `enum nft_bitwise_attributes`: masks and xors a register, for prefix matches and flag tests. */
export const NftaBitwise = { SREG: 1, DREG: 2, LEN: 3, MASK: 4, XOR: 5, OP: 6 } as const;
/**
 * `enum nft_range_attributes`: tests a register against an inclusive range (used for `!=` ranges;
 * `==` is two cmps, as nft sends it).
 */
export const NftaRange = { SREG: 1, OP: 2, FROM_DATA: 3, TO_DATA: 4 } as const;
/** `enum nft_lookup_attributes`: looks a register up in a set, by name or by the set ID of the batch that declares it. */
export const NftaLookup = { SET: 1, SREG: 2, DREG: 3, SET_ID: 4, FLAGS: 5 } as const;
/** `enum nft_immediate_attributes`: loads constant data or a verdict into a register. */
export const NftaImmediate = { DREG: 1, DATA: 2 } as const;
/** `enum nft_ct_attributes`: loads a conntrack key (state, mark) into a register. */
export const NftaCt = { DREG: 1, KEY: 2, DIRECTION: 3, SREG: 4 } as const;
/** `enum nft_limit_attributes`: a rate limit (rate per unit of seconds, burst, packets or bytes). */
export const NftaLimit = { RATE: 1, UNIT: 2, BURST: 3, TYPE: 4, FLAGS: 5 } as const;
/** `enum nft_log_attributes`: the `log` statement (NFLOG group, prefix, level). */
export const NftaLog = { GROUP: 1, PREFIX: 2, SNAPLEN: 3, QTHRESHOLD: 4, LEVEL: 5, FLAGS: 6 } as const;
/** `enum nft_reject_attributes`: the `reject` statement's type and ICMP code. */
export const NftaReject = { TYPE: 1, ICMP_CODE: 2 } as const;
/** `enum nft_queue_attributes`: the `queue` statement (queue number, number of queues, flags). */
export const NftaQueue = { NUM: 1, TOTAL: 2, FLAGS: 3 } as const;
/** `enum nft_dynset_attributes`: adds to or updates a set from the packet path, as meters do. */
export const NftaDynset = { SET_NAME: 1, SET_ID: 2, OP: 3, SREG_KEY: 4, SREG_DATA: 5, TIMEOUT: 6, EXPR: 7, PAD: 8, FLAGS: 9 } as const;
/** `enum nft_fib_attributes`: a `fib` lookup, its result kind and flags. */
export const NftaFib = { DREG: 1, RESULT: 2, FLAGS: 3 } as const;
/** `enum nft_objref_attributes`: refers to a stateful object (a ct helper) by type and name. */
export const NftaObjref = { IMM_TYPE: 1, IMM_NAME: 2 } as const;
/** `enum nft_counter_attributes`: a rule's own counter. */
export const NftaCounter = { BYTES: 1, PACKETS: 2 } as const;

/**
 * nft's data types (`include/datatype.h` `enum datatypes`), sent as `NFTA_SET_KEY_TYPE`; the
 * kernel keeps them opaquely, nft uses them to print elements.
 */
export const NftDatatype = {
  verdict: 1,
  ipv4_addr: 7,
  ipv6_addr: 8,
  inet_proto: 12,
  inet_service: 13,
  icmp_type: 14,
  ct_state: 26,
  icmpv6_type: 29,
  ifname: 41,
  fib_addrtype: 44,
} as const;

/** libnftnl `enum nftnl_udata_rule_types` / `enum nftnl_udata_set_types`. */
export const NftnlUdataRule = { COMMENT: 0 } as const;
/**
 * libnftnl `enum nftnl_udata_set_types`: what nft stores in a set's user data (key byte order,
 * typeof, comment) to list the set the way it was written; the kernel does not read it.
 */
export const NftnlUdataSet = { KEYBYTEORDER: 0, DATABYTEORDER: 1, MERGE_ELEMENTS: 2, KEY_TYPEOF: 3, DATA_TYPEOF: 4, EXPR: 5, DATA_INTERVAL: 6, COMMENT: 7 } as const;
/** nft `enum byteorder`, as stored in `NFTNL_UDATA_SET_KEYBYTEORDER`. */
export const NftByteorder = { HOST: 1, BIG: 2 } as const;
