// The Ghost Hunter dashboards, built with @grafana/grafana-foundation-sdk.
// `npm run dashboards` writes them to grafana/dashboards/*.json; test/stack checks that
// the committed JSON is what this file builds.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { SEL, SEL_INSTANCE, base, range, table as tableQuery, thresholds, variables } from './common.js';

const BY = 'site, segment, instance, interface';
const LEGEND = '{{site}}/{{segment}} {{interface}} ({{instance}})';
const SITE_LEGEND = '{{site}}/{{segment}} ({{instance}})';

function statPanel(title: string, description: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .height(5)
    .span(6)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

function graph(title: string, description: string, span = 12): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .height(8)
    .span(span)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    );
}

function tablePanel(title: string, description: string): table.PanelBuilder {
  return new table.PanelBuilder().title(title).description(description).height(10).span(24);
}

/** Hide the columns every instant table query brings along. */
function organize(exclude: string[], order: string[] = []): dashboard.DataTransformerConfig {
  return {
    id: 'organize',
    options: {
      excludeByName: Object.fromEntries(['Time', '__name__', 'job', ...exclude].map((k) => [k, true])),
      indexByName: Object.fromEntries(order.map((k, i) => [k, i])),
    },
  };
}

const presentMapping: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.ValueToText,
    options: {
      '0': { text: 'absent', color: 'red', index: 0 },
      '1': { text: 'present', color: 'green', index: 1 },
    },
  },
];

const upMapping: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.ValueToText,
    options: {
      '0': { text: 'FAILING', color: 'red', index: 0 },
      '1': { text: 'OK', color: 'green', index: 1 },
    },
  },
];

function overview(): dashboard.DashboardBuilder {
  return base(
    'ghost-hunter-overview',
    'Ghost Hunter / LAN overview',
    'Devices on every watched segment: how many, how many are new or unknown, and how unusual the last sweep was.',
  )
    .variables(variables())
    .withRow(new dashboard.RowBuilder('Now'))
    .withPanel(
      statPanel('Devices present', 'Devices that answered the last sweep, per segment.').withTarget(
        range('A', `ghosthunter_devices{${SEL}}`, LEGEND),
      ),
    )
    .withPanel(
      statPanel('New in the last 24 h', 'Devices first seen within the last 24 hours.').withTarget(
        range(
          'A',
          `count by (${BY}) (time() - ghosthunter_device_first_seen_timestamp_seconds{${SEL}} < 86400)` +
            ` or sum by (${BY}) (ghosthunter_devices{${SEL}}) * 0`,
          LEGEND,
        ),
      ),
    )
    .withPanel(
      statPanel('Unknown devices present', 'Present devices that are not in known_devices.')
        .thresholds(thresholds([{ value: null, color: 'green' }, { value: 1, color: 'orange' }]))
        .colorMode(common.BigValueColorMode.Background)
        .withTarget(range('A', `ghosthunter_devices_unknown{${SEL}}`, LEGEND)),
    )
    .withPanel(
      statPanel('Known devices absent', 'Devices from known_devices that did not answer.')
        .thresholds(thresholds([{ value: null, color: 'green' }, { value: 1, color: 'red' }]))
        .colorMode(common.BigValueColorMode.Background)
        .withTarget(range('A', `ghosthunter_devices_known_absent{${SEL}}`, LEGEND)),
    )
    .withRow(new dashboard.RowBuilder('Over time'))
    .withPanel(
      graph('Devices present', 'Present and unknown devices per segment.')
        .min(0)
        .withTarget(range('A', `ghosthunter_devices{${SEL}}`, `present ${LEGEND}`))
        .withTarget(range('B', `ghosthunter_devices_unknown{${SEL}}`, `unknown ${LEGEND}`)),
    )
    .withPanel(
      graph('Anomaly score', 'Combined anomaly score of each sweep (0-1); the dashed line is the threshold above which a sweep is anomalous.')
        .min(0)
        .max(1)
        .withTarget(range('A', `ghosthunter_anomaly_score{${SEL}}`, `score ${LEGEND}`))
        .withTarget(range('B', `ghosthunter_anomaly_threshold{${SEL}}`, `threshold ${LEGEND}`))
        .overrideByRegexp('/^threshold/', [
          { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
          { id: 'custom.fillOpacity', value: 0 },
        ]),
    )
    .withRow(new dashboard.RowBuilder('Unknown devices'))
    .withPanel(
      tablePanel('Unknown devices present now', 'Present devices that are not in known_devices, with IP and vendor.')
        .withTarget(tableQuery('A', `interface_mac:ghosthunter_device_present:unknown{${SEL}}`))
        .withTransformation(organize(['Value'], ['site', 'segment', 'instance', 'interface', 'mac', 'ip', 'vendor', 'name', 'randomized'])),
    );
}

function presence(): dashboard.DashboardBuilder {
  const DEV = `${SEL},mac=~"$mac"`;
  return base(
    'ghost-hunter-presence',
    'Ghost Hunter / Device presence',
    'When each device was on the network, its presence ratio over 1 and 7 days, and its ARP round-trip time.',
  )
    .variables(variables(true))
    .withPanel(
      new statetimeline.PanelBuilder()
        .title('Presence')
        .description('One band per device: green while it answers sweeps, red once it is absent.')
        .height(14)
        .span(24)
        .mergeValues(true)
        .showValue(common.VisibilityMode.Never)
        .fillOpacity(80)
        .rowHeight(0.8)
        .mappings(presentMapping)
        .withTarget(
          range(
            'A',
            `max by (${BY}, mac, name) (ghosthunter_device_present{${DEV}}` +
              ` * on (${BY}, mac) group_left (name) ghosthunter_device_info{${DEV}})`,
            '{{mac}} {{name}} ({{site}}/{{segment}} {{interface}})',
          ),
        ),
    )
    .withPanel(
      tablePanel('Presence ratio', 'Share of sweeps in which each device was present (recording rules, updated every 5 minutes).')
        .withTarget(tableQuery('A', `interface_mac:ghosthunter_device_present:avg_over_time1d{${DEV}}`))
        .withTarget(tableQuery('B', `interface_mac:ghosthunter_device_present:avg_over_time7d{${DEV}}`))
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation(organize([], ['site', 'segment', 'instance', 'interface', 'mac']))
        .overrideByName('Value #A', [
          { id: 'displayName', value: 'Last 24 h' },
          { id: 'unit', value: 'percentunit' },
        ])
        .overrideByName('Value #B', [
          { id: 'displayName', value: 'Last 7 days' },
          { id: 'unit', value: 'percentunit' },
        ]),
    )
    .withPanel(
      graph('ARP round-trip time', 'Round-trip time of the last reply of each device to a sweep.', 24)
        .unit('s')
        .withTarget(range('A', `ghosthunter_device_rtt_seconds{${DEV}}`, '{{mac}} ({{site}}/{{segment}} {{interface}})')),
    );
}

function inventory(): dashboard.DashboardBuilder {
  return base(
    'ghost-hunter-inventory',
    'Ghost Hunter / Device inventory',
    'Every tracked device with name, MAC, IP, vendor, class and first/last seen.',
  )
    .variables(variables())
    .withPanel(
      statPanel('Devices tracked', 'Devices in the inventory: present ones and absent ones still retained.').withTarget(
        range('A', `ghosthunter_devices_tracked{${SEL}}`, LEGEND),
      ),
    )
    .withPanel(
      statPanel('Devices present', 'Devices that answered the last sweep.').withTarget(
        range('A', `ghosthunter_devices{${SEL}}`, LEGEND),
      ),
    )
    .withPanel(
      statPanel('Unknown devices present', 'Present devices that are not in known_devices.').withTarget(
        range('A', `ghosthunter_devices_unknown{${SEL}}`, LEGEND),
      ),
    )
    .withPanel(
      statPanel('Randomized MACs', 'Tracked devices whose MAC is locally administered (private Wi-Fi addresses).').withTarget(
        range('A', `count by (${BY}) (ghosthunter_device_info{${SEL},randomized="true"}) or sum by (${BY}) (ghosthunter_devices_tracked{${SEL}}) * 0`, LEGEND),
      ),
    )
    .withPanel(
      tablePanel('Devices', 'All tracked devices. Present: 1 if the device answered the last sweep.')
        .height(20)
        .withTarget(tableQuery('A', `ghosthunter_device_info{${SEL}}`))
        .withTarget(tableQuery('B', `ghosthunter_device_present{${SEL}}`))
        .withTarget(tableQuery('C', `ghosthunter_device_first_seen_timestamp_seconds{${SEL}} * 1000`))
        .withTarget(tableQuery('D', `ghosthunter_device_last_seen_timestamp_seconds{${SEL}} * 1000`))
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation(
          organize(['Value #A'], ['site', 'segment', 'name', 'mac', 'ip', 'vendor', 'class', 'known', 'critical', 'randomized', 'Value #B', 'Value #C', 'Value #D']),
        )
        .overrideByName('Value #B', [
          { id: 'displayName', value: 'Present' },
          { id: 'mappings', value: presentMapping },
          { id: 'custom.cellOptions', value: { type: 'color-text' } },
        ])
        .overrideByName('Value #C', [
          { id: 'displayName', value: 'First seen' },
          { id: 'unit', value: 'dateTimeAsIso' },
        ])
        .overrideByName('Value #D', [
          { id: 'displayName', value: 'Last seen' },
          { id: 'unit', value: 'dateTimeAsIso' },
        ]),
    );
}

function security(): dashboard.DashboardBuilder {
  const events = (kinds: string) =>
    `sum by (${BY}, kind) (increase(ghosthunter_events_total{${SEL},kind=~"${kinds}"}[$__rate_interval]))`;
  return base(
    'ghost-hunter-security',
    'Ghost Hunter / Security events',
    'IP changes, IPs claimed by two MACs and gateway MAC changes (possible ARP spoofing), and devices joining and leaving.',
  )
    .variables(variables())
    .withPanel(
      statPanel('IP conflicts now', 'IPs answered by more than one MAC in the last sweep.')
        .thresholds(thresholds([{ value: null, color: 'green' }, { value: 1, color: 'red' }]))
        .colorMode(common.BigValueColorMode.Background)
        .withTarget(range('A', `ghosthunter_ip_conflicts{${SEL}}`, LEGEND)),
    )
    .withPanel(
      statPanel('Gateway MAC changes', 'Times the default gateway answered with a new MAC in the selected time range.')
        .thresholds(thresholds([{ value: null, color: 'green' }, { value: 1, color: 'red' }]))
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .withTarget(
          range('A', `sum by (${BY}) (increase(ghosthunter_events_total{${SEL},kind="gateway_mac_changed"}[$__range]))`, LEGEND),
        ),
    )
    .withPanel(
      statPanel('IP changes', 'Devices that moved to another IP in the selected time range.')
        .graphMode(common.BigValueGraphMode.None)
        .withTarget(range('A', `sum by (${BY}) (increase(ghosthunter_events_total{${SEL},kind="ip_changed"}[$__range]))`, LEGEND)),
    )
    .withPanel(
      statPanel('New devices', 'Devices seen for the first time in the selected time range.')
        .graphMode(common.BigValueGraphMode.None)
        .withTarget(range('A', `sum by (${BY}) (increase(ghosthunter_events_total{${SEL},kind="new_device"}[$__range]))`, LEGEND)),
    )
    .withPanel(
      graph('Spoofing signals', 'IP changes, IP conflicts and gateway MAC changes per interval.')
        .drawStyle(common.GraphDrawStyle.Bars)
        .fillOpacity(80)
        .withTarget(range('A', events('ip_changed|ip_conflict|gateway_mac_changed'), `{{kind}} ${LEGEND}`)),
    )
    .withPanel(
      graph('Devices joining and leaving', 'New devices, devices gone and devices back per interval.')
        .drawStyle(common.GraphDrawStyle.Bars)
        .fillOpacity(80)
        .withTarget(range('A', events('new_device|device_gone|device_back'), `{{kind}} ${LEGEND}`)),
    )
    .withPanel(
      tablePanel('Default gateway', 'The gateway of each interface and the MAC it answers with now.')
        .height(6)
        .withTarget(tableQuery('A', `ghosthunter_gateway_info{${SEL}}`))
        .withTransformation(organize(['Value'], ['site', 'segment', 'instance', 'interface', 'ip', 'mac'])),
    );
}

function exporterHealth(): dashboard.DashboardBuilder {
  const rate = (metric: string) => `rate(${metric}{${SEL}}[$__rate_interval])`;
  return base(
    'ghost-hunter-exporter',
    'Ghost Hunter / Exporter health',
    'Is every exporter scraped and sweeping: sweep duration and age, ARP requests and replies, drops and errors.',
  )
    .variables(variables())
    .withPanel(
      statPanel('Scrape', 'Whether Prometheus can scrape the exporter.')
        .mappings(upMapping)
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .withTarget(range('A', `up{job="ghost-hunter",${SEL_INSTANCE}}`, SITE_LEGEND)),
    )
    .withPanel(
      statPanel('Sweeps', 'Whether the last sweep of each interface succeeded.')
        .mappings(upMapping)
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .withTarget(range('A', `ghosthunter_up{${SEL}}`, LEGEND)),
    )
    .withPanel(
      statPanel('State store', 'Whether the last write to the state store succeeded.')
        .mappings(upMapping)
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .withTarget(range('A', `ghosthunter_store_writable{${SEL_INSTANCE}}`, SITE_LEGEND)),
    )
    .withPanel(
      statPanel('Last config reload', 'Whether the last configuration reload succeeded.')
        .mappings(upMapping)
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .withTarget(range('A', `ghosthunter_config_last_reload_successful{${SEL_INSTANCE}}`, SITE_LEGEND)),
    )
    .withPanel(
      graph('Sweep duration', 'Duration of the last completed sweep of each interface, and how long the sweep now running has been going, 0 between sweeps (GhostHunterSweepHung fires after 30 minutes).')
        .unit('s')
        .min(0)
        .withTarget(range('A', `ghosthunter_sweep_duration_seconds{${SEL}}`, LEGEND))
        .withTarget(
          range('B', `(time() - ghosthunter_last_sweep_start_timestamp_seconds{${SEL}}) * ghosthunter_sweep_running{${SEL}}`, `running ${LEGEND}`),
        ),
    )
    .withPanel(
      graph('Time since last successful sweep', 'Grows without bound when sweeps fail or hang.')
        .unit('s')
        .min(0)
        .withTarget(range('A', `time() - ghosthunter_last_sweep_success_timestamp_seconds{${SEL}}`, LEGEND)),
    )
    .withPanel(
      graph('ARP requests and replies', 'ARP requests sent, replies matched to a sweep and all ARP frames captured, per second.')
        .unit('pps')
        .withTarget(range('A', rate('ghosthunter_arp_requests_sent_total'), `sent ${LEGEND}`))
        .withTarget(range('B', rate('ghosthunter_arp_replies_received_total'), `replies ${LEGEND}`))
        .withTarget(range('C', rate('ghosthunter_arp_frames_received_total'), `frames ${LEGEND}`)),
    )
    .withPanel(
      graph('Drops and errors', 'Packets dropped by libpcap, failed sweeps and sweeps slower than the interval, per second.')
        .unit('ops')
        .withTarget(range('A', rate('ghosthunter_pcap_dropped_packets_total'), `pcap drops ${LEGEND}`))
        .withTarget(range('B', rate('ghosthunter_sweep_errors_total'), `sweep errors ${LEGEND}`))
        .withTarget(range('C', rate('ghosthunter_sweeps_slow_total'), `slow sweeps ${LEGEND}`)),
    )
    .withPanel(
      graph('Addresses per sweep', 'Addresses probed by the last sweep and devices in the inventory.')
        .min(0)
        .withTarget(range('A', `ghosthunter_sweep_addresses{${SEL}}`, `probed ${LEGEND}`))
        .withTarget(range('B', `ghosthunter_devices_tracked{${SEL}}`, `tracked ${LEGEND}`)),
    )
    .withPanel(
      graph('Exporter memory and CPU', 'Resident memory of the exporter process and the CPU it uses.')
        .unit('bytes')
        .withTarget(range('A', `process_resident_memory_bytes{job="ghost-hunter",${SEL_INSTANCE}}`, `RSS ${SITE_LEGEND}`))
        .withTarget(range('B', `rate(process_cpu_seconds_total{job="ghost-hunter",${SEL_INSTANCE}}[$__rate_interval])`, `CPU ${SITE_LEGEND}`))
        .overrideByRegexp('/^CPU/', [
          { id: 'unit', value: 'percentunit' },
          { id: 'custom.axisPlacement', value: 'right' },
        ]),
    )
    .withPanel(
      tablePanel('Build', 'Version of each exporter.')
        .height(6)
        .withTarget(tableQuery('A', `ghosthunter_build_info{${SEL_INSTANCE}}`))
        .withTransformation(organize(['Value'], ['site', 'segment', 'instance', 'version', 'revision', 'nodeversion'])),
    );
}

/** Every dashboard, keyed by the file name it is written to under grafana/dashboards/. */
export function buildDashboards(): Record<string, dashboard.Dashboard> {
  const builders: Record<string, dashboard.DashboardBuilder> = {
    'ghost-hunter-overview.json': overview(),
    'ghost-hunter-presence.json': presence(),
    'ghost-hunter-inventory.json': inventory(),
    'ghost-hunter-security.json': security(),
    'ghost-hunter-exporter.json': exporterHealth(),
  };
  const out: Record<string, dashboard.Dashboard> = {};
  for (const [file, builder] of Object.entries(builders)) {
    const dash = builder.build();
    // Stable panel ids, in layout order, so the JSON diffs cleanly.
    (dash.panels ?? []).forEach((panel, i) => {
      panel.id = i + 1;
    });
    out[file] = dash;
  }
  return out;
}

/** The JSON text written for a dashboard (what the staleness test compares). */
export function renderDashboard(dash: dashboard.Dashboard): string {
  return JSON.stringify(dash, null, 2) + '\n';
}
