/**
 * The viewer's file panel: uploads (a button, or files dropped anywhere on the page) into the server's
 * upload folder and downloads from its download folder, over /files/ with this session's credentials
 * (docs/protocol.md, "Extensions"). Upload progress comes from XMLHttpRequest, which reports it; fetch does not.
 */
import type { StreamgateClient } from '../src/client/index.js';
import { refusalOf, sessionHeaders } from './session-headers.js';

interface FileEntry {
  name: string;
  size: number;
}

interface FilesInfo {
  upload: boolean;
  download: boolean;
  max_upload_size: number;
}

export interface FilePanelElements {
  button: HTMLButtonElement;
  panel: HTMLElement;
  picker: HTMLInputElement;
  uploadButton: HTMLButtonElement;
  progress: HTMLProgressElement;
  status: HTMLElement;
  list: HTMLUListElement;
  dropTarget: HTMLElement;
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${bytes} B`;
}

/** Wires the panel to `client`; `token` is the page's own auth token (null when auth is off). */
export function attachFilePanel(client: StreamgateClient, ui: FilePanelElements, token: string | null): void {
  let info: FilesInfo | null = null;

  const headers = (): Record<string, string> => sessionHeaders(client, token);
  const say = (text: string, failed = false): void => {
    ui.status.textContent = text;
    ui.status.classList.toggle('bad', failed);
  };
  async function refreshList(): Promise<void> {
    if (!info?.download) return;
    const res = await fetch('/files/download', { headers: headers() });
    if (!res.ok) return say(await refusalOf(res), true);
    const { files } = (await res.json()) as { files: FileEntry[] };
    ui.list.replaceChildren(
      ...files.map((f) => {
        const item = document.createElement('li');
        const link = document.createElement('button');
        link.type = 'button';
        link.className = 'file-link';
        link.textContent = f.name;
        link.title = `Download ${f.name} (${formatSize(f.size)})`;
        link.addEventListener('click', () => void download(f.name));
        const size = document.createElement('span');
        size.textContent = formatSize(f.size);
        item.append(link, size);
        return item;
      }),
    );
    if (files.length === 0) ui.list.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'No files to download.' }));
  }

  async function download(name: string): Promise<void> {
    say(`Downloading ${name}…`);
    const res = await fetch(`/files/download/${encodeURIComponent(name)}`, { headers: headers() });
    if (!res.ok) return say(`${name}: ${await refusalOf(res)}`, true);
    const url = URL.createObjectURL(await res.blob());
    const a = Object.assign(document.createElement('a'), { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(`Downloaded ${name}.`);
  }

  function uploadOne(file: File): Promise<boolean> {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', `/files/upload/${encodeURIComponent(file.name)}`);
      for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
      ui.progress.hidden = false;
      ui.progress.value = 0;
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) ui.progress.value = e.loaded / e.total;
        say(`Uploading ${file.name}: ${formatSize(e.loaded)} of ${formatSize(file.size)}`);
      });
      xhr.addEventListener('loadend', () => {
        ui.progress.hidden = true;
        if (xhr.status === 201) {
          say(`Uploaded ${file.name}.`);
          resolve(true);
          return;
        }
        let message = xhr.status === 0 ? 'the connection failed' : `HTTP ${xhr.status}`;
        try {
          message = (JSON.parse(xhr.responseText) as { message?: string }).message ?? message;
        } catch {
          /* not JSON: keep the status */
        }
        say(`${file.name}: ${message}`, true);
        resolve(false);
      });
      xhr.send(file);
    });
  }

  async function upload(files: Iterable<File>): Promise<void> {
    if (!info?.upload) return say('This server takes no uploads (no --upload-dir).', true);
    for (const file of files) {
      if (file.size > info.max_upload_size) {
        say(`${file.name} is ${formatSize(file.size)}; the server takes at most ${formatSize(info.max_upload_size)}.`, true);
        continue;
      }
      await uploadOne(file);
    }
    await refreshList();
  }

  async function probe(): Promise<void> {
    const res = await fetch('/files/', { headers: headers() }).catch(() => null);
    info = res?.ok ? ((await res.json()) as FilesInfo) : null;
    ui.button.hidden = !(info?.upload || info?.download);
    ui.uploadButton.hidden = !info?.upload;
    ui.list.hidden = !info?.download;
    if (!ui.panel.hidden) await refreshList();
  }

  client.on('welcome', () => void probe());
  ui.button.addEventListener('click', () => {
    ui.panel.hidden = !ui.panel.hidden;
    ui.button.setAttribute('aria-pressed', String(!ui.panel.hidden));
    if (!ui.panel.hidden) void refreshList();
  });
  ui.uploadButton.addEventListener('click', () => ui.picker.click());
  ui.picker.addEventListener('change', () => {
    void upload(ui.picker.files ?? []);
    ui.picker.value = '';
  });
  ui.dropTarget.addEventListener('dragover', (e) => {
    if (!info?.upload || !e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  ui.dropTarget.addEventListener('drop', (e) => {
    if (!info?.upload || !e.dataTransfer?.files.length) return;
    e.preventDefault();
    ui.panel.hidden = false;
    void upload(e.dataTransfer.files);
  });
}
