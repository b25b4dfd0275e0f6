// Operators: every door, its name first, with one control that follows its state: a locked
// door offers Unlock (after a confirmation), an unlocked one Lock; a moving door shows its
// progress; a door that is offline or not yet heard from cannot be commanded. A door whose
// reported state differs from the desired one (drift) or that is JAMMED stands out. A door's
// timeline lists every event with its name, time and who caused it, and a slider scrubs
// through them in time, showing the door's state after each (rebuilt by the server).
//
// Live updates come through alerts_feed.js (the doors' event stream); while it is not live
// the page polls the device routes every kPollMs.
import {call, enc} from "./api.js";
import {alertsFeed} from "./alerts_feed.js";
import {clear, h, uid, when} from "./dom.js";

const kPollMs = 1500;
const kFinished = new Set(["confirmed", "failed", "timed_out"]);
const kMoving = new Set(["LOCKING", "UNLOCKING"]);

export function renderDoors(main, selected, {notify}) {
  const view = new DoorsView(main, selected, notify);
  view.start();
  return () => view.stop();
}

function doorName(device) { return device.name || device.id; }

// "online", "offline" or "unknown": the presence field when the server has it.
function presence(device) {
  if (typeof device.presence === "string") return device.presence;
  if (device.presence && typeof device.presence.state === "string") return device.presence.state;
  return device.online ? "online" : "offline";
}

// True when the door is not where it should be: the server says it drifts (reported has
// differed from desired for longer than the command's timeout), or a desired state the
// reported one does not match while nothing is in progress.
function drifting(device) {
  if (device.drifting === true) return true;
  return device.desired !== "UNKNOWN" && device.reported !== "UNKNOWN" &&
         device.desired !== device.reported && !device.pending && !kMoving.has(device.reported);
}

function who(cause) {
  return cause && cause.name ? `${cause.name} (${cause.kind.replace("_", " ")})` : cause.kind;
}

class DoorsView {
  constructor(main, selected, notify) {
    this.main = main;
    this.selected = selected;
    this.notify = notify;
    this.timer = null;
    this.rows = new Map();       // device id -> <li>
    this.devices = new Map();    // device id -> last device JSON
    this.progress = new Map();   // device id -> text of the command in progress
    this.stopped = false;
    this.unsubscribe = [];
  }

  start() {
    this.list = h("ul", {class: "door-list", id: "door-rows"});
    this.detail = h("section", {class: "panel detail", id: "door-detail"});
    this.confirm = h("dialog", {class: "confirm", id: "confirm-dialog",
                                "aria-labelledby": "confirm-title"});
    clear(this.main).append(h("div", {class: "doors"},
      h("section", {class: "panel", "aria-labelledby": "doors-title"},
        h("h1", {id: "doors-title"}, "Doors"), this.list, this.addForm()),
      this.detail, this.confirm));
    this.unsubscribe.push(alertsFeed.onStatus((device) => {
      if (device.registered) this.showRow(device);
      if (device.id === this.selected) this.showDetail(device.id, {keepSlider: true});
    }));
    this.refresh().then(() => this.schedulePoll());
    if (this.selected) this.showDetail(this.selected);
  }

  // Provisioning a door (POST /devices): its credential (username = the door's id, a random
  // secret) is shown here once; only a hash of the secret is kept.
  addForm() {
    const id = h("input", {id: "new-door-id", name: "id", required: true, maxlength: 64,
                           autocomplete: "off"});
    const name = h("input", {id: "new-door-name", name: "name", maxlength: 128, autocomplete: "off"});
    const result = h("div", {id: "new-door-result", "aria-live": "polite"});
    const form = h("form", {class: "add-door", "aria-labelledby": "add-door-title"},
      h("h2", {id: "add-door-title"}, "Add a door"),
      h("label", {for: "new-door-id"}, "Door id"), id,
      h("label", {for: "new-door-name"}, "Name"), name,
      h("button", {type: "submit"}, "Add door"), result);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {id: id.value.trim(), type: "lock"};
      if (name.value.trim()) body.name = name.value.trim();
      const r = await call("POST", "/devices", body);
      if (!r.ok) {
        clear(result).append(h("p", {class: "error", role: "alert"}, r.error.message));
        return;
      }
      const credential = r.data.credential || {};
      clear(result).append(
        h("p", {}, `Door ${body.id} added. Give the door this credential; it is shown only now.`),
        h("dl", {class: "credential"},
          h("dt", {}, "Username"), h("dd", {id: "new-door-username"}, credential.username || body.id),
          h("dt", {}, "Secret"), h("dd", {id: "new-door-secret"}, credential.secret || "")));
      form.reset();
      if (r.data.device) this.showRow(r.data.device);
    });
    return form;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const fn of this.unsubscribe) fn();
  }

  schedulePoll() {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(async () => {
      this.timer = null;
      if (!alertsFeed.live) await this.refresh();
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
    if (ids.length === 0 && this.rows.size === 0) {
      clear(this.list).append(h("li", {class: "empty"}, "No door has said hello yet."));
    }
  }

  // The one control of a door: what it offers, or why it offers nothing.
  control(device) {
    const name = doorName(device);
    const here = presence(device);
    const inFlight = this.progress.has(device.id) ||
        (device.pending && !kFinished.has(device.pending.status)) || kMoving.has(device.reported);
    if (here !== "online") {
      return h("button", {type: "button", class: "command-button", disabled: true,
                          "aria-label": `${name} is ${here}: cannot be commanded`},
        here === "offline" ? "Offline" : "Not heard from");
    }
    if (inFlight) {
      const action = device.pending ? device.pending.action : device.reported;
      return h("div", {class: "moving"},
        h("progress", {"aria-label": `${name}: ${action} in progress`}),
        h("span", {}, `${action === "UNLOCK" || action === "UNLOCKING" ? "Unlocking" : "Locking"}…`));
    }
    const locked = device.reported === "LOCKED" ||
        (device.reported === "UNKNOWN" && device.desired === "LOCKED");
    const action = locked ? "unlock" : "lock";
    return h("button", {type: "button", class: `command-button ${action}`,
                        "aria-label": `${locked ? "Unlock" : "Lock"} ${name}`,
                        onclick: () => (locked ? this.askUnlock(device) : this.command(device.id, "lock"))},
      locked ? "Unlock" : "Lock");
  }

  showRow(device) {
    this.devices.set(device.id, device);
    let li = this.rows.get(device.id);
    if (!li) {
      if (this.rows.size === 0) clear(this.list);
      li = h("li", {"data-device": device.id});
      this.rows.set(device.id, li);
      const next = [...this.list.children].find((el) => el.dataset.device > device.id);
      this.list.insertBefore(li, next || null);
    }
    const here = presence(device);
    const drift = drifting(device);
    const jammed = device.reported === "JAMMED";
    li.className = ["door", here, drift ? "drift" : "", jammed ? "jammed" : ""].join(" ").trim();
    const flags = [];
    if (jammed) flags.push(h("strong", {class: "flag flag-jammed"}, "JAMMED"));
    if (drift) {
      flags.push(h("strong", {class: "flag flag-drift"},
        `Not as wanted: should be ${device.desired}, reports ${device.reported}`));
    }
    if (device.unreviewed_alerts > 0) {
      flags.push(h("a", {class: "flag flag-alerts", href: "#/alerts"},
        `${device.unreviewed_alerts} unreviewed alert${device.unreviewed_alerts === 1 ? "" : "s"}`));
    }
    const command = this.progress.get(device.id) ||
        (device.pending ? `${device.pending.action} ${device.pending.status.replace("_", " ")}` : "");
    clear(li).append(
      h("div", {class: "door-head"},
        h("h2", {class: "door-title"}, h("a", {href: `#/doors/${enc(device.id)}`}, doorName(device))),
        h("span", {class: `presence presence-${here}`}, here)),
      h("p", {class: "door-state"},
        h("span", {class: "reported"}, device.reported),
        h("span", {class: "desired"}, `wanted: ${device.desired}`),
        h("span", {class: "seen"}, `last seen ${when(device.last_seen)}`)),
      ...(flags.length ? [h("p", {class: "flags"}, ...flags)] : []),
      h("div", {class: "door-actions"}, this.control(device),
        h("span", {class: "command", "aria-live": "polite"}, command)));
  }

  askUnlock(device) {
    const name = doorName(device);
    const yes = h("button", {type: "button", class: "unlock danger"}, `Unlock ${name}`);
    const no = h("button", {type: "button", class: "quiet"}, "Cancel");
    clear(this.confirm).append(
      h("h2", {id: "confirm-title"}, `Unlock ${name}?`),
      h("p", {}, "Anyone at the door can then open it."),
      h("div", {class: "actions"}, yes, no));
    yes.addEventListener("click", () => { this.confirm.close(); this.command(device.id, "unlock"); });
    no.addEventListener("click", () => this.confirm.close());
    this.confirm.showModal();
    no.focus();
  }

  // Starts LOCK/UNLOCK, then asks again with the same Idempotency-Key and ?wait= until the
  // command is confirmed, failed or timed out, showing each status on the way.
  async command(id, action) {
    const key = crypto.randomUUID();
    const headers = {"Idempotency-Key": key};
    const show = (text) => {
      this.progress.set(id, text);
      const device = this.devices.get(id);
      if (device) this.showRow(device);
    };
    show(`${action.toUpperCase()} requested…`);
    let r = await call("POST", `/devices/${enc(id)}/${action}`, undefined, {headers});
    for (let i = 0; i < 10 && r.ok && !kFinished.has(r.data.command.status); i++) {
      show(`${action.toUpperCase()} ${r.data.command.status}…`);
      r = await call("POST", `/devices/${enc(id)}/${action}?wait=5`, undefined, {headers});
    }
    this.progress.delete(id);
    const device = this.devices.get(id);
    if (device) this.showRow(device);
    const cell = this.rows.get(id)?.querySelector(".command");
    const text = r.ok
      ? `${r.data.command.action} ${r.data.command.status.replace("_", " ")}` +
        (r.data.command.reason ? ` (${r.data.command.reason})` : "")
      : `${action.toUpperCase()} refused: ${r.error.message}`;
    if (cell) cell.textContent = text;
    const fresh = await call("GET", `/devices/${enc(id)}`);
    if (fresh.ok) this.showRow(fresh.data.device);
    const after = this.rows.get(id)?.querySelector(".command");
    if (after) after.textContent = text;
    if (this.selected === id) this.showDetail(id);
  }

  async showDetail(id, {keepSlider = false} = {}) {
    if (keepSlider && this.detail.querySelector("input[type=range]:focus")) return;
    this.selected = id;
    const [r, t] = await Promise.all([call("GET", `/devices/${enc(id)}`),
                                      call("GET", `/devices/${enc(id)}/timeline`)]);
    if (!r.ok) { clear(this.detail).append(h("p", {class: "error"}, r.error.message)); return; }
    const device = r.data.device;
    const entries = t.ok ? t.data.timeline : [];
    const sliderId = uid("scrub");
    const stateOut = h("dl", {class: "state", id: "timeline-state"});
    const showState = (d, label) => {
      clear(stateOut).append(
        h("dt", {}, "Shown"), h("dd", {}, label),
        h("dt", {}, "Reported"), h("dd", {class: "reported"}, d.reported),
        h("dt", {}, "Wanted"), h("dd", {class: "desired"}, d.desired),
        h("dt", {}, "Connection"), h("dd", {}, presence(d)));
    };
    showState(device, "now");
    const last = Math.max(entries.length - 1, 0);
    const slider = h("input", {type: "range", id: sliderId, min: "0", max: String(last),
                               value: String(last), step: "1"});
    const describe = (e) => `${when(e.at)} · ${e.summary}`;
    const sliderValue = h("output", {for: sliderId, id: "scrub-value"},
                          entries.length ? describe(entries[last]) : "no events");
    let seq = 0;
    slider.addEventListener("input", async () => {
      const mine = ++seq;
      const e = entries[Number(slider.value)];
      if (!e) return;
      sliderValue.textContent = describe(e);
      slider.setAttribute("aria-valuetext", describe(e));
      for (const tr of this.detail.querySelectorAll("#timeline tbody tr")) {
        tr.classList.toggle("current", tr.dataset.version === String(e.version));
      }
      const s = await call("GET", `/devices/${enc(id)}?version=${e.version}`);
      if (mine !== seq) return;  // the slider moved on
      if (s.ok) showState(s.data.device, `at ${when(e.at)}, after "${e.summary}"`);
      else clear(stateOut).append(h("p", {class: "error"}, s.error.message));
    });
    const rows = entries.slice().reverse();
    clear(this.detail).append(...[
      h("h2", {}, doorName(device)),
      h("p", {class: "hint"}, `${device.id} · ${device.type || "device"} · firmware ` +
                              `${device.firmware || "unknown"} · registered ${when(device.registered_at)}`),
      h("h3", {}, "Timeline"),
      h("div", {class: "timeline"},
        h("label", {for: sliderId}, "Scrub through its history"), slider, sliderValue),
      stateOut,
      rows.length === 0 ? h("p", {}, "No events yet.") :
        h("div", {class: "table-wrap"}, h("table", {class: "events", id: "timeline"},
          h("caption", {class: "hint"}, "Newest first"),
          h("thead", {}, h("tr", {},
            ...["When", "What", "Event", "Who"].map((x) => h("th", {scope: "col"}, x)))),
          h("tbody", {}, rows.map((e) => h("tr", {"data-version": String(e.version)},
            h("td", {}, h("time", {datetime: e.at}, when(e.at))),
            h("td", {}, e.summary),
            h("td", {class: "event-name"}, e.event),
            h("td", {}, who(e.cause)))))))]);
  }
}
