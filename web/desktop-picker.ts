/**
 * The desktop picker: lists the desktops these credentials may open (`GET /api/desktops`, the whole
 * cluster's) and opens the chosen one as `?desktop=NAME`. Stays hidden while there is only one to open.
 */
export async function showDesktopPicker(select: HTMLSelectElement, current: string | null, token: string | null): Promise<void> {
  const res = await fetch('/api/desktops', { headers: token ? { authorization: `Bearer ${token}` } : {} }).catch(() => null);
  if (!res?.ok) return;
  const body: unknown = await res.json().catch(() => null);
  const names = Array.isArray(body) ? body.flatMap((d: unknown) => (typeof d === 'object' && d !== null && typeof (d as { name?: unknown }).name === 'string' ? [(d as { name: string }).name] : [])) : [];
  if (names.length < 2) return;
  for (const name of names) select.append(new Option(name, name));
  // Plain /ws opens the node's first desktop, which the list names first.
  select.value = current ?? names[0]!;
  select.addEventListener('change', () => {
    const params = new URLSearchParams(location.search);
    params.set('desktop', select.value);
    location.search = params.toString();
  });
  (select.closest('label') ?? select).hidden = false;
}
