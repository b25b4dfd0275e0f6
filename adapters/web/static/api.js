// The session and calls to gatehouse's HTTP API (docs/protocol.md). The session token
// lives only in this module's memory: never in a cookie or in storage, so no other page can
// send it (no CSRF) and a reload logs out. Requests carry it as a bearer header.

export const session = {token: null, user: null, roles: []};

let onSessionEnded = () => {};
export function setSessionEndedHandler(fn) { onSessionEnded = fn; }

export function isOperator() { return session.roles.includes("operator"); }

// Calls METHOD PATH with an optional JSON body. Answers {ok, status, data, error} where
// error is {code, message} for refusals and network failures alike.
export async function call(method, path, body, {auth = true, headers = {}} = {}) {
  const init = {method, headers: {...headers}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (auth && session.token) init.headers["Authorization"] = `Bearer ${session.token}`;
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
  if (res.status === 401 && auth && session.token) {
    session.token = null;
    onSessionEnded("Your session has ended. Please log in again.");
  }
  return {ok: false, status: res.status, data, error};
}

export async function login(name, password) {
  const r = await call("POST", "/api/sessions", {name, password}, {auth: false});
  if (r.ok) {
    session.token = r.data.token;
    session.user = r.data.user;
    session.roles = r.data.roles || [];
  }
  return r;
}

export async function logout() {
  if (session.token) await call("DELETE", "/api/sessions/current");
  session.token = null;
  session.user = null;
  session.roles = [];
}

// A picture fetched with the session (an <img> cannot send the header): an object URL.
export async function pictureUrl(pictureId) {
  const res = await fetch(`/pictures/${encodeURIComponent(pictureId)}`,
                          {headers: {Authorization: `Bearer ${session.token}`}});
  if (!res.ok) return null;
  return URL.createObjectURL(await res.blob());
}

export function enc(s) { return encodeURIComponent(s); }
