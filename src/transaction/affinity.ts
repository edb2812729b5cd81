// Which simulated core (and so which NUMA socket) a new session is bound to, per MOT's affinity_mode.
// The machine has `sockets` x `coresPerSocket` cores; with more sessions than cores, cores are shared.

import type { AffinityMode } from '../config/config.js';

export interface CoreChoice {
  core: number;
  socket: number;
}

/**
 * The core for the n-th session (n counts from 0 over the engine's life).
 * - fill-physical-first / fill-socket-first: fill every core of socket 0, then socket 1, ...
 *   (no hyper-threads are simulated, so the two coincide);
 * - equal-per-socket: round-robin over sockets;
 * - none: not pinned; the socket is wherever the operating system put the thread (drawn at random);
 * - enable_numa = false: everything on node 0.
 */
export function chooseCore(
  n: number,
  shape: { sockets: number; coresPerSocket: number; affinityMode: AffinityMode; enableNuma: boolean },
  random: () => number,
): CoreChoice {
  const cores = shape.sockets * shape.coresPerSocket;
  if (!shape.enableNuma) {
    const core = n % cores;
    return { core, socket: 0 };
  }
  switch (shape.affinityMode) {
    case 'equal-per-socket': {
      const socket = n % shape.sockets;
      const slot = Math.floor(n / shape.sockets) % shape.coresPerSocket;
      return { core: socket * shape.coresPerSocket + slot, socket };
    }
    case 'none': {
      const core = Math.floor(random() * cores);
      return { core, socket: Math.floor(core / shape.coresPerSocket) };
    }
    case 'fill-physical-first':
    case 'fill-socket-first':
    default: {
      const core = n % cores;
      return { core, socket: Math.floor(core / shape.coresPerSocket) };
    }
  }
}
