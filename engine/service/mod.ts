// The service domain's public entry point.
export { onlineAgents, serviceProcessor, renderQueue, renderQueues, requestStatus, SERVICE_PARTITION } from './processor.ts';
export { eligible } from './routing.ts';
export { agentKey, rankKey, keys as serviceKeys, topics as serviceTopics, CHANNELS, REQUEUE_POINTS, VIP_POINTS } from './types.ts';
export type { Agent, Channel, CustomerRecord, ServiceOptions, ServiceRequest, TopicStats } from './types.ts';
export type { QueueStats, RequestStatus } from './processor.ts';
