// Log in, register (optionally with a security question) and reset a forgotten password.
import {call, login} from "./api.js";
import {clear, field, h} from "./dom.js";

const kMinPassword = 8;

// Words for the refusals people meet here; anything else shows the server's own message.
function explain(r, what) {
  const {code, message} = r.error;
  if (r.status === 0) return message;
  if (what === "login" && r.status === 401) return "Wrong name or password.";
  if (r.status === 429) {
    // "too many attempts; retry in 2 s": this browser's address waits, the account is not locked
    const wait = /retry in (\d+) s/.exec(message);
    const when = wait ? `in ${wait[1]} s` : "in a moment";
    return `Too many attempts from here. Please try again ${when}.`;
  }
  if (what === "register" && code === "already_exists") {
    return "That name is taken. Please choose another one.";
  }
  if (what === "register" && code === "failed_precondition") {
    return "That name belonged to an erased account and cannot be used again.";
  }
  if (what === "reset" && r.status === 401) return "That answer is not right.";
  if (r.status === 503) return "The server is busy. Please try again in a moment.";
  return message;
}

function errorBox() {
  return h("p", {class: "error", role: "alert", "aria-live": "assertive"});
}

function weak(password) {
  return password.length < kMinPassword
      ? `The password is too weak: use at least ${kMinPassword} characters.` : null;
}

function busy(form, on) {
  for (const el of form.querySelectorAll("button, input")) el.disabled = on;
}

export function renderLogin(main, {onLoggedIn, notice}) {
  const error = errorBox();
  const form = h("form", {class: "card", "aria-labelledby": "login-title"},
    h("h2", {id: "login-title"}, "Log in"),
    notice ? h("p", {class: "info"}, notice) : null,
    field("login-name", "Name", {autocomplete: "username", required: true}),
    field("login-password", "Password",
          {type: "password", autocomplete: "current-password", required: true}),
    error,
    h("div", {class: "actions"},
      h("button", {type: "submit", id: "login-submit"}, "Log in"),
      h("a", {href: "#/register"}, "Register"),
      h("a", {href: "#/reset"}, "Forgot your password?")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    busy(form, true);
    const r = await login(form.querySelector("#login-name").value.trim(),
                          form.querySelector("#login-password").value);
    busy(form, false);
    if (!r.ok) { error.textContent = explain(r, "login"); return; }
    onLoggedIn();
  });
  clear(main).append(form);
  form.querySelector("#login-name").focus();
}

export function renderRegister(main, {onLoggedIn}) {
  const error = errorBox();
  const form = h("form", {class: "card", "aria-labelledby": "register-title"},
    h("h2", {id: "register-title"}, "Register"),
    field("reg-name", "Name (letters, digits, . _ -)",
          {autocomplete: "username", required: true, maxlength: 64}),
    field("reg-password", `Password (at least ${kMinPassword} characters)`,
          {type: "password", autocomplete: "new-password", required: true}),
    h("fieldset", {},
      h("legend", {}, "Security question (optional: lets you reset a forgotten password)"),
      field("reg-question", "Question", {maxlength: 256}),
      field("reg-answer", "Answer", {maxlength: 256, autocomplete: "off"})),
    error,
    h("div", {class: "actions"},
      h("button", {type: "submit", id: "register-submit"}, "Register"),
      h("a", {href: "#/login"}, "I have an account")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const name = form.querySelector("#reg-name").value.trim();
    const password = form.querySelector("#reg-password").value;
    const question = form.querySelector("#reg-question").value.trim();
    const answer = form.querySelector("#reg-answer").value;
    const tooWeak = weak(password);
    if (tooWeak) { error.textContent = tooWeak; return; }
    if ((question === "") !== (answer.trim() === "")) {
      error.textContent = "Give both a question and its answer, or neither.";
      return;
    }
    busy(form, true);
    let r = await call("POST", "/api/users", {name, password}, {auth: false});
    if (r.ok) r = await login(name, password);
    if (r.ok && question) {
      r = await call("PUT", "/api/me/security-question", {question, answer, password});
      if (!r.ok) r.error.message = `Registered, but the question was refused: ${r.error.message}`;
    }
    busy(form, false);
    if (!r.ok) { error.textContent = explain(r, "register"); return; }
    onLoggedIn();
  });
  clear(main).append(form);
  form.querySelector("#reg-name").focus();
}

export function renderReset(main, {onDone}) {
  const error = errorBox();
  const questionText = h("p", {id: "reset-question", class: "question"});
  const step2 = h("div", {hidden: true},
    questionText,
    field("reset-answer", "Answer", {autocomplete: "off"}),
    field("reset-password", `New password (at least ${kMinPassword} characters)`,
          {type: "password", autocomplete: "new-password"}));
  const submit = h("button", {type: "submit", id: "reset-submit"}, "Show my question");
  const form = h("form", {class: "card", "aria-labelledby": "reset-title"},
    h("h2", {id: "reset-title"}, "Reset a forgotten password"),
    field("reset-name", "Name", {autocomplete: "username", required: true}),
    step2, error,
    h("div", {class: "actions"}, submit, h("a", {href: "#/login"}, "Back to log in")));
  let user = null;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const name = form.querySelector("#reset-name").value.trim();
    if (user !== name) {
      busy(form, true);
      const r = await call("GET", `/api/users/${encodeURIComponent(name)}/security-question`,
                           undefined, {auth: false});
      busy(form, false);
      if (!r.ok) {
        error.textContent = r.status === 404
            ? "There is no such user, or they have no security question." : explain(r, "reset");
        return;
      }
      user = name;
      questionText.textContent = `Question: ${r.data.question}`;
      step2.hidden = false;
      for (const id of ["reset-answer", "reset-password"]) form.querySelector(`#${id}`).required = true;
      submit.textContent = "Set the new password";
      form.querySelector("#reset-answer").focus();
      return;
    }
    const password = form.querySelector("#reset-password").value;
    const tooWeak = weak(password);
    if (tooWeak) { error.textContent = tooWeak; return; }
    busy(form, true);
    const r = await call("POST", `/api/users/${encodeURIComponent(name)}/password-reset`,
                         {answer: form.querySelector("#reset-answer").value,
                          new_password: password}, {auth: false});
    busy(form, false);
    if (!r.ok) { error.textContent = explain(r, "reset"); return; }
    onDone("Your password was changed. Log in with the new one.");
  });
  // Changing the name starts over at the question.
  form.querySelector("#reset-name").addEventListener("input", () => {
    user = null;
    step2.hidden = true;
    for (const id of ["reset-answer", "reset-password"]) form.querySelector(`#${id}`).required = false;
    submit.textContent = "Show my question";
  });
  clear(main).append(form);
  form.querySelector("#reset-name").focus();
}
