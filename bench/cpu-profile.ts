// Summarises a V8 .cpuprofile (node --cpu-prof) into where the main thread's time went, for the
// bench's "where a /16 single attempt spends its time" section.
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number; // µs
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** profiled span of the main thread, ms */
  totalMs: number;
  /** self time by category, largest first */
  categories: { name: string; ms: number }[];
  /** self time by function, largest first */
  functions: { name: string; ms: number }[];
}

/** Groups a frame: V8's pseudo-frames, native bindings (no url), Node internals, our files, dependencies. */
function categoryOf(frame: ProfileNode['callFrame']): string {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(idle)') return 'idle (waiting for replies and timers)';
  if (fn === '(program)') return 'V8 outside JS (start-up, compiling)';
  if (!url) return `native call: ${fn || '(anonymous)'}`;
  if (url.startsWith('node:')) return 'Node internals (module loading, I/O)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return `dependency: ${dep[1]}`;
  return `ours: ${basename(url)}`;
}

export function summariseProfile(json: string, top = 10): ProfileSummary {
  const p = JSON.parse(json) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Sample i lasted until sample i+1: timeDeltas[i + 1] is the time charged to samples[i].
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
  }
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n || n.callFrame.functionName === '(root)') continue;
    const cat = categoryOf(n.callFrame);
    categories.set(cat, (categories.get(cat) ?? 0) + us / 1000);
    const fn = n.callFrame.url ? `${n.callFrame.functionName || '(anonymous)'} (${basename(n.callFrame.url)})` : cat;
    functions.set(fn, (functions.get(fn) ?? 0) + us / 1000);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs: (p.endTime - p.startTime) / 1000, categories: sorted(categories), functions: sorted(functions).slice(0, top) };
}
