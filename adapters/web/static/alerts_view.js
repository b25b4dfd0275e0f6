// Operators: stranger alerts as history, newest first across every door, with the door's
// name, the time and the picture (GET /api/alerts). A picture opens large in a dialog; an
// alert is marked reviewed with the reviewer's name (POST /devices/{id}/alerts/{alert}/review).
// Filters: door, reviewed or not, and a time window. New alerts and reviews made elsewhere
// arrive live through alerts_feed.js.
import {call, enc, pictureUrl} from "./api.js";
import {alertsFeed} from "./alerts_feed.js";
import {clear, h, when} from "./dom.js";

export function renderAlerts(main, {notify}) {
  const view = new AlertsView(main, notify);
  view.start();
  return () => view.stop();
}

function who(cause) { return cause ? `${cause.name} (${cause.kind.replace("_", " ")})` : ""; }

class AlertsView {
  constructor(main, notify) {
    this.main = main;
    this.notify = notify;
    this.unsubscribe = [];
    this.seq = 0;
  }

  start() {
    this.door = h("select", {id: "filter-door"}, h("option", {value: ""}, "All doors"));
    this.reviewed = h("select", {id: "filter-reviewed"},
      h("option", {value: "no"}, "Not reviewed"),
      h("option", {value: "yes"}, "Reviewed"),
      h("option", {value: "any"}, "All"));
    this.since = h("input", {type: "datetime-local", id: "filter-since", step: "1"});
    this.until = h("input", {type: "datetime-local", id: "filter-until", step: "1"});
    const form = h("form", {class: "filters", "aria-label": "Filter alerts"},
      h("div", {class: "field"}, h("label", {for: "filter-door"}, "Door"), this.door),
      h("div", {class: "field"}, h("label", {for: "filter-reviewed"}, "Show"), this.reviewed),
      h("div", {class: "field"}, h("label", {for: "filter-since"}, "From"), this.since),
      h("div", {class: "field"}, h("label", {for: "filter-until"}, "Until"), this.until));
    form.addEventListener("change", () => this.load());
    form.addEventListener("submit", (e) => { e.preventDefault(); this.load(); });
    this.summary = h("p", {id: "alerts-summary", class: "hint", "aria-live": "polite"});
    this.list = h("ul", {class: "alert-list", id: "alert-list"});
    this.dialog = h("dialog", {class: "enlarged", id: "alert-dialog", "aria-labelledby": "alert-dialog-title"});
    clear(this.main).append(h("section", {class: "panel", "aria-labelledby": "alerts-title"},
      h("h1", {id: "alerts-title"}, "Stranger alerts"), form, this.summary, this.list, this.dialog));
    this.unsubscribe.push(alertsFeed.onChange(() => this.load()));
    this.loadDoors();
    this.load();
  }

  stop() {
    for (const fn of this.unsubscribe) fn();
    this.seq += 1;
  }

  async loadDoors() {
    const r = await call("GET", "/devices?limit=500");
    if (!r.ok) return;
    const names = await Promise.all(r.data.devices.map((id) => call("GET", `/devices/${enc(id)}`)));
    for (const d of names) if (d.ok) {
      const device = d.data.device;
      this.door.append(h("option", {value: device.id}, device.name || device.id));
    }
  }

  query() {
    const params = new URLSearchParams({limit: "100", reviewed: this.reviewed.value});
    if (this.door.value) params.set("device", this.door.value);
    if (this.since.value) params.set("since", new Date(this.since.value).toISOString());
    if (this.until.value) params.set("until", new Date(this.until.value).toISOString());
    return params.toString();
  }

  async load() {
    const mine = ++this.seq;
    const r = await call("GET", `/api/alerts?${this.query()}`);
    if (mine !== this.seq) return;  // a newer load is on its way
    if (!r.ok) { this.summary.textContent = r.error.message; return; }
    const {alerts, matching, unreviewed} = r.data;
    this.summary.textContent = `${matching} matching · ${unreviewed} not reviewed in all`;
    clear(this.list);
    if (alerts.length === 0) this.list.append(h("li", {class: "empty"}, "No alert matches."));
    for (const alert of alerts) this.list.append(this.card(alert));
  }

  card(alert) {
    const door = alert.device_name || alert.device;
    const label = `Stranger at ${door}, ${when(alert.seen_at)}`;
    const picture = alert.picture_id
      ? h("button", {type: "button", class: "thumb", "aria-label": `Enlarge: ${label}`,
                     onclick: () => this.enlarge(alert, label)},
          h("img", {src: pictureUrl(alert.picture_id), alt: label}))
      : h("p", {class: "hint"}, "Picture no longer kept");
    const status = alert.reviewed
      ? h("p", {class: "reviewed"}, `Reviewed by ${who(alert.reviewed_by)} · ${when(alert.reviewed_at)}`)
      : h("button", {type: "button", class: "review", "aria-label": `Mark reviewed: ${label}`,
                     onclick: () => this.review(alert)}, "Mark reviewed");
    return h("li", {class: `alert-card${alert.reviewed ? "" : " unreviewed"}`,
                    "data-alert": alert.alert_id},
      picture,
      h("div", {class: "alert-text"},
        h("p", {class: "door-name"}, door),
        h("p", {}, h("time", {datetime: alert.seen_at}, when(alert.seen_at))),
        status));
  }

  enlarge(alert, label) {
    const close = h("button", {type: "button", onclick: () => this.dialog.close()}, "Close");
    clear(this.dialog).append(
      h("h2", {id: "alert-dialog-title"}, label),
      h("img", {src: pictureUrl(alert.picture_id), alt: label}),
      h("div", {class: "actions"},
        alert.reviewed ? null : h("button", {type: "button", class: "review",
          onclick: async () => { this.dialog.close(); await this.review(alert); }}, "Mark reviewed"),
        close));
    this.dialog.showModal();
    close.focus();
  }

  async review(alert) {
    const r = await call("POST",
      `/devices/${enc(alert.device)}/alerts/${enc(alert.alert_id)}/review`);
    if (!r.ok) { this.notify(r.error.message); return; }
    this.notify(`Alert at ${alert.device_name || alert.device} marked reviewed.`);
    await alertsFeed.refresh();
  }
}
