/**
 * CloudWatch Logs state: log groups per region, their streams, and each stream's events in
 * timestamp order. Timestamps are epoch milliseconds, as on the wire.
 */
import { AwsError } from '../contracts';
import { hexId } from '../ids';

/** One stored log event. */
export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
  eventId: string;
}

/** A log stream and its events (kept sorted by timestamp). */
export interface LogStream {
  logStreamName: string;
  creationTime: number;
  events: LogEvent[];
  storedBytes: number;
}

/** A log group and its streams. */
export interface LogGroup {
  logGroupName: string;
  region: string;
  creationTime: number;
  retentionInDays?: number;
  tags: Record<string, string>;
  streams: Map<string, LogStream>;
}

/** `The specified log group does not exist.` as AWS words it. */
export function groupNotFound(): AwsError {
  return new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
}

/** `The specified log stream does not exist.` as AWS words it. */
export function streamNotFound(): AwsError {
  return new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');
}

/** Every log group, per region. */
export class LogsState {
  private readonly groups = new Map<string, Map<string, LogGroup>>();

  constructor(
    /** Milliseconds since the epoch (injected so a scaled or fixed clock can drive it). */
    private readonly now: () => number,
  ) {}

  private regionGroups(region: string): Map<string, LogGroup> {
    let map = this.groups.get(region);
    if (!map) {
      map = new Map();
      this.groups.set(region, map);
    }
    return map;
  }

  /** The groups of a region, sorted by name. */
  listGroups(region: string): LogGroup[] {
    return [...this.regionGroups(region).values()].sort((a, b) =>
      a.logGroupName < b.logGroupName ? -1 : a.logGroupName > b.logGroupName ? 1 : 0,
    );
  }

  findGroup(region: string, name: string): LogGroup | undefined {
    return this.regionGroups(region).get(name);
  }

  /** The group, or `ResourceNotFoundException`. */
  group(region: string, name: string): LogGroup {
    const g = this.findGroup(region, name);
    if (!g) throw groupNotFound();
    return g;
  }

  /** The stream, or `ResourceNotFoundException` for the group or the stream. */
  stream(region: string, group: string, name: string): LogStream {
    const s = this.group(region, group).streams.get(name);
    if (!s) throw streamNotFound();
    return s;
  }

  createGroup(region: string, name: string, tags: Record<string, string> = {}): LogGroup {
    const map = this.regionGroups(region);
    if (map.has(name))
      throw new AwsError(
        'ResourceAlreadyExistsException',
        'The specified log group already exists',
      );
    const g: LogGroup = {
      logGroupName: name,
      region,
      creationTime: this.now(),
      tags,
      streams: new Map(),
    };
    map.set(name, g);
    return g;
  }

  deleteGroup(region: string, name: string): void {
    if (!this.regionGroups(region).delete(name)) throw groupNotFound();
  }

  createStream(region: string, group: string, name: string): LogStream {
    const g = this.group(region, group);
    if (g.streams.has(name))
      throw new AwsError(
        'ResourceAlreadyExistsException',
        'The specified log stream already exists',
      );
    const s: LogStream = {
      logStreamName: name,
      creationTime: this.now(),
      events: [],
      storedBytes: 0,
    };
    g.streams.set(name, s);
    return s;
  }

  /**
   * Appends events (each with its own timestamp) to a stream; the stream keeps timestamp order
   * (an event older than the stream's last one is inserted in its place).
   */
  append(stream: LogStream, events: { timestamp: number; message: string }[]): void {
    const ingestionTime = this.now();
    for (const e of events) {
      const stored: LogEvent = {
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime,
        eventId: `${e.timestamp}${hexId(12)}`,
      };
      let i = stream.events.length;
      while (i > 0 && stream.events[i - 1].timestamp > e.timestamp) i--;
      stream.events.splice(i, 0, stored);
      stream.storedBytes += Buffer.byteLength(e.message) + 26;
    }
  }

  /** JSON-serialisable state. */
  snapshot(): unknown {
    return [...this.groups.values()].flatMap((m) =>
      [...m.values()].map((g) => ({ ...g, streams: [...g.streams.values()] })),
    );
  }

  /** Loads what {@link snapshot} returned. */
  restore(saved: unknown): void {
    if (!Array.isArray(saved)) return;
    for (const g of saved as (Omit<LogGroup, 'streams'> & { streams: LogStream[] })[]) {
      this.regionGroups(g.region).set(g.logGroupName, {
        ...g,
        streams: new Map(g.streams.map((s) => [s.logStreamName, s])),
      });
    }
  }
}
