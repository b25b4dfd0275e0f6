// Operators: every door with desired and reported state, presence (online, offline or
// unknown) and last seen; lock and unlock with the command's progress until it is
// confirmed, fails or times out; a door's audit history; its state at any past moment
// (rebuilt from the log by the server); stranger alerts with their pictures.
//
// Live updates come from GET /api/devices/events (Server-Sent Events: every door's new
// status and every stranger alert). Where that stream is unavailable (503: the server does
// not feed it) or lost, the page polls the device routes every kPollMs instead; then a new
// stranger shows up within that time, and only the latest one of each door per poll.
import {call, enc, pictureUrl, session} from "./api.js";
import {clear, h, uid, when} from "./dom.js";

const kPollMs = 1500;
const kFinished = new Set(["confirmed", "failed", "timed_out"]);

// "online", "offline" or "unknown" (not heard from since gatehouse's broker session began).
function presenceOf(device) {
  return device.presence || (device.online ? "online" : "offline");
}

export function renderDoors(main, selected, {notify}) {
  const view = new DoorsView(main, selected, notify);
  view.start();
  return () => view.stop();
}

class DoorsView {
  constructor(main, selected, notify) {
    this.main = main;
    this.selected = selected;
    this.notify = notify;
    this.timer = null;
    this.rows = new Map();       // device id -> <tr>
    this.progress = new Map();   // device id -> text of the command in progress
    this.alerts = new Set();     // alert ids shown
    this.firstPoll = true;
    this.stopped = false;
    this.events = null;
    this.live = false;  // the event stream is open: no polling
  }

  start() {
    this.body = h("tbody", {id: "door-rows"});
    this.alertList = h("ul", {class: "alerts", id: "alerts", "aria-live": "polite"});
    this.detail = h("section", {class: "detail", id: "door-detail", "aria-live": "polite"});
    clear(this.main).append(h("div", {class: "doors"},
      h("section", {"aria-labelledby": "doors-title"},
        h("h2", {id: "doors-title"}, "Doors"),
        h("div", {class: "table-wrap"},
          h("table", {class: "door-table"},
            h("thead", {}, h("tr", {},
              ...["Door", "Desired", "Reported", "Connection", "Last seen", "Command", "Actions"]
                .map((t) => h("th", {scope: "col"}, t)))),
            this.body))),
      this.detail,
      h("section", {"aria-labelledby": "alerts-title"},
        h("h2", {id: "alerts-title"}, "Stranger alerts"),
        h("p", {class: "hint"}, "New pictures appear here as doors send them."),
        this.alertList)));
    this.refresh().then(() => this.listen());
    if (this.selected) this.showDetail(this.selected);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.events) this.events.close();
    this.events = null;
  }

  listen() {
    if (this.stopped) return;
    const events = new EventSource(`/api/devices/events?token=${enc(session.token)}`);
    this.events = events;
    // After `ready` no update is missed: refresh once, then follow the stream.
    events.addEventListener("ready", () => {
      this.live = true;
      clearTimeout(this.timer);
      this.timer = null;
      this.refresh();
    });
    events.addEventListener("status", (e) => {
      const device = JSON.parse(e.data);
      if (device.registered) this.showRow(device);
    });
    events.addEventListener("stranger", (e) => {
      const alert = JSON.parse(e.data);
      this.showAlert(alert.device, alert);
    });
    events.addEventListener("end", (e) => {
      if (JSON.parse(e.data).reason === "session_ended") events.close();
    });
    events.addEventListener("error", () => {
      // Refused (503) or lost: poll until (if ever) the browser reconnects.
      this.live = false;
      if (events.readyState === EventSource.CLOSED && this.events === events) this.events = null;
      this.schedulePoll();
    });
  }

  schedulePoll() {
    if (this.stopped || this.live || this.timer) return;
    this.timer = setTimeout(async () => {
      await this.refresh();
      this.timer = null;
      this.schedulePoll();
    }, kPollMs);
  }

  async refresh() {
    if (this.stopped) return;
    const ids = [];
    let after = "";
    for (let i = 0; i < 20; i++) {
      const r = await call("GET", `/devices?limit=500${after ? `&after=${enc(after)}` : ""}`);
      if (!r.ok) { this.notify(r.error.message); break; }
      ids.push(...r.data.devices);
      if (!r.data.next) break;
      after = r.data.next;
    }
    const states = await Promise.all(ids.map((id) => call("GET", `/devices/${enc(id)}`)));
    if (this.stopped) return;
    for (const r of states) if (r.ok) this.showRow(r.data.device);
    if (ids.length === 0 && this.body.children.length === 0) {
      this.body.append(h("tr", {}, h("td", {colspan: "7"}, "No door has said hello yet.")));
    }
    for (const r of states) if (r.ok && r.data.device.last_stranger) {
      this.showAlert(r.data.device.id, r.data.device.last_stranger);
    }
    this.firstPoll = false;
  }

  showRow(device) {
    let tr = this.rows.get(device.id);
    if (!tr) {
      if (this.rows.size === 0) clear(this.body);
      tr = h("tr", {"data-device": device.id});
      this.rows.set(device.id, tr);
      const next = [...this.body.children].find((el) => el.dataset.device > device.id);
      this.body.insertBefore(tr, next || null);
    }
    const label = device.name ? `${device.name} (${device.id})` : device.id;
    const pending = device.pending;
    const command = this.progress.get(device.id) ||
        (pending ? `${pending.action} ${pending.status.replace("_", " ")}` : "—");
    clear(tr).append(
      h("th", {scope: "row"}, h("a", {href: `#/doors/${enc(device.id)}`}, label)),
      h("td", {class: "desired", "data-label": "Desired"}, device.desired),
      h("td", {class: "reported", "data-label": "Reported"}, device.reported),
      h("td", {class: presenceOf(device), "data-label": "Connection"}, presenceOf(device)),
      h("td", {"data-label": "Last seen"}, when(device.last_seen)),
      h("td", {class: "command", "aria-live": "polite", "data-label": "Command"}, command),
      h("td", {class: "row-actions"}, h("div", {},
        h("button", {type: "button", class: "lock", "aria-label": `Lock ${device.id}`,
                     onclick: () => this.command(device.id, "lock")}, "Lock"),
        h("button", {type: "button", class: "unlock", "aria-label": `Unlock ${device.id}`,
                     onclick: () => this.command(device.id, "unlock")}, "Unlock"))));
  }

  // Starts LOCK/UNLOCK, then asks again with the same Idempotency-Key and ?wait= until the
  // command is confirmed, failed or timed out, showing each status on the way.
  async command(id, action) {
    const key = crypto.randomUUID();
    const headers = {"Idempotency-Key": key};
    const show = (text) => {
      this.progress.set(id, text);
      const cell = this.rows.get(id)?.querySelector(".command");
      if (cell) cell.textContent = text;
    };
    show(`${action.toUpperCase()} requested…`);
    let r = await call("POST", `/devices/${enc(id)}/${action}`, undefined, {headers});
    for (let i = 0; i < 10 && r.ok && !kFinished.has(r.data.command.status); i++) {
      show(`${action.toUpperCase()} ${r.data.command.status}…`);
      r = await call("POST", `/devices/${enc(id)}/${action}?wait=5`, undefined, {headers});
    }
    if (!r.ok) {
      show(`${action.toUpperCase()} refused: ${r.error.message}`);
    } else {
      const c = r.data.command;
      show(`${c.action} ${c.status.replace("_", " ")}${c.reason ? ` (${c.reason})` : ""}`);
    }
    // The final word stays until the next poll shows the device's own record.
    setTimeout(() => this.progress.delete(id), 4000);
    if (this.selected === id) this.showDetail(id);
  }

  async showAlert(device, stranger) {
    if (this.alerts.has(stranger.alert_id)) return;
    this.alerts.add(stranger.alert_id);
    const img = h("img", {alt: `Stranger at ${device}, ${when(stranger.seen_at)}`});
    const li = h("li", {class: "alert", "data-alert": stranger.alert_id},
      h("figure", {}, img,
        h("figcaption", {}, h("strong", {}, device), " ",
          h("time", {datetime: stranger.seen_at}, when(stranger.seen_at)))));
    this.alertList.prepend(li);
    if (!this.firstPoll) this.notify(`Stranger seen at ${device}`);
    const url = await pictureUrl(stranger.picture_id);
    if (url) img.src = url; else img.alt += " (picture unavailable)";
  }

  async showDetail(id) {
    this.selected = id;
    const r = await call("GET", `/devices/${enc(id)}`);
    if (!r.ok) { clear(this.detail).append(h("p", {class: "error"}, r.error.message)); return; }
    const device = r.data.device;
    const history = await call("GET", `/devices/${enc(id)}/history`);
    const rows = history.ok ? history.data.history.slice().reverse() : [];

    const sliderId = uid("version");
    const atId = uid("at");
    const stateOut = h("dl", {class: "state", id: "timeline-state"});
    const showState = (d, label) => {
      clear(stateOut).append(
        h("dt", {}, "Shown"), h("dd", {}, label),
        h("dt", {}, "Desired"), h("dd", {class: "desired"}, d.desired),
        h("dt", {}, "Reported"), h("dd", {class: "reported"}, d.reported),
        h("dt", {}, "Connection"), h("dd", {}, presenceOf(d)),
        h("dt", {}, "Version"), h("dd", {}, String(d.version)),
        h("dt", {}, "Changed"), h("dd", {}, when(d.updated_at)));
    };
    showState(device, "now");
    const slider = h("input", {type: "range", id: sliderId, min: "1", max: String(device.version),
                               value: String(device.version), step: "1"});
    const sliderValue = h("output", {for: sliderId}, `version ${device.version}`);
    let seq = 0;
    slider.addEventListener("input", async () => {
      const mine = ++seq;
      sliderValue.textContent = `version ${slider.value}`;
      const s = await call("GET", `/devices/${enc(id)}?version=${slider.value}`);
      if (mine !== seq) return;  // the slider moved on
      if (s.ok) showState(s.data.device, `after event ${slider.value}`);
      else clear(stateOut).append(h("p", {class: "error"}, s.error.message));
    });
    const atForm = h("form", {class: "at"},
      h("label", {for: atId}, "State at a moment"),
      h("input", {type: "datetime-local", id: atId, step: "1"}),
      h("button", {type: "submit"}, "Show"));
    atForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const value = atForm.querySelector("input").value;
      if (!value) return;
      const at = new Date(value).toISOString();
      const s = await call("GET", `/devices/${enc(id)}?at=${enc(at)}`);
      if (s.ok) showState(s.data.device, `at ${when(at)}`);
      else clear(stateOut).append(h("p", {class: "error"}, s.error.message));
    });

    clear(this.detail).append(
      h("h2", {}, `Door ${device.name || device.id}`),
      h("p", {}, `${device.type || "device"} · firmware ${device.firmware || "unknown"} · ` +
                 `registered ${when(device.registered_at)}`),
      h("h3", {}, "Timeline"),
      h("div", {class: "timeline"},
        h("label", {for: sliderId}, "Scrub through its history"), slider, sliderValue),
      atForm, stateOut,
      h("h3", {}, "Audit history"),
      rows.length === 0 ? h("p", {}, "No lock command yet.") :
        h("div", {class: "table-wrap"}, h("table", {class: "audit", id: "audit"},
          h("thead", {}, h("tr", {},
            ...["When", "Action", "Who", "Through", "Outcome"].map((t) => h("th", {scope: "col"}, t)))),
          h("tbody", {}, rows.map((c) => h("tr", {},
            h("td", {}, when(c.requested_at)),
            h("td", {}, c.action),
            h("td", {}, `${c.requested_by.name} (${c.requested_by.kind})`),
            h("td", {}, c.requested_by.channel || "—"),
            h("td", {}, `${c.status.replace("_", " ")}${c.reason ? ` (${c.reason})` : ""}`)))))));
  }
}
