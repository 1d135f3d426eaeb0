// The engine's public entry point. Everything outside engine/ imports from here only.
export { Engine } from './engine.ts';
export { MAX_ENGINE_THREADS, openEngine, openEngineWithWorkers, openThreadedEngine } from './open-engine.ts';
export type { ThreadedEngineOptions } from './open-engine.ts';
export { DEFAULT_PARTITIONS, MAX_PARTITIONS } from './partitions.ts';
export type { LogEntry, LoggedEvent } from './log-positions.ts';
export type { PartitionChange, Replicator } from './changelog.ts';
export { EventRouter, type RoutedEvent } from './event-routing.ts';
export { ThreadedEngine } from './threaded-engine.ts';
export { DataDirInUseError, DataDirLock, DataDirLockLostError } from './data-dir-lock.ts';
export { orderParties, orderView, stockProcessor } from './stock/mod.ts';
export type { OrderParties, OrderView, StockOptions } from './stock/mod.ts';
export { BOT_MODES, onlineAgents, renderQueues } from './service/mod.ts';
export type { QueueStats, RequestExport, RequestStatus, ServiceOptions } from './service/mod.ts';
// Knowledge-base answers, for their micro-benchmark (bench/micro/kb-match.ts).
export { KB_CONFIDENCE_THRESHOLD, KnowledgeIndex, knowledgeIndexOf } from './service/mod.ts';
export type { KnowledgeEntry, KnowledgeMatch } from './service/mod.ts';
export { serviceStatsRequest, SERVICE_STATS_TOPIC } from './service/mod.ts';
export type { ServiceFigures, ServiceStats } from './service/mod.ts';
export { defaultProcessors, wiredServiceProcessor } from './processors.ts';
export { commerceProcessor, commerceStats, statsRequest } from './commerce/mod.ts';
export type { CommerceCounted, CommerceStats } from './commerce/mod.ts';
export { PureRunner } from './pure-runner.ts';
// State in a Map, for running a domain's functions without a store (bench/recs/, tests).
export { MapState } from './staged-state.ts';
// The per-write storable check, for the micro-benchmarks' cost of it (bench/micro/).
export { unstorable } from './storable.ts';
export type { DomainOptions } from './processors.ts';
export { customerProcessor, explain, isIdKind, maskEmail, maskId, maskPhone, recommend, recordActivity, resolveCustomer } from './customers/mod.ts';
export type { CustomerExport, CustomerOptions, IdentityOptions, Recommendations, RecommenderOptions, ShopperContext, StoreNoticeEvent } from './customers/mod.ts';
export { ERROR_CODES, EngineClosedError, PartitionCountMismatchError, rejection } from './errors.ts';
export { describeRule, idProblem, MAX_ID_LENGTH, MAX_QUANTITY } from './validate.ts';
export type { EventSchema, FieldRule } from './validate.ts';
export { envelopeProblem, isEventError, readEvent } from './event-builder.ts';
export { eventJsonSchema } from './event-json-schema.ts';
export type { ErrorCode } from './errors.ts';
export type {
  BatchStats,
  Clock,
  Durability,
  EngineLayout,
  EngineOptions,
  EngineStats,
  EventError,
  EventResult,
  FollowedOutcome,
  InputEvent,
  LoggedDerived,
  Output,
  Processor,
  RemoteDerived,
  RemotePartitions,
  StateView,
} from './types.ts';
