// The live page's server side in one place: its files, its stream and its JSON, composed from
// the running monitor (serve.ts hands the result to buildApp).
import type { Monitor } from '../monitor/monitor.js';
import { VERSION } from '../version.js';
import type { HttpDeps } from './app.js';
import { anomalyView, DETAIL_DAYS, DETAIL_EVENTS, deviceDetailView, historyView } from './history-views.js';
import { LiveStream } from './live.js';
import { PageAssets } from './page-assets.js';
import { deviceViews, eventViews, findDeviceView, interfaceViews } from './views.js';

export interface LivePage {
  deps: HttpDeps['page'];
  close(): void;
}

export function livePage(monitor: Pick<Monitor, 'segments' | 'known' | 'anomaly' | 'recentEvents' | 'history' | 'live'>, telemetryPath: string): LivePage {
  const stream = new LiveStream(monitor.live, {
    version: VERSION,
    telemetryPath,
    devices: () => deviceViews(monitor),
    device: (iface, mac) => findDeviceView(monitor, iface, mac),
    interfaces: () => interfaceViews(monitor.segments()),
    recentEvents: (limit) => eventViews(monitor.recentEvents(limit)),
    anomaly: () => monitor.anomaly(),
  });
  let assets: PageAssets | null = null;
  return {
    deps: {
      assets: () => (assets ??= PageAssets.load()),
      stream: (req, res, lastEventId) => stream.open(req, res, lastEventId),
      history: (range) => historyView(monitor.history(), range, Date.now()),
      device: (iface, mac) => {
        const device = findDeviceView(monitor, iface, mac);
        if (!device) return null;
        const now = Date.now();
        const since = now - DETAIL_DAYS * 86_400_000;
        const a = monitor.anomaly().get(iface);
        return deviceDetailView(device, monitor.history().deviceEvents(iface, mac, since, DETAIL_EVENTS), a ? anomalyView(iface, a) : null, since, now);
      },
    },
    close: () => stream.close(),
  };
}
