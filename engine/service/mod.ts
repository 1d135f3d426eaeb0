// The service domain's public entry point.
export { onlineAgents, serviceProcessor, renderQueues } from './processor.ts';
export { eligible } from './routing.ts';
export { agentKey, BOT_MODES, keys as serviceKeys, CHANNELS } from './types.ts';
export type { Agent, BotMode, ServiceOptions, ServiceRequest } from './types.ts';
export type { QueueStats, RequestStatus } from './processor.ts';
export type { RequestExport } from './messages.ts';
export { KB_CONFIDENCE_THRESHOLD, KnowledgeIndex, knowledgeIndexOf } from './kb/mod.ts';
export type { KnowledgeEntry, KnowledgeMatch } from './kb/mod.ts';
export { serviceStatsRequest, SERVICE_STATS_TOPIC } from './stats/mod.ts';
export type { ServiceFigures, ServiceStats, ServiceStatsRequest } from './stats/mod.ts';
