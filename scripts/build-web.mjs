// Bundles the web viewer (web/) into dist/web with esbuild. Replaced by the viewer's real build.
import { cp, mkdir } from 'node:fs/promises';
await mkdir('dist/web', { recursive: true });
await cp('web', 'dist/web', { recursive: true });
