/**
 * Opens a URL in the user's browser where there is one (`$BROWSER`, `open` on macOS, `start` on Windows,
 * `xdg-open` elsewhere), and says so; on a machine without one (a server, a container, CI) it opens nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { platform } from 'node:os';
import { delimiter, join } from 'node:path';
import type { CliIo } from './io.ts';

function onPath(command: string, env: CliIo['env']): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/**
 * The command that opens a URL here, or undefined when there is no browser to open.
 *
 * @see https://specifications.freedesktop.org/desktop-entry-spec/latest/
 */
export function browserCommand(env: CliIo['env']): { command: string; args: string[] } | undefined {
  const configured = env.BROWSER?.trim();
  if (configured) return { command: configured, args: [] };
  if (platform() === 'darwin') return { command: 'open', args: [] };
  if (platform() === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] };
  // Without a display there is no browser to show a page, whatever is installed.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  const xdg = onPath('xdg-open', env);
  return xdg ? { command: xdg, args: [] } : undefined;
}

/**
 * Opens `url` in a browser if there is one; resolves whether one was started. Never throws.
 *
 * @see https://specifications.freedesktop.org/desktop-entry-spec/latest/
 */
export function openBrowser(url: string, io: Pick<CliIo, 'env' | 'cwd'>): Promise<boolean> {
  const how = browserCommand(io.env);
  if (!how) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      const child = spawn(how.command, [...how.args, url], {
        cwd: io.cwd,
        env: io.env,
        detached: true,
        stdio: 'ignore',
      });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
