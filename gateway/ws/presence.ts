// Desk presence: the gateway knows when an agent's desks (its WebSocket connections) come and
// go, and tells the service domain with `agent.connected` when the first one opens and
// `agent.disconnected` when the last one closes. The domain runs the grace on a durable timer
// and takes the agent offline when it ends, so a desk that drops for a moment loses nothing.
// Agent tokens may not send these events themselves (auth/roles.ts refuses them).

import { randomUUID } from 'node:crypto';
import { EngineClosedError, type EventResult } from '../../engine/mod.ts';
import type { Principal } from '../auth/principal.ts';

type PresenceEvent = 'agent.connected' | 'agent.disconnected';

export class DeskPresence {
  /** Open desk connections per agent; an agent without one is not in the map. */
  readonly #desks = new Map<string, number>();
  /**
   * Event ids are deduplicated for 24 h across restarts: a random prefix per gateway and a
   * counter keep every presence event distinct from all earlier ones, so none is swallowed.
   */
  readonly #idPrefix = `presence:${randomUUID()}:`;
  #next = 0;

  constructor(
    private readonly submit: (events: unknown[]) => Promise<EventResult[]>,
    /** While shutting down no disconnect is sent: the next start gives every online agent its grace. */
    private readonly isDraining: () => boolean,
  ) {}

  opened(principal: Principal): void {
    if (principal.role !== 'agent') return;
    const desks = (this.#desks.get(principal.sub) ?? 0) + 1;
    this.#desks.set(principal.sub, desks);
    if (desks === 1) this.#send('agent.connected', principal.sub);
  }

  closed(principal: Principal): void {
    if (principal.role !== 'agent') return;
    const desks = (this.#desks.get(principal.sub) ?? 0) - 1;
    if (desks > 0) {
      this.#desks.set(principal.sub, desks);
      return;
    }
    this.#desks.delete(principal.sub);
    if (!this.isDraining()) this.#send('agent.disconnected', principal.sub);
  }

  /**
   * At start no desk is connected, yet agents may be online from before (a crash left them so):
   * each gets its grace, and those whose desks come back in time stay online.
   */
  startGrace(agents: readonly string[]): void {
    for (const agent of agents) if (!this.#desks.has(agent)) this.#send('agent.disconnected', agent);
  }

  #send(type: PresenceEvent, agent: string): void {
    const event = { id: `${this.#idPrefix}${++this.#next}`, type, agent };
    let pending: Promise<EventResult[]>;
    try {
      pending = this.submit([event]);
    } catch (err) {
      pending = Promise.reject(err);
    }
    // A rejection (`not_found`: a desk of an agent that never came online) needs no answer.
    pending.catch((err: unknown) => {
      if (!(err instanceof EngineClosedError)) console.error(`omni: ${type} for agent ${agent} failed:`, err);
    });
  }
}
