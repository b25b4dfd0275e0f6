// One live feed of the doors for the whole page: GET /api/devices/events (Server-Sent
// Events, authenticated by the session cookie) gives every door's new status and every
// stranger alert; the count of unreviewed alerts comes from GET /api/alerts. Views subscribe
// instead of opening streams of their own. Where the stream is refused (503) or lost, the
// count is polled every kPollMs and `live` is false, so views can poll too.
import {call, enc} from "./api.js";

const kPollMs = 3000;

class AlertsFeed {
  constructor() {
    this.unreviewed = 0;
    this.live = false;
    this.events = null;
    this.timer = null;
    this.counts = new Map();  // door id -> its unreviewed alerts, as last streamed
    this.listeners = {change: new Set(), alert: new Set(), status: new Set()};
  }

  // fn(): the unreviewed count or the alert list may have changed. Returns an unsubscribe.
  onChange(fn) { return this.add("change", fn); }
  // fn(alert): a new stranger alert, with its door's name.
  onNewAlert(fn) { return this.add("alert", fn); }
  // fn(device): a door's new status (the device JSON).
  onStatus(fn) { return this.add("status", fn); }

  add(kind, fn) {
    this.listeners[kind].add(fn);
    return () => this.listeners[kind].delete(fn);
  }
  emit(kind, value) { for (const fn of [...this.listeners[kind]]) fn(value); }

  start() {
    if (this.events) return;
    this.refresh();
    const events = new EventSource("/api/devices/events");
    this.events = events;
    events.addEventListener("ready", () => {
      this.live = true;
      clearTimeout(this.timer);
      this.timer = null;
      this.refresh();
    });
    events.addEventListener("status", (e) => {
      const device = JSON.parse(e.data);
      this.emit("status", device);
      // A review anywhere changes a door's count of unreviewed alerts.
      const before = this.counts.get(device.id);
      this.counts.set(device.id, device.unreviewed_alerts);
      if (before !== undefined && before !== device.unreviewed_alerts) this.refresh();
    });
    events.addEventListener("stranger", async (e) => {
      const stranger = JSON.parse(e.data);
      const r = await call("GET", `/api/alerts?device=${enc(stranger.device)}&limit=1`);
      const alert = r.ok && r.data.alerts[0] ? r.data.alerts[0] : {...stranger, device_name: ""};
      this.emit("alert", alert);
      this.refresh();
    });
    events.addEventListener("end", (e) => {
      if (JSON.parse(e.data).reason === "session_ended") this.stop();
    });
    events.addEventListener("error", () => {
      this.live = false;
      if (events.readyState === EventSource.CLOSED && this.events === events) this.events = null;
      this.schedulePoll();
    });
  }

  stop() {
    if (this.events) this.events.close();
    this.events = null;
    this.live = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.unreviewed = 0;
    this.emit("change");
  }

  schedulePoll() {
    if (this.live || this.timer) return;
    this.timer = setTimeout(async () => {
      this.timer = null;
      await this.refresh();
      this.schedulePoll();
    }, kPollMs);
  }

  async refresh() {
    const r = await call("GET", "/api/alerts?reviewed=no&limit=1");
    if (!r.ok) return;
    this.unreviewed = r.data.unreviewed;
    this.emit("change");
  }
}

export const alertsFeed = new AlertsFeed();
