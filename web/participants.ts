/**
 * Who is watching and who holds control (docs/protocol.md, "Sharing"), in the stats overlay: a line saying
 * who has control and what this viewer may do about it (ask for it, or give it away), each peer with its
 * state, a "Give control" button beside the others while this viewer is in control, a request from another
 * peer to answer, and (with auth on) a view-only link to share.
 */
import type { ParticipantsMessage, StreamgateClient } from '../src/client/index.js';

export interface ParticipantsElements {
  list: HTMLUListElement;
  request: HTMLElement;
  share: HTMLButtonElement;
  link: HTMLInputElement;
}

type Participant = ParticipantsMessage['data']['participants'][number];

const ASK_AGAIN_MS = 5000;

export function attachParticipants(client: StreamgateClient, ui: ParticipantsElements, hasToken: boolean): void {
  let participants: Participant[] = [];
  let mine = false;
  // The control line (who has it, and an "Ask for control" button when this viewer may ask) heads the list it sums up.
  const controlLine = Object.assign(document.createElement('p'), { id: 'control-state', className: 'control-state' });
  ui.list.before(controlLine);

  // Asking is pointless on a source without input, or when the server takes input from nobody (`--input none`).
  let refusedByServer = false;
  const noInput = (): boolean => refusedByServer || client.sessionConfig?.source === 'test';
  client.on('error', (e) => {
    if (e.code !== 'FORBIDDEN' || e.details !== 'controller=nobody') return;
    refusedByServer = true;
    render();
  });

  const label = (p: Participant): string => (p.peer_id === undefined ? p.session_id.slice(0, 8) : String(p.peer_id));
  const giveTo = (sessionId: string): void => void client.send('hand-over-control', { session_id: sessionId });

  /** Said in words as well as by the list's highlight, so that the overlay reads at a glance. */
  function renderControl(me: Participant | undefined): void {
    const controllers = participants.filter((p) => p.in_control);
    const controller = controllers[0];
    let text: string;
    if (controllers.length > 1) text = 'Everyone may control';
    else if (mine) text = participants.some((p) => p !== me && p.role === 'control') ? 'You have control: give it below' : 'You have control';
    else if (me?.role === 'view') text = `View only${controller ? `: ${label(controller)} has control` : ''}`;
    else text = controller ? `${label(controller)} has control` : 'Nobody has control';
    const parts: Node[] = [Object.assign(document.createElement('span'), { textContent: text })];
    // Asking is what the bar's "Take control" does; here it sits beside who would have to give it.
    if (!mine && me?.role === 'control' && !noInput()) {
      const ask = Object.assign(document.createElement('button'), { type: 'button', className: 'ask', textContent: controller ? 'Ask for control' : 'Take control' });
      const idle = ask.textContent;
      ask.addEventListener('click', () => {
        client.requestControl();
        ask.disabled = true;
        ask.textContent = controller ? 'Asked' : 'Taking…';
        // The controller may ignore the request: after a while the button asks again.
        setTimeout(() => Object.assign(ask, { disabled: false, textContent: idle }), ASK_AGAIN_MS);
      });
      parts.push(ask);
    }
    controlLine.replaceChildren(...parts);
    controlLine.classList.toggle('mine', mine);
  }

  function render(): void {
    const me = client.session?.session_id;
    mine = participants.some((p) => p.session_id === me && p.in_control);
    // Under `--input all` everyone controls and nobody hands over (docs/protocol.md, "Input control").
    const everyone = participants.filter((p) => p.in_control).length > 1;
    renderControl(participants.find((p) => p.session_id === me));
    ui.list.replaceChildren(
      ...participants.map((p) => {
        const item = document.createElement('li');
        item.dataset.sessionId = p.session_id;
        item.classList.toggle('in-control', p.in_control);
        const name = document.createElement('span');
        name.textContent = `${label(p)}${p.session_id === me ? ' (you)' : ''}`;
        const state = document.createElement('span');
        state.className = 'state';
        state.textContent = p.in_control ? 'in control' : p.role === 'view' ? 'view only' : 'watching';
        item.append(name, state);
        if (mine && !everyone && p.session_id !== me && p.role === 'control') {
          const give = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Give control', className: 'give' });
          give.addEventListener('click', () => giveTo(p.session_id));
          item.append(give);
        }
        return item;
      }),
    );
    ui.share.hidden = !(mine && hasToken);
    if (!mine) ui.request.hidden = true;
  }

  client.on('participants', (m) => {
    participants = m.data.participants;
    render();
  });
  client.on('control-requested', (m) => {
    const who = participants.find((p) => p.session_id === m.data.session_id);
    ui.request.replaceChildren(
      Object.assign(document.createElement('span'), { textContent: `${who ? label(who) : m.data.session_id.slice(0, 8)} asks for control ` }),
      Object.assign(document.createElement('button'), { type: 'button', textContent: 'Hand over', onclick: () => giveTo(m.data.session_id) }),
    );
    ui.request.hidden = false;
  });
  ui.share.addEventListener('click', () => void client.send('create-share-link', {}));
  client.on('share-link', (m) => {
    ui.link.value = new URL(m.data.path, location.href).href;
    ui.link.hidden = false;
    ui.link.select();
  });
}
