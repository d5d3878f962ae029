/**
 * A cross-process lock on one machine: a lock file created with O_CREAT|O_EXCL (`wx`), holding its owner's pid, a
 * random owner id and the time it was taken. A lock whose owner process is gone, or that is older than its TTL, is
 * stale and taken over; only the owner removes its lock (the file is read back and compared first).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';

interface LockRecord {
  pid: number;
  owner: string;
  takenAt: number;
}

function parse(text: string): LockRecord | undefined {
  const [pid, owner, takenAt] = text.trim().split(' ');
  const record = { pid: Number(pid), owner: owner ?? '', takenAt: Number(takenAt) };
  return Number.isInteger(record.pid) && record.owner && Number.isFinite(record.takenAt) ? record : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock at `path`: its releaser when taken, `null` when another live owner holds it. */
export async function takeFileLock(path: string, ttlMs: number): Promise<(() => Promise<void>) | null> {
  const owner = randomBytes(12).toString('base64url');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid} ${owner} ${Date.now()}\n`);
      } finally {
        await handle.close();
      }
      return async () => {
        const now = await readFile(path, 'utf8').catch(() => '');
        if (parse(now)?.owner === owner) await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // released meanwhile: try again
    const held = parse(text);
    // A torn or foreign file, a dead owner or an expired lock: stale. Empty files are a lock being written.
    const stale = text.length > 0 && (!held || !alive(held.pid) || Date.now() - held.takenAt > ttlMs);
    if (!stale) return null;
    // Move it aside under a unique name and check it was the stale one (not a lock someone just took).
    const aside = `${path}.${owner}.stale`;
    try {
      await rename(path, aside);
    } catch {
      continue;
    }
    const moved = await readFile(aside, 'utf8').catch(() => '');
    await unlink(aside).catch(() => undefined);
    if (moved !== text) return null; // we moved a fresh lock away: its owner still believes it holds it, so yield
  }
  return null;
}
