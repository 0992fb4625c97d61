// Shared pieces of the Ghost Hunter dashboards: the datasource and the
// site / segment / instance / interface variables every dashboard filters by, so one
// Grafana (on one Prometheus or on a central store fed by many) shows every segment of
// every site. An instance address (127.0.0.1:9736) and a MAC can repeat across sites:
// queries and joins always carry site and segment.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';

/** Every panel queries the datasource chosen in the `datasource` variable. */
export const datasource: dashboard.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** Label matchers for the segment variables; add them to every selector. */
export const SEL = 'site=~"$site",segment=~"$segment",instance=~"$instance",interface=~"$interface"';

/** Matchers for per-exporter metrics that have no interface label. */
export const SEL_INSTANCE = 'site=~"$site",segment=~"$segment",instance=~"$instance"';

/** A range query (time series) with a legend. */
export function range(refId: string, expr: string, legend: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(datasource)
    .refId(refId)
    .expr(expr)
    .range()
    .legendFormat(legend);
}

/** An instant query formatted as a table (for table panels). */
export function table(refId: string, expr: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(datasource)
    .refId(refId)
    .expr(expr)
    .instant()
    .format(prometheus.PromQueryFormat.Table);
}

function labelValues(name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(datasource)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' });
}

/** datasource, site, segment, instance, interface (and optionally mac) variables, each narrowed by the ones before. */
export function variables(withMac = false): cog.Builder<dashboard.VariableModel>[] {
  const vars: cog.Builder<dashboard.VariableModel>[] = [
    new dashboard.DatasourceVariableBuilder('datasource')
      .label('Data source')
      .type('prometheus')
      .current({ text: 'Prometheus', value: 'prometheus' }),
    labelValues('site', 'Site', 'label_values(ghosthunter_up, site)'),
    labelValues('segment', 'Segment', 'label_values(ghosthunter_up{site=~"$site"}, segment)'),
    labelValues('instance', 'Exporter', 'label_values(ghosthunter_up{site=~"$site",segment=~"$segment"}, instance)'),
    labelValues('interface', 'Interface', `label_values(ghosthunter_up{${SEL_INSTANCE}}, interface)`),
  ];
  if (withMac) {
    vars.push(labelValues('mac', 'Device (MAC)', `label_values(ghosthunter_device_present{${SEL}}, mac)`));
  }
  return vars;
}

export function thresholds(steps: { value: number | null; color: string }[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

/** Start a dashboard with the common settings; every dashboard links to the others. */
export function base(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['ghost-hunter'])
    .editable()
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(
      new dashboard.DashboardLinkBuilder('Ghost Hunter')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['ghost-hunter'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}
