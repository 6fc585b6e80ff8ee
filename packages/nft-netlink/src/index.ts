/**
 * `@palisade/nft-netlink`: nftables set element updates over netlink, without nft.
 *
 * - A pure codec (`codec/`): nfnetlink batches of NFT_MSG_NEWSETELEM / NFT_MSG_DELSETELEM for
 *   interval sets, and decoders for the kernel's NLMSG_ERROR answers.
 * - A small adapter (`adapter/`): a NETLINK_NETFILTER socket in this process, or a relay
 *   process inside a named network namespace, that sends one batch and waits for the acks.
 */
export {
  NETLINK_NETFILTER,
  NFNL_SUBSYS_NFTABLES,
  NFNLGRP_NFTABLES,
  NFT_NAME_MAXLEN,
  NLA_MAX_LEN,
  NLMSG_HDRLEN,
  Errno,
  NfnlMsg,
  NfProto,
  NftaData,
  NftaSetElem,
  NftaSetElemList,
  NftMsg,
  NftSetElemFlag,
  NftnlUdata,
  NlmFlags,
  NlmsgType,
  errnoName,
  type NftFamily,
} from './codec/constants.js';
export { fromHex, toHex } from './codec/bytes.js';
export {
  encodeSetElemBatch,
  encodedElementBytes,
  type BatchMessageInfo,
  type EncodeBatchOptions,
  type EncodeResult,
  type EncodedBatch,
  type RawSetElement,
  type SetElemMessage,
} from './codec/encode.js';
export {
  INTERVAL_OPEN_USERDATA,
  addressKey,
  intervalElements,
  keyAddress,
  planSetElementMessages,
  type IntervalSetChange,
  type PlanOptions,
} from './codec/elements.js';
export {
  DEFAULT_DECODE_LIMITS,
  createNetlinkStreamDecoder,
  decodeAck,
  decodeAttributes,
  decodeNetlinkMessages,
  decodeSetElemMessage,
  type DecodeLimits,
  type DecodeResult,
  type NetlinkAck,
  type NetlinkAttribute,
  type NetlinkHeader,
  type NetlinkMessage,
  type NetlinkStreamDecoder,
} from './codec/decode.js';
export { NFT_NETLINK_ERROR_CODES, NftNetlinkError, type FailedMessage, type NftNetlinkErrorCode, type NftNetlinkErrorContext } from './errors.js';
export type { DatagramLink, LinkListener } from './adapter/link.js';
export { DEFAULT_SOCKET_LINK_OPTIONS, openSocketLink, type SocketLinkOptions } from './adapter/socket-link.js';
export { DEFAULT_NETNS_LINK_OPTIONS, NETNS_RELAY_PATH, openNetnsLink, type NetnsLinkOptions } from './adapter/netns-link.js';
export { DEFAULT_EXCHANGE_TIMEOUT_MS, exchangeBatch, type BatchResult, type ExchangeOptions } from './adapter/exchange.js';
export {
  applySetElementChanges,
  createSetElementApplier,
  type ApplyOptions,
  type ApplyResult,
  type SetElementApplier,
  type SetElementApplierOptions,
} from './adapter/applier.js';
export { decodeAttrTree, type Attr, type AttrTreeLimits, type AttrTreeResult } from './codec/attrs.js';
export { NftObjMsg } from './codec/nft-constants.js';
export {
  NLM_F_APPEND,
  NLM_F_DUMP,
  chunkMessages,
  delChain,
  delTable,
  encodeNftBatch,
  encodeRequest,
  flushChain,
  messageBytes,
  newChain,
  newRule,
  newTable,
  type ChainHook,
  type NftBatchOptions,
  type NftMessage,
} from './codec/nft-messages.js';
// Lowering IR to messages, whole: the planner's building blocks, for tests and tools that build batches by hand.
export * from './codec/nft-lower.js';
export { openNftSession, type NftSession, type NftSessionOptions, type SendResult } from './adapter/nft-session.js';
export { planFullReplace, planRuleset, type OwnTable, type PlanSummary, type RulesetPlan } from './codec/ruleset-plan.js';
export {
  ERESTART,
  createRulesetApplier,
  type AppliedState,
  type RulesetApplier,
  type RulesetApplierOptions,
  type RulesetApplyResult,
} from './adapter/ruleset-applier.js';
export { decodeListedShape, diffShapes, expectedShape, type RulesetShape, type ShapeDecode } from './codec/ruleset-shape.js';
export {
  DEFAULT_NFLOG_DECODE_LIMITS,
  DEFAULT_NFLOG_SETUP,
  NFNL_SUBSYS_ULOG,
  NFULNL_CONFIG_TYPE,
  NFULNL_PACKET_TYPE,
  NfulaAttr,
  NfulaCfg,
  NfulnlCfgCmd,
  NfulnlCfgFlag,
  NfulnlCopy,
  NfulnlMsg,
  decodeNflogDatagram,
  decodeNflogPacket,
  encodeNflogConfig,
  nflogSetup,
  nflogUnbind,
  type NflogConfig,
  type NflogDatagram,
  type NflogDecodeLimits,
  type NflogPacket,
  type NflogSetupOptions,
} from './nflog/nflog-codec.js';
export { describePayload, formatPacketText, macText, type PacketFields, type PacketMeta } from './nflog/packet-text.js';
export { formatIpv4, formatIpv6 } from './nflog/inet-ntop.js';
export { NETLINK_READER_PATH, openNetlinkListener, type ListenerCallerOptions, type NetlinkListener, type NetlinkListenerOptions } from './adapter/netlink-listener.js';
export { DEFAULT_NFTABLES_MONITOR_OPTIONS, openNftablesMonitor, type NftablesMonitorOptions } from './adapter/nftables-monitor.js';
export { DEFAULT_NFLOG_LISTENER_OPTIONS, NFLOG_READER_PATH, openNflogListener, type NflogListener, type NflogListenerOptions } from './adapter/nflog-listener.js';
export {
  AddressFamily,
  DEFAULT_ROUTE_DECODE_LIMITS,
  IfFlag,
  IfaAttr,
  IflaAttr,
  LINK_ADDRESS_GROUPS,
  NETLINK_ROUTE,
  NLM_F_DUMP_INTR,
  RtScope,
  RtmGroup,
  RtmType,
  decodeAddressBody,
  decodeLinkBody,
  decodeRouteDatagram,
  encodeRouteDump,
  type RouteAddress,
  type RouteDatagram,
  type RouteDecodeLimits,
  type RouteEvent,
  type RouteLink,
} from './rtnetlink/rtnetlink-codec.js';
export { LinkAddressTable, type NamedRouteAddress } from './rtnetlink/link-address-table.js';
export { DEFAULT_ROUTE_LISTENER_OPTIONS, ROUTE_READER_PATH, openRouteListener, type RouteListener, type RouteListenerOptions } from './adapter/route-listener.js';
