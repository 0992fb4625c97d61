// The monitor's changes as they happen, for whoever follows them live (the live page's stream,
// src/http/live.ts). The monitor publishes WHAT changed; subscribers read the current state
// through MonitorReadout. Publishing costs nothing when nobody listens.
import type { DeviceEvent } from '../inventory/inventory.js';

export type LiveChange =
  /** Events just recorded (their devices changed too). */
  | { type: 'events'; interface: string; events: readonly DeviceEvent[] }
  /** Devices whose state changed (often only their last-seen time), and devices dropped from the inventory. */
  | { type: 'devices'; interface: string; changed: readonly string[]; removed: readonly string[] }
  /** A sweep of the interface completed; `present`: devices present after it. */
  | { type: 'sweep'; interface: string; tsMs: number; present: number }
  /** A new anomaly result for the interface. */
  | { type: 'anomaly'; interface: string }
  /** Anything may have changed (a configuration reload: names, interfaces). */
  | { type: 'reset' };

export class LiveFeed {
  private readonly listeners = new Set<(change: LiveChange) => void>();

  /** Returns the unsubscribe function. */
  subscribe(listener: (change: LiveChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(change: LiveChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        // a follower's bug must not break the sweep or the capture that published
        process.emitWarning(`live feed listener failed: ${(err as Error).message}`);
      }
    }
  }
}
