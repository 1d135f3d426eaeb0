// The processors `omni serve` runs. Later domains (customers) join this list.
import { serviceProcessor } from './service/mod.ts';
import type { ServiceOptions } from './service/types.ts';
import { stockProcessor } from './stock/mod.ts';
import type { StockOptions } from './stock/types.ts';
import type { Processor } from './types.ts';

export interface DomainOptions {
  stock?: StockOptions;
  service?: ServiceOptions;
}

export function defaultProcessors(options: DomainOptions = {}): Processor[] {
  return [stockProcessor(options.stock), serviceProcessor(options.service)];
}
