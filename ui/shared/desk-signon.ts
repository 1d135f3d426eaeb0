// The desk's own sign-on: an agent token may send `agent.online` for itself (docs/protocol.md,
// section 2), declaring its topics and chat capacity; a roster system with an ingest token may
// do it instead, and then this form is simply not needed. What was declared is remembered in
// localStorage so the desk shows the agent's queues after a reload.

import type { OmniClient } from '../../client/mod.ts';
import { el, newId } from './page.ts';

export interface SignOn { topics: string[]; chat: number; languages: string[] }

export function signOnForm(client: OmniClient, agent: string, onSigned: (signOn: SignOn) => void): { root: HTMLElement; remembered?: SignOn } {
  const key = `omni.desk.${agent}.signon`;
  let remembered: SignOn | undefined;
  try {
    remembered = JSON.parse(localStorage.getItem(key) ?? 'null') ?? undefined;
  } catch {
    remembered = undefined;
  }
  const topics = el('input', { name: 'topics', value: remembered?.topics.join(', ') ?? 'general', 'data-testid': 'signon-topics' });
  const chat = el('input', { name: 'chat', type: 'number', min: '1', max: '20', value: String(remembered?.chat ?? 3), 'data-testid': 'signon-chat' });
  const languages = el('input', { name: 'languages', value: remembered?.languages.join(', ') ?? '', placeholder: 'en, de' });
  const result = el('span', { class: 'muted', role: 'status' });
  const form = el('form', { class: 'signon', 'aria-label': 'Sign on' },
    el('label', {}, 'Topics (comma separated)', topics),
    el('label', {}, 'Chats at once', chat),
    el('label', {}, 'Languages', languages),
    el('button', { type: 'submit', 'data-testid': 'signon' }, 'Sign on'),
    ' ', result);
  const words = (value: string) => value.split(',').map((w) => w.trim()).filter((w) => w !== '');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const signOn: SignOn = { topics: words(topics.value), chat: Math.max(1, Math.min(20, Number(chat.value) || 1)), languages: words(languages.value) };
    if (signOn.topics.length === 0) {
      result.textContent = 'Name at least one topic.';
      return;
    }
    const skills = Object.fromEntries(signOn.topics.map((topic) => [topic, 5]));
    const event_ = { id: newId('online'), type: 'agent.online', agent, skills, capacity: { chat: signOn.chat }, ...(signOn.languages.length > 0 ? { languages: signOn.languages } : {}) };
    client.send(event_).then(
      () => {
        localStorage.setItem(key, JSON.stringify(signOn));
        result.textContent = `Signed on for ${signOn.topics.join(', ')}.`;
        onSigned(signOn);
      },
      (error: Error) => (result.textContent = `Not signed on: ${error.message}`),
    );
  });
  return { root: el('section', { 'aria-label': 'Sign on' }, el('h2', {}, 'Sign on'), form), remembered };
}
