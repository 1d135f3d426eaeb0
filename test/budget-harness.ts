// Reading the server-wide budgets (gateway/budget.ts) back from GET /metrics, as an operator
// would: what each holds, its limit and its refusals.

export type BudgetName = 'body_bytes' | 'subscriptions' | 'anonymous_subscriptions' | 'anonymous_connections';

export interface BudgetFigures {
  inUse: number;
  limit: number;
  refusals: number;
}

export async function budget(url: string, name: BudgetName): Promise<BudgetFigures> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (metric: string): number => {
    const match = new RegExp(`^${metric}\\{budget="${name}"\\} (\\d+)`, 'm').exec(text);
    if (match === null) throw new Error(`/metrics has no ${metric}{budget="${name}"}`);
    return Number(match[1]);
  };
  return { inUse: read('omni_budget_in_use'), limit: read('omni_budget_limit'), refusals: read('omni_budget_refusals_total') };
}

/**
 * Polls /metrics until the budget's figures pass `check`. What the server does when a client
 * goes away (aborted upload, closed socket) or sends more bytes tells that client nothing, so the
 * metric is the only signal.
 */
export async function untilBudget(url: string, name: BudgetName, check: (figures: BudgetFigures) => boolean, timeoutMs = 10_000): Promise<BudgetFigures> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const figures = await budget(url, name);
    if (check(figures)) return figures;
    if (Date.now() > deadline) throw new Error(`budget ${name} never got there: ${JSON.stringify(figures)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function untilInUse(url: string, name: BudgetName, inUse: number): Promise<BudgetFigures> {
  return untilBudget(url, name, (figures) => figures.inUse === inUse);
}
