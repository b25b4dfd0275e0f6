// Chat: the rooms, one room's history (older pages load while scrolling up), posting,
// likes, deleting one's own messages, and live updates from the room's Server-Sent Events
// stream (GET /api/rooms/{room}/events, docs/protocol.md).
import {call, enc, session} from "./api.js";
import {clear, field, h, when} from "./dom.js";

const kPage = 30;

// Renders the chat with `roomName` open; returns a function that closes its live stream.
export function renderChat(main, roomName, {notify}) {
  const rooms = h("ul", {class: "rooms", id: "room-list"});
  const roomPanel = h("section", {class: "room", "aria-labelledby": "room-title"});
  const createError = h("p", {class: "error", role: "alert"});
  const createForm = h("form", {class: "create-room"},
    field("new-room", "New room", {required: true, maxlength: 64}),
    h("button", {type: "submit", id: "create-room"}, "Create"),
    createError);
  createForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    createError.textContent = "";
    const name = createForm.querySelector("#new-room").value.trim();
    const r = await call("POST", "/api/rooms", {name});
    if (!r.ok) {
      createError.textContent = r.error.code === "already_exists"
          ? "A room with that name exists already." : r.error.message;
      return;
    }
    location.hash = `#/chat/${enc(name)}`;
  });
  clear(main).append(h("div", {class: "chat"},
    h("nav", {class: "sidebar", "aria-label": "Rooms"},
      h("h2", {}, "Rooms"), rooms, createForm),
    roomPanel));

  loadRooms(rooms, roomName);
  const room = new RoomView(roomPanel, roomName, notify);
  room.open();
  return () => room.close();
}

async function loadRooms(list, current) {
  const names = [];
  let after = "";
  // Every page: the list is small for people, and the cursor keeps it bounded per call.
  for (let i = 0; i < 20; i++) {
    const r = await call("GET", `/api/rooms?limit=500${after ? `&after=${enc(after)}` : ""}`);
    if (!r.ok) return;
    names.push(...r.data.rooms);
    if (!r.data.next) break;
    after = r.data.next;
  }
  clear(list);
  for (const name of names) {
    list.append(h("li", {},
      h("a", {href: `#/chat/${enc(name)}`, "aria-current": name === current ? "page" : null},
        name)));
  }
}

class RoomView {
  constructor(panel, name, notify) {
    this.panel = panel;
    this.name = name;
    this.notify = notify;
    this.events = null;
    this.items = new Map();  // message id -> <li>
    this.nextBefore = null;
    this.loading = false;
  }

  async open() {
    const r = await call("GET", `/api/rooms/${enc(this.name)}`);
    if (!r.ok) {
      clear(this.panel).append(h("h2", {id: "room-title"}, this.name),
                               h("p", {class: "error", role: "alert"}, r.error.message));
      return;
    }
    this.room = r.data.room;
    this.render();
    if (this.isMember()) this.listen();
  }

  close() {
    if (this.events) this.events.close();
    this.events = null;
  }

  isMember() {
    return this.room.creator === null || this.room.members.includes(session.user);
  }

  render() {
    const lobby = this.room.creator === null;
    this.membersText = h("p", {class: "members", id: "room-members"});
    this.updateMembers();
    const header = h("div", {class: "room-head"},
      h("h2", {id: "room-title"}, this.name), this.membersText,
      lobby ? null : this.isMember()
        ? h("button", {type: "button", id: "leave-room", onclick: () => this.leave()}, "Leave")
        : h("button", {type: "button", id: "join-room", onclick: () => this.join()}, "Join"));
    if (!this.isMember()) {
      clear(this.panel).append(header, h("p", {}, "Join this room to read and post."));
      return;
    }
    this.list = h("ol", {class: "messages", id: "messages"});
    this.older = h("button", {type: "button", id: "load-older", class: "link", hidden: true,
                              onclick: () => this.loadOlder()}, "Load older messages");
    this.scroller = h("div", {class: "scroller", role: "log", "aria-label": "Messages",
                              tabindex: "0"}, this.older, this.list);
    this.scroller.addEventListener("scroll", () => {
      if (this.scroller.scrollTop < 60) this.loadOlder();
    });
    const error = h("p", {class: "error", role: "alert"});
    const form = h("form", {class: "post", id: "post-form"},
      h("label", {for: "post-text"}, "Message"),
      h("textarea", {id: "post-text", rows: "2", required: true, maxlength: 4096}),
      h("button", {type: "submit", id: "post-submit"}, "Send"), error);
    const text = form.querySelector("#post-text");
    text.addEventListener("keydown", (e) => {
      // Enter sends, Shift+Enter starts a new line.
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      if (!text.value.trim()) return;
      const r = await call("POST", `/api/rooms/${enc(this.name)}/messages`,
                           {text: text.value, client_msg_id: crypto.randomUUID()});
      if (!r.ok) { error.textContent = r.error.message; return; }
      text.value = "";
      this.add(r.data.message, {scroll: true});
    });
    clear(this.panel).append(header, this.scroller, form);
  }

  updateMembers() {
    if (!this.membersText) return;
    this.membersText.textContent = this.room.creator === null
        ? "Everybody takes part in the lobby."
        : `Members: ${this.room.members.join(", ") || "none"}`;
  }

  listen() {
    const url = `/api/rooms/${enc(this.name)}/events`;
    this.events = new EventSource(url);
    // After `ready` no update is missed: (re)load history then.
    this.events.addEventListener("ready", () => this.reload());
    const onMessage = (e) => this.onUpdate(JSON.parse(e.data));
    for (const kind of ["posted", "liked", "unliked", "deleted", "joined", "left"]) {
      this.events.addEventListener(kind, onMessage);
    }
    this.events.addEventListener("end", (e) => {
      const {reason} = JSON.parse(e.data);
      if (reason === "session_ended" || reason === "left") this.close();
    });
  }

  async reload() {
    this.items.clear();
    clear(this.list);
    this.nextBefore = null;
    await this.loadPage(0);
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  async loadOlder() {
    if (this.nextBefore === null || this.loading) return;
    await this.loadPage(this.nextBefore);
  }

  async loadPage(before) {
    this.loading = true;
    const query = `limit=${kPage}${before ? `&before=${before}` : ""}`;
    const r = await call("GET", `/api/rooms/${enc(this.name)}/messages?${query}`);
    this.loading = false;
    if (!r.ok) { this.notify(r.error.message); return; }
    // Newest first from the server; prepend each so the list reads oldest to newest, and
    // keep what the reader looks at in place.
    const height = this.scroller.scrollHeight;
    for (const message of r.data.messages) this.add(message, {prepend: true});
    this.scroller.scrollTop += this.scroller.scrollHeight - height;
    this.nextBefore = r.data.next_before;
    this.older.hidden = this.nextBefore === null;
  }

  onUpdate(update) {
    const {kind, message, user} = update;
    if (kind === "joined" || kind === "left") {
      const members = new Set(this.room.members);
      if (kind === "joined") members.add(user); else members.delete(user);
      this.room.members = [...members].sort();
      this.updateMembers();
      return;
    }
    if (kind === "deleted") {
      const li = this.items.get(message.id);
      if (li) li.remove();
      this.items.delete(message.id);
      return;
    }
    if (kind === "posted") {
      const nearBottom = this.scroller.scrollHeight - this.scroller.scrollTop -
                         this.scroller.clientHeight < 80;
      this.add(message, {scroll: nearBottom || user === session.user});
      return;
    }
    // liked / unliked: the frame is the same for every viewer; ours is known by `user`.
    const li = this.items.get(message.id);
    if (!li) return;
    const liked = user === session.user ? kind === "liked" : li.dataset.liked === "true";
    this.fill(li, {...message, liked_by_viewer: liked});
  }

  add(message, {prepend = false, scroll = false} = {}) {
    const existing = this.items.get(message.id);
    if (existing) {
      const liked = message.liked_by_viewer ?? existing.dataset.liked === "true";
      this.fill(existing, {...message, liked_by_viewer: liked});
      return;
    }
    const li = h("li", {class: "message", "data-id": message.id});
    this.fill(li, message);
    this.items.set(message.id, li);
    if (prepend) {
      this.list.prepend(li);
    } else {
      // Keep id order even when a frame and an answer race.
      const after = [...this.list.children].find((el) => Number(el.dataset.id) > message.id);
      this.list.insertBefore(li, after || null);
    }
    if (scroll) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  fill(li, message) {
    const liked = Boolean(message.liked_by_viewer);
    li.dataset.liked = String(liked);
    const mine = message.author === session.user;
    clear(li).append(
      h("div", {class: "meta"},
        h("span", {class: "author"}, message.author),
        h("time", {datetime: message.posted_at}, when(message.posted_at))),
      h("p", {class: "text"}, message.text),
      h("div", {class: "msg-actions"},
        h("button", {type: "button", class: "like", "aria-pressed": String(liked),
                     "aria-label": `${liked ? "Unlike" : "Like"} message ${message.id} by ${message.author}`,
                     onclick: () => this.like(message.id, !liked)},
          liked ? "♥ Unlike" : "♡ Like"),
        h("span", {class: "likes", "aria-label": "likes"}, `${message.like_count}`),
        mine ? h("button", {type: "button", class: "delete",
                            "aria-label": `Delete message ${message.id}`,
                            onclick: () => this.remove(message.id)}, "Delete") : null));
  }

  async like(id, on) {
    const r = await call(on ? "PUT" : "DELETE", `/api/rooms/${enc(this.name)}/messages/${id}/like`);
    if (!r.ok) { this.notify(r.error.message); return; }
    const li = this.items.get(id);
    if (li) this.fill(li, r.data.message);
  }

  async remove(id) {
    const r = await call("DELETE", `/api/rooms/${enc(this.name)}/messages/${id}`);
    if (!r.ok) { this.notify(r.error.message); return; }
    const li = this.items.get(id);
    if (li) li.remove();
    this.items.delete(id);
  }

  async join() {
    const r = await call("POST", `/api/rooms/${enc(this.name)}/members`);
    if (!r.ok) { this.notify(r.error.message); return; }
    this.room = r.data.room;
    this.render();
    this.listen();
  }

  async leave() {
    const r = await call("DELETE", `/api/rooms/${enc(this.name)}/members/me`);
    if (!r.ok) { this.notify(r.error.message); return; }
    this.close();
    this.room = r.data.room;
    this.render();
  }
}
