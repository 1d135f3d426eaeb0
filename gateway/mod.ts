// The gateway's public entry point. Everything outside gateway/ imports from here only.
export { startGateway } from './server.ts';
export type { Gateway, GatewayOptions, StaticAsset } from './server.ts';
export type { ClusterReport, ClusterStatsReport, GatewayEngine, TopicSnapshot } from './engine-port.ts';
export type { GatewayLimits } from './http/context.ts';
export { DEFAULT_LIMITS } from './http/context.ts';
export { resolveSecret, SECRET_FILE } from './secret.ts';
export type { ResolvedSecret } from './secret.ts';
export { signToken, verifyToken } from './auth/jwt.ts';
export type { TokenClaims, TokenFailure, VerifyOptions, VerifyResult } from './auth/jwt.ts';
export { authenticate, authenticateToken } from './auth/authenticate.ts';
export type { AuthResult } from './auth/authenticate.ts';
export { ANONYMOUS, ROLES, TOKEN_ROLES, isRole } from './auth/principal.ts';
export type { Principal, Role } from './auth/principal.ts';
export { mayRead, maySend, parseTopic, readsEverything } from './auth/roles.ts';
export type { OrderFacts, OrderLookup, OrderParties, ReadOptions, RequestLookup, RequestParties, SameCustomer, SendOptions, TopicFamily } from './auth/roles.ts';
export type { PushEngine } from './ws/engine-port.ts';
export { DEFAULT_WS_LIMITS } from './ws/limits.ts';
export type { WsLimits } from './ws/limits.ts';
export { openApiDocument } from './http/openapi.ts';

// The push path without sockets, for the micro-benchmarks (bench/micro/): a topic hub fanning
// update messages out to its subscribers.
export { TopicHub } from './ws/topic-hub.ts';
export type { Subscriber } from './ws/topic-hub.ts';
export { OutMessage, updateMessage } from './ws/out-message.ts';
// The strict decoder of request bodies and frames, for the micro-benchmarks' cost of decoding.
export { decode as decodeWire } from './http/codec.ts';
