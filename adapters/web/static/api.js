// The session and calls to gatehouse's HTTP API (docs/protocol.md). The session token lives
// in an HttpOnly, SameSite=Strict cookie that no script can read (docs/security.md "Browser
// sessions"): a reload keeps the person logged in. Requests that change state carry the
// session's CSRF token, which the login answer and GET /api/me tell this page.

export const session = {user: null, roles: [], csrf: null};

let onSessionEnded = () => {};
export function setSessionEndedHandler(fn) { onSessionEnded = fn; }

export function loggedIn() { return Boolean(session.user); }
export function isOperator() { return session.roles.includes("operator"); }

function forget() {
  session.user = null;
  session.roles = [];
  session.csrf = null;
}

// Calls METHOD PATH with an optional JSON body. Answers {ok, status, data, error} where
// error is {code, message} for refusals and network failures alike.
export async function call(method, path, body, {auth = true, headers = {}} = {}) {
  const init = {method, headers: {...headers}, credentials: "same-origin"};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && session.csrf) init.headers["X-CSRF-Token"] = session.csrf;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    return {ok: false, status: 0, data: null,
            error: {code: "unavailable", message: "The server cannot be reached."}};
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.ok && data && data.ok !== false) return {ok: true, status: res.status, data, error: null};
  const error = (data && data.error) || {code: "internal", message: `HTTP ${res.status}`};
  // A session that expired or was ended elsewhere: back to the login page.
  if (res.status === 401 && auth && loggedIn()) {
    forget();
    onSessionEnded("Your session has ended. Please log in again.");
  }
  return {ok: false, status: res.status, data, error};
}

export async function login(name, password) {
  const r = await call("POST", "/api/sessions", {name, password, cookie: true}, {auth: false});
  if (r.ok) {
    session.user = r.data.user;
    session.roles = r.data.roles || [];
    session.csrf = r.data.csrf;
  }
  return r;
}

// After a reload: the cookie's session, if it is still valid.
export async function restore() {
  const r = await call("GET", "/api/me", undefined, {auth: false});
  if (r.ok) {
    session.user = r.data.user.name;
    session.roles = r.data.user.roles || [];
    session.csrf = r.data.session.csrf;
  }
  return r.ok;
}

export async function logout({everywhere = false} = {}) {
  if (loggedIn()) await call("DELETE", everywhere ? "/api/sessions" : "/api/sessions/current");
  forget();
}

// The address of a stored picture: the cookie authenticates the <img>.
export function pictureUrl(pictureId) { return `/pictures/${encodeURIComponent(pictureId)}`; }

export function enc(s) { return encodeURIComponent(s); }
