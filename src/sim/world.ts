// A simulated world from a seed and a machine description: scheduler, virtual clock, simulated disk and
// seeded randomness, plus the EngineOptions that open the unchanged Engine in it. Invariants: one seed
// gives the same world; a crash discards the engine instance; a restart gets a fresh scheduler.

import type { Engine, EngineOptions } from '../engine.js';
import type { ConfigInput } from '../config/config.js';
import type { CommitObserver } from '../commit-group/redo-log-handler.js';
import { SeededRandom, type Random } from '../io/random.js';
import { Errors } from '../errors.js';
import { Scheduler, type RunOptions } from './scheduler.js';
import { VirtualClock } from './virtual-clock.js';
import { SimDisk, type CrashReport, type DurableImage } from './sim-disk.js';
import type { LatencySpec } from './latency.js';
import type { CrashModel, FaultSpec } from './faults.js';

/** The simulated machine: its shape, its disk and what the disk does wrong. */
export interface MachineSpec {
  /** NUMA sockets (default 2). */
  sockets?: number;
  /** Cores per socket (default 2). */
  coresPerSocket?: number;
  /** Disk latency: a preset ('nvme', 'sata-ssd', 'hdd', 'this-machine', 'instant') or a custom model (default 'nvme'). */
  disk?: LatencySpec;
  /** Faults the disk injects (default none). */
  faults?: FaultSpec;
  /** What a crash does to unflushed writes (default 'lose-unflushed'). */
  crashModel?: CrashModel;
}

export interface ResolvedMachine {
  sockets: number;
  coresPerSocket: number;
  disk: LatencySpec;
  faults: FaultSpec;
  crashModel: CrashModel;
}

export interface WorldOptions {
  seed: number;
  machine?: MachineSpec;
  /** The engine's data directory on the simulated disk (default '/db'). */
  dir?: string;
}

/** Where the data directory lives unless told otherwise. */
export const SIM_DATA_DIR_DEFAULT = '/db';

export function resolveMachine(machine: MachineSpec = {}): ResolvedMachine {
  const sockets = machine.sockets ?? 2;
  const coresPerSocket = machine.coresPerSocket ?? 2;
  if (!(Number.isInteger(sockets) && sockets >= 1 && sockets <= 64)) throw Errors.invalidConfig('machine.sockets', `must be an integer from 1 to 64, got ${sockets}`);
  if (!(Number.isInteger(coresPerSocket) && coresPerSocket >= 1 && coresPerSocket <= 1024)) {
    throw Errors.invalidConfig('machine.coresPerSocket', `must be an integer from 1 to 1024, got ${coresPerSocket}`);
  }
  return { sockets, coresPerSocket, disk: machine.disk ?? 'nvme', faults: machine.faults ?? {}, crashModel: machine.crashModel ?? 'lose-unflushed' };
}

/**
 * One incarnation of the simulated machine (between two crashes). `restart()` makes the next one
 * from this disk's durable image; the Engine opened in this one must not be used after `crash()`.
 */
export class SimWorld {
  readonly scheduler: Scheduler;
  readonly clock: VirtualClock;
  readonly disk: SimDisk;
  /** Randomness for the workload (the disk and the engine have their own forks). */
  readonly random: Random;
  private readonly engineRandom: Random;
  private readonly root: Random;

  private constructor(
    readonly seed: number,
    readonly machine: ResolvedMachine,
    readonly dir: string,
    /** 0 for the first incarnation, +1 per restart. */
    readonly epoch: number,
    root: Random,
    startUs: number,
    image: DurableImage | undefined,
    faults: FaultSpec,
  ) {
    this.root = root;
    this.scheduler = new Scheduler({ startUs });
    this.clock = new VirtualClock(this.scheduler);
    const diskOptions = { scheduler: this.scheduler, random: root.fork(), latency: machine.disk, faults, crashModel: machine.crashModel };
    this.disk = image === undefined ? new SimDisk(diskOptions) : SimDisk.fromSnapshot(image, diskOptions);
    this.engineRandom = root.fork();
    this.random = root.fork();
  }

  static create(options: WorldOptions): SimWorld {
    const machine = resolveMachine(options.machine);
    return new SimWorld(options.seed, machine, options.dir ?? SIM_DATA_DIR_DEFAULT, 0, new SeededRandom(options.seed), 0, undefined, machine.faults);
  }

  /** A world whose disk starts as `image` (e.g. a prepared data directory), as a restart would. */
  static fromImage(options: WorldOptions, image: DurableImage): SimWorld {
    const machine = resolveMachine(options.machine);
    return new SimWorld(options.seed, machine, options.dir ?? SIM_DATA_DIR_DEFAULT, 0, new SeededRandom(options.seed), 0, image, machine.faults);
  }

  /** Engine options for this world: its disk, clock and random; the machine's shape in the config. */
  engineOptions(extra: { config?: ConfigInput; observer?: CommitObserver } = {}): EngineOptions {
    return {
      disk: this.disk,
      clock: this.clock,
      random: this.engineRandom,
      config: { sockets: this.machine.sockets, cores_per_socket: this.machine.coresPerSocket, ...extra.config },
      onWarning: () => undefined,
      ...(extra.observer ? { observer: extra.observer } : {}),
    };
  }

  /** Run the world until `body` settles and return its value; a hang in virtual time throws SimHangError. */
  run<T>(label: string, body: Promise<T> | (() => Promise<T>), options: RunOptions = {}): Promise<T> {
    const promise = typeof body === 'function' ? body() : body;
    return this.scheduler.settle(label, promise, options);
  }

  /** Power cut now: the engine stops at once (no flush), then the disk loses what the model says. */
  crash(engine: Engine | undefined, model: CrashModel = this.machine.crashModel): CrashReport {
    if (engine) void engine.abandon();
    return this.disk.crash(model);
  }

  /**
   * The next incarnation: a fresh scheduler (virtual time continues from now), a disk holding only
   * this disk's durable image, new random forks. `faults` replaces the machine's faults (default:
   * the same ones); pass {} for a healthy disk during recovery.
   */
  restart(options: { faults?: FaultSpec } = {}): SimWorld {
    const image = this.disk.snapshotDurable();
    return new SimWorld(this.seed, this.machine, this.dir, this.epoch + 1, this.root.fork(), this.scheduler.nowUs, image, options.faults ?? this.machine.faults);
  }
}

/** A simulated world from a seed and a machine description. */
export function createWorld(seed: number, machine: MachineSpec = {}, options: { dir?: string } = {}): SimWorld {
  return SimWorld.create({ seed, machine, dir: options.dir });
}
