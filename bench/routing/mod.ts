// `omni bench routing`: service routing: what one decision costs with 5,000 agents and 50,000 queued
// requests (decisions.ts, pure), and 2,000 requests/s sustained through the engine (sustained.ts).

import { defineBench } from '../shared/bench-def.ts';
import { ROUTING_FLAGS, ROUTING_HELP, readRoutingOptions, routingHeadline, runRoutingBench } from './service-routing.ts';

export const ROUTING_BENCH = defineBench({
  title: 'routing: service routing decisions with 5,000 agents and 50,000 queued (pure), and 2,000 requests/s through the engine',
  help: ROUTING_HELP,
  flags: ROUTING_FLAGS,
  read: readRoutingOptions,
  run: runRoutingBench,
  headline: routingHeadline,
});
