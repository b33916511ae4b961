/**
 * Clipboard both ways for the peer in control (docs/protocol.md, "Clipboard"): when the server says the
 * desktop copied something (`clipboard`), it is fetched from GET /clipboard and put in the browser's
 * clipboard with the async Clipboard API; when the page gets the focus back (the person may have copied
 * something elsewhere), the browser's clipboard is read and sent with PUT /clipboard if it changed. Where the
 * API is missing or refused (no permission, no secure context), or reading asks the person each time
 * (Firefox and Safari show a Paste menu), a small panel shows what the desktop copied, with a Copy button (a
 * click may write the clipboard), and takes a paste to send to the desktop.
 */
import type { StreamgateClient } from '../src/client/index.js';
import { refusalOf, sessionHeaders } from './session-headers.js';

export interface ClipboardPanelElements {
  button: HTMLButtonElement;
  panel: HTMLElement;
  text: HTMLTextAreaElement;
  image: HTMLImageElement;
  copy: HTMLButtonElement;
  send: HTMLButtonElement;
  status: HTMLElement;
}

type Content = { kind: 'text'; text: string } | { kind: 'image'; png: Blob };

/** Tells equal contents apart cheaply: a pasted-back copy of what just came from the desktop is not resent. */
async function keyOf(content: Content): Promise<string> {
  if (content.kind === 'text') return `t:${content.text}`;
  const bytes = new Uint8Array(await content.png.arrayBuffer());
  const digest = crypto.subtle ? new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)) : bytes.subarray(0, 64);
  return `i:${bytes.length}:${Array.from(digest, (b) => b.toString(16)).join('')}`;
}

/**
 * Whether the page may read the clipboard on its own, under Chromium's `clipboard-read` permission (granted,
 * or asked once). Browsers without that permission (Firefox, Safari) answer read() with a Paste menu at every
 * call: read on each return to the page, it would pop up each time. There the panel's paste is the way in.
 */
async function readsWithoutAsking(): Promise<boolean> {
  try {
    return (await navigator.permissions.query({ name: 'clipboard-read' as PermissionName })).state !== 'denied';
  } catch {
    return false;
  }
}

export interface ClipboardSync {
  /** Reads the browser's clipboard and sends it to the desktop when it changed (the focus handler). */
  toDesktop(): Promise<void>;
}

export function attachClipboard(client: StreamgateClient, ui: ClipboardPanelElements, token: string | null, inControl: () => boolean): ClipboardSync {
  /** The content both sides last agreed on. */
  let lastKey = '';
  let shown: Content | null = null;

  const say = (text: string, failed = false): void => {
    ui.status.textContent = text;
    ui.status.classList.toggle('bad', failed);
  };

  function show(content: Content): void {
    shown = content;
    ui.text.hidden = content.kind !== 'text';
    ui.image.hidden = content.kind !== 'image';
    if (content.kind === 'text') ui.text.value = content.text;
    else {
      if (ui.image.src.startsWith('blob:')) URL.revokeObjectURL(ui.image.src);
      ui.image.src = URL.createObjectURL(content.png);
    }
  }

  async function writeBrowser(content: Content): Promise<void> {
    if (content.kind === 'text') await navigator.clipboard.writeText(content.text);
    else await navigator.clipboard.write([new ClipboardItem({ 'image/png': content.png })]);
  }

  async function fromDesktop(): Promise<void> {
    const res = await fetch('/clipboard', { headers: sessionHeaders(client, token) });
    if (res.status === 204) return;
    if (!res.ok) return say(`Desktop clipboard: ${await refusalOf(res)}`, true);
    const type = res.headers.get('content-type') ?? '';
    const content: Content = type.startsWith('image/png') ? { kind: 'image', png: await res.blob() } : { kind: 'text', text: await res.text() };
    lastKey = await keyOf(content);
    show(content);
    try {
      await writeBrowser(content);
      say(`Copied from the desktop (${content.kind}).`);
    } catch {
      // No permission or no focus: the panel holds it, and its Copy button writes it on a click.
      ui.panel.hidden = false;
      say('The desktop copied this: press Copy to put it in your clipboard.');
    }
  }

  async function send(content: Content): Promise<void> {
    const key = await keyOf(content);
    if (key === lastKey) return;
    const res = await fetch('/clipboard', {
      method: 'PUT',
      headers: { ...sessionHeaders(client, token), 'content-type': content.kind === 'text' ? 'text/plain; charset=utf-8' : 'image/png' },
      body: content.kind === 'text' ? content.text : content.png,
    });
    if (!res.ok) return say(`Not sent to the desktop: ${await refusalOf(res)}`, true);
    lastKey = key;
    say(`Sent to the desktop (${content.kind}).`);
  }

  async function toDesktop(): Promise<void> {
    if (!inControl() || !navigator.clipboard?.read || !(await readsWithoutAsking())) return;
    let items: ClipboardItems;
    try {
      items = await navigator.clipboard.read();
    } catch {
      return; // not allowed here: the panel's paste does it
    }
    for (const item of items) {
      if (item.types.includes('image/png')) return send({ kind: 'image', png: await item.getType('image/png') });
      if (item.types.includes('text/plain')) return send({ kind: 'text', text: await (await item.getType('text/plain')).text() });
    }
  }

  client.on('clipboard', () => void fromDesktop().catch((err: unknown) => say(`Desktop clipboard: ${String(err)}`, true)));
  window.addEventListener('focus', () => void toDesktop());
  ui.button.addEventListener('click', () => {
    ui.panel.hidden = !ui.panel.hidden;
    ui.button.setAttribute('aria-pressed', String(!ui.panel.hidden));
  });
  ui.copy.addEventListener('click', () => {
    if (shown) writeBrowser(shown).then(() => say('Copied.'), (err: unknown) => say(`Not copied: ${String(err)}`, true));
  });
  ui.send.addEventListener('click', () => void send({ kind: 'text', text: ui.text.value }));
  // A paste into the panel (Ctrl+V there) carries the clipboard without any permission, images too.
  ui.panel.addEventListener('paste', (e) => {
    const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type === 'image/png');
    const text = e.clipboardData?.getData('text/plain');
    const content: Content | null = file ? { kind: 'image', png: file } : text ? { kind: 'text', text } : null;
    if (!content) return;
    e.preventDefault();
    show(content);
    void send(content);
  });
  return { toDesktop };
}
