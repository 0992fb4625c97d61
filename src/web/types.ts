// The shapes the page receives. The server builds the history and anomaly ones from these types
// (src/http/history-views.ts); a device is the server's DeviceView (src/http/views.ts), seen here
// with the fields an exporter may or may not send as optional: the page shows what it gets.
// No DOM and no imports here: the server's build includes this file.

export interface Device {
  interface: string;
  mac: string;
  ip: string | null;
  ips: string[];
  vendor: string;
  name: string | null;
  /** where the name comes from (config, dhcp, mdns, ...), when the exporter identifies devices */
  name_source?: string | null;
  kind?: string | null;
  os?: string | null;
  /** known_devices class */
  class: string | null;
  known: boolean;
  critical: boolean;
  randomized: boolean;
  present: boolean;
  first_seen: string;
  last_seen: string;
  rtt_ms: number | null;
  /** identity evidence, when the exporter collects it */
  evidence?: { source: string; value: string; ts?: string }[];
}

export interface EventItem {
  ts: string;
  interface: string;
  kind: string;
  mac: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

export interface InterfaceStatus {
  name: string;
  up: boolean;
  lastSuccessMs: number | null;
  lastError: string | null;
}

/** The latest anomaly result of an interface. */
export interface Anomaly {
  interface: string;
  state: string;
  samples: number;
  ts: number | null;
  score: number | null;
  threshold: number | null;
  anomalous: boolean;
  /** detectors above zero, strongest first */
  detectors: { name: string; value: number }[];
  /** the features that explain the score most, strongest first */
  top: { feature: string; value: number; weight: number }[];
  /** the devices behind the detectors that fire, strongest first (at most a few); since: unix seconds */
  devices: { mac: string; detector: string; weight: number; since: number }[];
}

/** Devices present and anomaly scores per interface, as column arrays (uPlot's layout), times in unix seconds. */
export interface History {
  range: string;
  from: number;
  to: number;
  bucket_seconds: number;
  presence: Record<string, { t: number[]; present: number[] }>;
  anomaly: Record<string, { t: number[]; score: number[]; threshold: (number | null)[]; anomalous: boolean[] }>;
}

export interface DeviceDetail {
  device: Device;
  events: EventItem[];
  ip_history: { ip: string; first_seen: number | null; last_seen: number | null; current: boolean }[];
  presence: { from: number; to: number; spans: { from: number; to: number }[] };
  anomaly: Anomaly | null;
}
