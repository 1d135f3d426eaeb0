// `omni bench orders`: pickup orders through their lifecycle in the engine, side by side with
// plain stock events, on one engine thread and two (lifecycle.ts: flags, variants, report; the
// loops in drive.ts, the events in workload.ts). `omni bench order-get`: GET /v1/orders/:order
// against `omni serve` holding many stored orders (lookup.ts).

import { defineBench } from '../shared/bench-def.ts';
import { ORDER_GET_FLAGS, ORDER_GET_HELP, orderGetHeadline, printOrderGet, readOrderGetOptions, runOrderGetBench, type OrderGetOptions } from './lookup.ts';
import { ORDERS_FLAGS, ORDERS_HELP, ordersHeadline, ordersRatios, readOrdersOptions, runOrdersBench } from './lifecycle.ts';

export const ORDERS_BENCH = defineBench({
  title: 'orders: pickup order lifecycle (placed → ready → picked up) through the engine, beside plain stock events',
  help: ORDERS_HELP,
  flags: ORDERS_FLAGS,
  read: readOrdersOptions,
  run: runOrdersBench,
  headline: ordersHeadline,
  derived: ordersRatios,
});

export const ORDER_GET_BENCH = defineBench({
  title: 'order-get: GET /v1/orders/:order latency against omni serve holding many orders',
  help: ORDER_GET_HELP,
  flags: ORDER_GET_FLAGS,
  read: readOrderGetOptions,
  run: async (o: OrderGetOptions, runNo: number) => {
    const r = await runOrderGetBench(o, runNo);
    printOrderGet(r);
    return r;
  },
  headline: orderGetHeadline,
});
