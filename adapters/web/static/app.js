// The gatehouse console: a hash router over the views. #/login, #/register, #/reset,
// #/chat[/ROOM], #/doors[/ID] (operators).
import {isOperator, logout, session, setSessionEndedHandler} from "./api.js";
import {renderLogin, renderRegister, renderReset} from "./auth_view.js";
import {renderChat} from "./chat_view.js";
import {renderDoors} from "./doors_view.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const noticeEl = document.getElementById("notice");
let cleanup = () => {};
let pendingNotice = null;

function notify(text) {
  noticeEl.textContent = text;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { noticeEl.textContent = ""; }, 6000);
}

function decode(part) {
  try { return decodeURIComponent(part); } catch (e) { return part; }
}

function route() {
  cleanup();
  cleanup = () => {};
  const [view, arg] = location.hash.replace(/^#\/?/, "").split("/").map(decode);
  const loggedIn = Boolean(session.token);
  nav.hidden = !loggedIn;
  document.getElementById("nav-doors").hidden = !(loggedIn && isOperator());
  document.getElementById("whoami").textContent =
      loggedIn ? `${session.user}${isOperator() ? " (operator)" : ""}` : "";
  for (const a of nav.querySelectorAll("a")) {
    a.setAttribute("aria-current", a.getAttribute("href") === `#/${view}` ? "page" : "false");
  }
  const onLoggedIn = () => {
    if (location.hash.startsWith("#/chat")) route(); else location.hash = "#/chat";
  };
  if (!loggedIn) {
    const notice = pendingNotice;
    pendingNotice = null;
    if (view === "register") renderRegister(main, {onLoggedIn});
    else if (view === "reset") {
      renderReset(main, {onDone: (text) => { pendingNotice = text; location.hash = "#/login"; }});
    } else renderLogin(main, {onLoggedIn, notice});
    document.title = "gatehouse";
    return;
  }
  if (view === "doors" && isOperator()) {
    cleanup = renderDoors(main, arg || null, {notify});
    document.title = "Doors · gatehouse";
  } else {
    const room = view === "chat" && arg ? arg : "lobby";
    cleanup = renderChat(main, room, {notify});
    document.title = `${room} · gatehouse`;
  }
}

setSessionEndedHandler((text) => {
  pendingNotice = text;
  if (location.hash === "#/login") route(); else location.hash = "#/login";
});

document.getElementById("logout").addEventListener("click", async () => {
  cleanup();
  cleanup = () => {};
  await logout();
  pendingNotice = "You are logged out.";
  if (location.hash === "#/login") route(); else location.hash = "#/login";
});

window.addEventListener("hashchange", route);
route();
