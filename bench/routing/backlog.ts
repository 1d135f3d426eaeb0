// Part 3 of `omni bench routing`: what one service request costs in CPU when there are too few
// agents and the queues grow by thousands. The real engine (openEngine, the chosen durability,
// every `queue/<topic>` rendered) with a few agents of the routing workload takes its requests
// in rounds submitted together; after each round the bench accepts every offer heard so far and
// completes every request assigned in the round before, so the desks take a few dozen a round
// and the rest queue. With `bot: 'overflow'` the fixture's knowledge base is stored and every
// request is a chat whose text is a labelled customer question, so the bot's prediction and
// answer are in the cost. The figure is process CPU time (process.cpuUsage) per request over
// the measured rounds: on a shared host it moves far less than requests/s.

import { defaultProcessors, openEngine, type Durability, type InputEvent, type Output } from '../../engine/mod.ts';
import { countErrors } from '../../loadgen/mod.ts';
import { fixtureEntries, fixtureQuestions } from '../micro/kb-entries.ts';
import { freshDir, removeDir } from '../shared/server-process.ts';
import { offersIn, RoutingWorkload } from './workload.ts';

/** The bot modes compared: off, and overflow (answers a request whose predicted wait is over target). */
export type BacklogBot = 'off' | 'overflow';

export interface BacklogOptions {
  agents: number;
  topics: number;
  /** Requests submitted together in each round. */
  roundSize: number;
  rounds: number;
  warmupRounds: number;
  bot: BacklogBot;
  durability: Durability;
}

export interface BacklogResult {
  bot: BacklogBot;
  /** Requests submitted in the measured rounds. */
  requests: number;
  cpuUsPerRequest: number;
  /** Measured requests ÷ the measured rounds' wall time. */
  requestsPerS: number;
  /** Requests taken by an agent and completed, over all rounds. */
  completed: number;
  /** Requests not yet assigned to an agent at the end (in overflow the bot's answer leaves them queued). */
  queuedAtEnd: number;
  /** Messages from the bot heard on `request/<id>` (answers and "don't know"s), over all rounds. */
  botMessages: number;
  rejected: Record<string, number>;
}

export async function runBacklog(o: BacklogOptions, runNo = 0): Promise<BacklogResult> {
  const dir = freshDir('routing-backlog');
  const engine = await openEngine({ path: dir, processors: defaultProcessors({ service: { bot: o.bot } }), durability: o.durability });
  engine.setInterest((topic) => topic.startsWith('queue/'));
  const wl = new RoutingWorkload({ agents: o.agents, topics: o.topics, freeShare: 0, seed: 17 + runNo, prefix: `b${runNo}-` });
  const rejected = new Map<string, number>();
  const questions = fixtureQuestions();
  let asked = 0;
  const request = (): InputEvent => {
    const ev = wl.request();
    if (o.bot === 'off') return ev;
    return { ...ev, channel: 'chat', text: questions[asked++ % questions.length].question };
  };
  const submit = async (events: InputEvent[]) => {
    if (events.length === 0) return;
    countErrors(await engine.submit(events), rejected);
    // Derived events (the bot's, the queue pulls') settle before the desks act on the outputs.
    await engine.idle();
  };
  try {
    await submit([...wl.agentEvents(), ...wl.profileEvents()]);
    if (o.bot !== 'off') await submit(fixtureEntries().map((entry, i) => ({ ...entry, id: `${wl.o.prefix}faq-${i}`, type: 'faq.upserted' })));
    if (rejected.size > 0) throw new Error(`routing backlog setup rejected: ${JSON.stringify(Object.fromEntries(rejected))}`);

    let offers: Array<{ agent: string; request: string }> = [];
    let assignedThisRound: string[] = [];
    let botMessages = 0;
    const stopOutputs = engine.onOutput((outputs: Output[]) => {
      offers.push(...offersIn(outputs));
      for (const out of outputs) {
        const d = out.data as { type?: string; request?: string } | undefined;
        if (out.topic.startsWith('agent/') && d?.type === 'assigned') assignedThisRound.push(d.request!);
        if (out.topic.startsWith('request/') && (out.data as { from?: string } | undefined)?.from === 'bot') botMessages++;
      }
    });

    let completed = 0;
    let assignedBefore: string[] = [];
    let cpuFrom: NodeJS.CpuUsage | undefined;
    let wallFrom = 0;
    for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
      if (round === o.warmupRounds) {
        cpuFrom = process.cpuUsage();
        wallFrom = performance.now();
      }
      await submit(Array.from({ length: o.roundSize }, request));
      const accepting = offers;
      offers = [];
      await submit(accepting.map((offer) => wl.event('service.accepted', offer)));
      const completing = assignedBefore;
      assignedBefore = assignedThisRound;
      assignedThisRound = [];
      await submit(completing.map((id) => wl.event('service.completed', { request: id })));
      completed += completing.length;
    }
    const cpu = process.cpuUsage(cpuFrom);
    const wallS = (performance.now() - wallFrom) / 1000;
    stopOutputs();
    const requests = o.rounds * o.roundSize;
    const submitted = (o.warmupRounds + o.rounds) * o.roundSize;
    return {
      bot: o.bot,
      requests,
      cpuUsPerRequest: requests === 0 ? 0 : (cpu.user + cpu.system) / requests,
      requestsPerS: wallS === 0 ? 0 : requests / wallS,
      completed,
      queuedAtEnd: submitted - completed - assignedBefore.length,
      botMessages,
      rejected: Object.fromEntries(rejected),
    };
  } finally {
    await engine.close();
    removeDir(dir);
  }
}
