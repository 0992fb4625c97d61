// Pulls every PromQL query out of dashboard JSON, so tests can check that each parses
// and returns data.
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  /** true for variable queries (label_values) and instant table queries */
  instant: boolean;
}

/** Values used in tests for Grafana's built-in and our dashboard variables. */
export const TEST_VARIABLES: Record<string, string> = {
  site: '.*',
  segment: '.*',
  instance: '.*',
  interface: '.*',
  mac: '.*',
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

/** Substitute $name and ${name} with values (longest names first: $__rate_interval before $__range). */
export function expandVariables(expr: string, values: Record<string, string> = TEST_VARIABLES): string {
  let out = expr;
  for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) {
    out = out.split('${' + name + '}').join(values[name]).split('$' + name).join(values[name]);
  }
  return out;
}

/**
 * label_values(selector, label) as PromQL that returns one series per label value,
 * e.g. group by (site) (ghosthunter_up).
 */
export function labelValuesToPromQL(query: string): string {
  const m = /^label_values\(\s*(.*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/s.exec(query.trim());
  if (!m) throw new Error(`not a label_values() query: ${query}`);
  return `group by (${m[2]}) (${m[1]})`;
}

function isRow(p: Panel | RowPanel): p is RowPanel {
  return p.type === 'row';
}

export function dashboardQueries(file: string, dash: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const v of (dash.templating?.list ?? []) as VariableModel[]) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : String((v.query as { query?: string } | undefined)?.query ?? '');
    out.push({ dashboard: file, panel: `variable ${v.name}`, refId: v.name, expr: labelValuesToPromQL(q), instant: true });
  }
  const panels: Panel[] = [];
  for (const p of dash.panels ?? []) {
    if (isRow(p)) panels.push(...(p.panels ?? []));
    else panels.push(p);
  }
  for (const p of panels) {
    for (const t of (p.targets ?? []) as { expr?: string; refId?: string; instant?: boolean }[]) {
      if (!t.expr) continue;
      out.push({ dashboard: file, panel: p.title ?? '(untitled)', refId: t.refId ?? '?', expr: t.expr, instant: t.instant === true });
    }
  }
  return out;
}
