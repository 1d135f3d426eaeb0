// Checks made before a run writes anything: whether what was asked can be done at all (with the
// figures that say why not), and which of the flags given on the command line the scenario
// never reads, so the run can say they were ignored — and only those.

import { UsageError } from '../flags/mod.ts';
import { DEFAULT_HANDLE_MS, DEFAULT_THINK_MS, DEFAULT_CHAT_MESSAGES, type LoadgenOptions } from './options.ts';
import { DESK_FLAGS, type EventSource } from './scenarios/source.ts';
import { MAX_DESKS } from './types.ts';

type Checked = Pick<LoadgenOptions, 'rate' | 'durationS' | 'thinkMs' | 'handleMs' | 'desks' | 'given' | 'subscribers' | 'chatMessages' | 'firstContact'>;

const f = (x: number) => (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toLocaleString('en-US', { maximumFractionDigits: 1 }));

/**
 * Throws a UsageError (exit 2) naming the figures when the run asked for cannot happen. With first
 * contact, desks too few for the rate are the point (the bot answers the rest): the figures come
 * back as a warning instead.
 */
export function checkFeasible(source: EventSource, o: Checked): string | undefined {
  if (Math.floor(o.rate * o.durationS) < 1) {
    throw new UsageError(`--rate ${f(o.rate)} events/s for --duration ${f(o.durationS)} s schedules no event (rate × duration = ${f(o.rate * o.durationS)}); raise one of them`);
  }
  const short = source.desks === undefined ? undefined : deskShortfall(source.desks.agents.length, source.desks.chats, o);
  if (short === undefined) return undefined;
  if (source.firstContact === undefined) throw new UsageError(short);
  return `${short} — with --first-contact the run goes on: the requests the desks cannot take wait for a person while the bot answers what it can`;
}

/**
 * Little's law: each request holds one chat of a desk from its offer to its completion (think,
 * then handle time), so `rate` requests/s keep rate × (think + handle) chats busy on average.
 * More than the desks hold and the queue grows for the whole run: the run would measure a
 * backlog, not the server.
 */
function deskShortfall(desks: number, chats: number, o: Checked): string | undefined {
  const think = o.thinkMs ?? DEFAULT_THINK_MS;
  const handle = o.handleMs ?? DEFAULT_HANDLE_MS;
  const holdMs = think + handle;
  const busy = (o.rate * holdMs) / 1000;
  if (busy <= chats) return undefined;
  const perDesk = chats / desks;
  const maxRate = Math.floor(((chats * 1000) / holdMs) * 10) / 10;
  const needDesks = Math.ceil(busy / perDesk);
  const chat = (o.chatMessages ?? DEFAULT_CHAT_MESSAGES) > 0 ? ', plus the chat\'s round trips' : '';
  const raise = needDesks <= MAX_DESKS ? `raise --desks to ${f(needDesks)} or more` : `more than ${MAX_DESKS} desks would be needed (${f(needDesks)})`;
  return (
    `--rate ${f(o.rate)} requests/s cannot be served by ${f(desks)} desks: each request holds a chat from its offer to its completion, ` +
    `--think-ms ${f(think)} + --handle-ms ${f(handle)} = ${f(holdMs)} ms on average${chat}, so ${f(o.rate)}/s keep ${f(busy)} chats busy at once, ` +
    `and the ${f(desks)} desks hold ${f(chats)} (${f(Math.round(perDesk * 10) / 10)} each on average): at most ${f(maxRate)} requests/s. ` +
    `Lower --rate to ${f(maxRate)} or less, ${raise}, or shorten --think-ms / --handle-ms`
  );
}

/** One message per flag given on the command line that this run does not read, with the reason. */
export function ignoredFlags(source: EventSource, o: Checked): string[] {
  const given = new Set(o.given ?? []);
  const out: string[] = [];
  const ignore = (flag: string, why: string) => {
    if (given.has(flag)) out.push(`--${flag} is ignored: ${why}`);
  };
  const service = source.desks !== undefined;
  for (const flag of source.unusedFlags) {
    if ((DESK_FLAGS as readonly string[]).includes(flag)) ignore(flag, `only --scenario service has agent desks (this is scenario ${source.name})`);
    else if (flag === 'skus') ignore(flag, service ? 'the service scenario names no SKUs' : 'the scenario file sets its own "skus"');
    else ignore(flag, `scenario ${source.name} has no stock subscribers: its clients are the agent desks (--desks)`);
  }
  const firstContact = source.firstContact !== undefined;
  if (service && !firstContact && (o.chatMessages ?? DEFAULT_CHAT_MESSAGES) === 0) ignore('chat-customers', 'with --chat-messages 0 no customer connects');
  if (!service) ignore('first-contact', `only --scenario service has customers making first contact (this is scenario ${source.name})`);
  if (!firstContact) ignore('kb-share', service ? 'without --first-contact no request carries first words' : `only --scenario service --first-contact has first words (this is scenario ${source.name})`);
  if (!service && o.subscribers === 0) {
    for (const flag of ['topics-per-subscriber', 'subscriber-workers']) ignore(flag, 'there are no subscribers (--subscribers 0)');
  }
  if (given.has('secret')) ignore('data', '--secret is used instead of the data dir\'s secret');
  else if (given.has('token')) ignore('data', 'with --token no secret is read from the data dir (pass --secret to mint kiosk, member and agent tokens)');
  return out;
}
