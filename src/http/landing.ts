import type { DeviceView, InterfaceView } from './views.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderLandingPage(p: {
  version: string;
  telemetryPath: string;
  interfaces: InterfaceView[];
  devices: DeviceView[];
}): string {
  const ifaceRows = p.interfaces
    .map(
      (i) =>
        `<tr><td>${esc(i.name)}</td><td>${i.up ? 'up' : 'down'}</td><td>${i.lastSuccessMs ? new Date(i.lastSuccessMs).toISOString() : 'never'}</td><td>${esc(i.lastError ?? '')}</td></tr>`,
    )
    .join('');
  const shown = p.devices.slice(0, 2000);
  const deviceRows = shown
    .map(
      (d) =>
        `<tr class="${d.present ? 'present' : 'absent'}"><td>${esc(d.interface)}</td><td>${esc(d.ip ?? '')}</td><td><code>${esc(d.mac)}</code></td><td>${esc(d.name ?? '')}</td><td>${esc(d.vendor)}</td><td>${d.randomized ? 'yes' : ''}</td><td>${d.present ? 'present' : 'absent'}</td><td>${esc(d.last_seen)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ghost Hunter</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}tr.absent{color:#999}</style></head>
<body><h1>Ghost Hunter ${esc(p.version)}</h1>
<p><a href="${esc(p.telemetryPath)}">Metrics</a> · <a href="/api/devices">Devices (JSON)</a> · <a href="/sd">Service discovery</a> · <a href="/-/healthy">Health</a> · <a href="/-/ready">Ready</a></p>
<h2>Interfaces</h2><table><tr><th>interface</th><th>state</th><th>last successful sweep</th><th>last error</th></tr>${ifaceRows}</table>
<h2>Devices (${p.devices.length}${p.devices.length > shown.length ? `, first ${shown.length} shown` : ''})</h2>
<table><tr><th>interface</th><th>IP</th><th>MAC</th><th>name</th><th>vendor</th><th>randomized</th><th>state</th><th>last seen</th></tr>${deviceRows}</table>
</body></html>`;
}
