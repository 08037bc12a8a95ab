/**
 * What the Segment sandbox holds: per-user traits (merged by each identify, as Segment's profiles do), the tracked
 * events, groups (traits merged by each group call, and the users that joined them), the deduplicated view of every accepted message, and the messageIds seen in the last 24 hours. Persisted
 * to a file when given a path.
 */
import { createSandboxState, type SandboxState } from '../../../plugins/sandbox/index.js';

/** A message as Segment's tracking API receives it (only the fields the sandbox reads are typed). */
export interface SegmentMessage {
  type?: unknown;
  userId?: unknown;
  anonymousId?: unknown;
  messageId?: unknown;
  traits?: unknown;
  event?: unknown;
  properties?: unknown;
  timestamp?: unknown;
  [field: string]: unknown;
}

/** An accepted message in the deduplicated view. */
export interface AcceptedMessage {
  type: string;
  userId: string | null;
  anonymousId: string | null;
  messageId: string;
  /** `event` of a track. */
  event?: string;
  /** `groupId` of a group call. */
  groupId?: string;
  receivedAt: number;
}

/** A tracked event kept on its user. */
export interface TrackedEvent {
  event: string;
  properties: Record<string, unknown>;
  messageId: string;
  timestamp: string | null;
  receivedAt: number;
}

/** A user's profile: merged traits and tracked events. */
export interface SegmentProfile {
  userId: string;
  traits: Record<string, unknown>;
  events: TrackedEvent[];
}

/** A group (an account): traits merged by each group call, as Segment does, and the users that joined it. */
export interface SegmentGroup {
  groupId: string;
  traits: Record<string, unknown>;
  userIds: string[];
}

interface WorkspaceState extends Record<string, unknown> {
  profiles: Record<string, SegmentProfile>;
  groups: Record<string, SegmentGroup>;
  /** messageId → when it was first accepted (sandbox clock, epoch ms). */
  seen: Record<string, number>;
  messages: AcceptedMessage[];
}

/** What applying one message did. */
export type ApplyOutcome = 'accepted' | 'duplicate' | 'dropped';

const TYPES = new Set(['identify', 'track', 'page', 'screen', 'group', 'alias']);

/**
 * A Segment workspace (one source) as the sandbox keeps it.
 *
 * @example
 * const workspace = new SegmentWorkspace({ now: () => Date.now(), dedupWindowMs: 86_400_000 });
 * workspace.apply({ type: 'identify', userId: 'u1', messageId: 'm1', traits: { vip: true } });
 */
export class SegmentWorkspace {
  private readonly state: SandboxState<WorkspaceState>;
  private readonly profiles: Record<string, SegmentProfile>;
  private readonly groups: Record<string, SegmentGroup>;
  private readonly seen: Record<string, number>;
  private readonly accepted: AcceptedMessage[];
  /** Messages refused as replays of a messageId seen within the window. */
  duplicates = 0;
  /** Messages dropped as invalid (no userId or anonymousId, unknown type, no messageId). */
  dropped = 0;

  constructor(private readonly options: { now: () => number; dedupWindowMs: number; statePath?: string | undefined }) {
    this.state = createSandboxState<WorkspaceState>(options.statePath, { autosave: false });
    this.profiles = this.state.ensure('profiles', () => ({}));
    this.groups = this.state.ensure('groups', () => ({}));
    this.seen = this.state.ensure('seen', () => ({}));
    this.accepted = this.state.ensure('messages', () => []);
  }

  /** Applies one message: identify merges traits, track appends an event; a replayed messageId changes nothing. */
  apply(message: SegmentMessage): ApplyOutcome {
    const type = typeof message.type === 'string' ? message.type : '';
    const userId = idOf(message.userId);
    const anonymousId = idOf(message.anonymousId);
    const messageId = idOf(message.messageId);
    const groupId = idOf(message.groupId);
    if (
      !TYPES.has(type) ||
      (userId === null && anonymousId === null) ||
      messageId === null ||
      (type === 'group' && groupId === null)
    ) {
      this.dropped++;
      return 'dropped';
    }
    const now = this.options.now();
    const firstSeen = this.seen[messageId];
    if (firstSeen !== undefined && now - firstSeen < this.options.dedupWindowMs) {
      this.duplicates++;
      return 'duplicate';
    }
    this.seen[messageId] = now;
    const entry: AcceptedMessage = { type, userId, anonymousId, messageId, receivedAt: now };
    const key = userId ?? `anonymous:${anonymousId ?? ''}`;
    if (type === 'identify') {
      const profile = (this.profiles[key] ??= { userId: key, traits: {}, events: [] });
      Object.assign(profile.traits, objectOf(message.traits));
    } else if (type === 'track') {
      const event = typeof message.event === 'string' ? message.event : '';
      entry.event = event;
      const profile = (this.profiles[key] ??= { userId: key, traits: {}, events: [] });
      profile.events.push({
        event,
        properties: objectOf(message.properties),
        messageId,
        timestamp: typeof message.timestamp === 'string' ? message.timestamp : null,
        receivedAt: now,
      });
    } else if (type === 'group' && groupId !== null) {
      entry.groupId = groupId;
      const group = (this.groups[groupId] ??= { groupId, traits: {}, userIds: [] });
      Object.assign(group.traits, objectOf(message.traits));
      if (!group.userIds.includes(key)) group.userIds.push(key);
    }
    this.accepted.push(entry);
    return 'accepted';
  }

  /** A user's profile, or undefined when Segment never heard of them. */
  profile(userId: string): SegmentProfile | undefined {
    return this.profiles[userId];
  }

  /** A group (an account) as group calls left it, or undefined when no call named it. */
  group(groupId: string): SegmentGroup | undefined {
    return this.groups[groupId];
  }

  /** Every group id, sorted (for tests: Segment itself has no listing of groups). */
  groupIds(): string[] {
    return Object.keys(this.groups).sort();
  }

  /** Every profile, ordered by user id (for tests: Segment itself has no listing of profiles). */
  profileIds(): string[] {
    return Object.keys(this.profiles).sort();
  }

  /** The deduplicated view: every message accepted, oldest first. */
  get messages(): readonly AcceptedMessage[] {
    return this.accepted;
  }

  /** Forgets messageIds older than the window, so the map does not grow forever. */
  expire(): void {
    const cutoff = this.options.now() - this.options.dedupWindowMs;
    for (const [id, at] of Object.entries(this.seen)) if (at <= cutoff) delete this.seen[id];
  }

  /** Writes the state file (a no-op without a path). */
  save(): void {
    this.state.save();
  }
}

function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function objectOf(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
