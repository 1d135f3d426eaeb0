// The processors `omni serve` runs. Later domains (customers, service) join this list.
import { stockProcessor } from './stock/mod.ts';
import type { StockOptions } from './stock/types.ts';
import type { Processor } from './types.ts';

export interface DomainOptions {
  stock?: StockOptions;
}

export function defaultProcessors(options: DomainOptions = {}): Processor[] {
  return [stockProcessor(options.stock)];
}
