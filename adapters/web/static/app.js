// The gatehouse console: a hash router over the views. #/login, #/register, #/reset,
// #/chat[/ROOM], #/doors[/ID] and #/alerts (operators). The session survives a reload (an
// HttpOnly cookie, api.js); operators see the count of unreviewed stranger alerts in the
// header and the page title, kept live by the doors' event stream (alerts_feed.js).
import {isOperator, loggedIn, logout, restore, session, setSessionEndedHandler} from "./api.js";
import {alertsFeed} from "./alerts_feed.js";
import {renderAlerts} from "./alerts_view.js";
import {renderLogin, renderRegister, renderReset} from "./auth_view.js";
import {renderChat} from "./chat_view.js";
import {renderDoors} from "./doors_view.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const noticeEl = document.getElementById("notice");
const countEl = document.getElementById("alert-count");
let cleanup = () => {};
let pendingNotice = null;
let viewTitle = "gatehouse";

function notify(text) {
  noticeEl.textContent = text;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { noticeEl.textContent = ""; }, 8000);
}

function decode(part) {
  try { return decodeURIComponent(part); } catch (e) { return part; }
}

function showTitle() {
  const n = alertsFeed.unreviewed;
  countEl.hidden = !(loggedIn() && isOperator() && n > 0);
  countEl.textContent = String(n);
  countEl.setAttribute("aria-label", `${n} unreviewed`);
  document.title = loggedIn() && isOperator() && n > 0 ? `(${n}) ${viewTitle}` : viewTitle;
}
alertsFeed.onChange(showTitle);
alertsFeed.onNewAlert((alert) => notify(`Stranger at ${alert.device_name || alert.device}`));

function route() {
  cleanup();
  cleanup = () => {};
  const [view, arg] = location.hash.replace(/^#\/?/, "").split("/").map(decode);
  const inside = loggedIn();
  nav.hidden = !inside;
  document.getElementById("nav-doors").hidden = !(inside && isOperator());
  document.getElementById("nav-alerts").hidden = !(inside && isOperator());
  document.getElementById("whoami").textContent =
      inside ? `${session.user}${isOperator() ? " (operator)" : ""}` : "";
  for (const a of nav.querySelectorAll("a")) {
    if (a.getAttribute("href") === `#/${view}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const onLoggedIn = () => {
    if (isOperator()) alertsFeed.start();
    if (location.hash.startsWith("#/chat")) route(); else location.hash = "#/chat";
  };
  if (!inside) {
    alertsFeed.stop();
    const notice = pendingNotice;
    pendingNotice = null;
    if (view === "register") renderRegister(main, {onLoggedIn});
    else if (view === "reset") {
      renderReset(main, {onDone: (text) => { pendingNotice = text; location.hash = "#/login"; }});
    } else renderLogin(main, {onLoggedIn, notice});
    viewTitle = "gatehouse";
    showTitle();
    return;
  }
  if (view === "doors" && isOperator()) {
    cleanup = renderDoors(main, arg || null, {notify});
    viewTitle = "Doors · gatehouse";
  } else if (view === "alerts" && isOperator()) {
    cleanup = renderAlerts(main, {notify});
    viewTitle = "Alerts · gatehouse";
  } else {
    const room = view === "chat" && arg ? arg : "lobby";
    cleanup = renderChat(main, room, {notify});
    viewTitle = `${room} · gatehouse`;
  }
  showTitle();
}

setSessionEndedHandler((text) => {
  alertsFeed.stop();
  pendingNotice = text;
  if (location.hash === "#/login") route(); else location.hash = "#/login";
});

async function leave(everywhere) {
  cleanup();
  cleanup = () => {};
  alertsFeed.stop();
  await logout({everywhere});
  pendingNotice = everywhere ? "You are logged out on every device." : "You are logged out.";
  if (location.hash === "#/login") route(); else location.hash = "#/login";
}
document.getElementById("logout").addEventListener("click", () => leave(false));
document.getElementById("logout-all").addEventListener("click", () => leave(true));

window.addEventListener("hashchange", route);
restore().then((ok) => {
  if (ok && isOperator()) alertsFeed.start();
  route();
});
