// Claims on names (and other keys) held by a change across its awaits (a WAL write, a catalog file
// write). Every DDL and catalog change that checks "this name is free" (or "this object exists") and
// then awaits before acting makes the check and the claim in one synchronous step, and releases the
// claim when it ends, however it ends: so two such changes can never both pass the check.
//
// An exclusive claim (a create or a drop of the name) excludes every other claim on the key; shared
// claims (a CREATE TABLE inside a database, a restore writing into it) exclude only an exclusive one.
// Nothing waits: a refused claim is answered at once with the caller's error, as if the change that
// holds the claim had already happened (a second CREATE gets "already exists", a second DROP "does
// not exist"), or, when no serial order explains the refusal, with object_in_use (55006).

/** Gives a claim back; calling it again does nothing. */
export type Release = () => void;

export class Reservations {
  private readonly exclusive = new Set<string>();
  private readonly shared = new Map<string, number>();

  /** Claim `key` alone; undefined when any claim holds it. */
  tryExclusive(key: string): Release | undefined {
    if (this.exclusive.has(key) || this.shared.has(key)) return undefined;
    this.exclusive.add(key);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.exclusive.delete(key);
    };
  }

  /** Claim `key` beside other shared claims; undefined when an exclusive claim holds it. */
  tryShared(key: string): Release | undefined {
    if (this.exclusive.has(key)) return undefined;
    this.shared.set(key, (this.shared.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = this.shared.get(key)! - 1;
      if (n === 0) this.shared.delete(key);
      else this.shared.set(key, n);
    };
  }

  /** Whether an exclusive claim (a create or drop in flight) holds `key`. */
  isExclusive(key: string): boolean {
    return this.exclusive.has(key);
  }

  /** Keys claimed exclusively whose name starts with `prefix` (creates in flight of one kind). */
  countExclusive(prefix: string): number {
    let n = 0;
    for (const k of this.exclusive) if (k.startsWith(prefix)) n++;
    return n;
  }
}

/** Run `body` holding a claim; the claim is released when it settles, however it settles. */
export async function holding<T>(release: Release, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } finally {
    release();
  }
}
