// The checked engine configuration every layer reads (one field per parameter of parameters.ts).
// Its own file so that the parameter table (parameters.ts) and the resolver (config.ts) both depend
// on it without depending on each other.

export type WalFlusher = 'auto' | 'committer' | 'thread-pool' | 'socket-threads';
export type AffinityMode = 'fill-physical-first' | 'fill-socket-first' | 'equal-per-socket' | 'none';
export type LoggingMode = 'off' | 'synchronous' | 'group' | 'asynchronous';

export interface EngineConfig {
  enableRedoLog: boolean;
  synchronousCommit: boolean;
  enableGroupCommit: boolean;
  groupCommitSize: number;
  groupCommitTimeoutUs: number;
  walWriterDelayUs: number;
  asyncRedoBufferBytesMax: number;
  redoBufferBytes: number;
  walSegmentBytes: number;
  walPreallocate: boolean;
  walFlusher: WalFlusher;
  checkpointDir: string;
  checkpointSegmentBytes: number;
  checkpointWorkers: number;
  checkpointRecoveryWorkers: number;
  checkpointIntervalUs: number;
  checkpointWalBytesMax: number;
  enableStats: boolean;
  printStatsPeriodUs: number;
  enableNuma: boolean;
  affinityMode: AffinityMode;
  sockets: number;
  coresPerSocket: number;
  maxConnections: number;
  maxProcessMemoryBytes: number;
  maxMotGlobalMemoryBytes: number;
  maxMotLocalMemoryBytes: number;
}
