// End-to-end test of the web console: the real gatehouse binary on a fresh store, headless
// Chromium (Debian's `chromium`) driven by playwright-core, and a real MQTT client playing
// a door. Writes screenshots of every page at desktop and phone size into --out.
//
//   node console_test.mjs --gatehouse build/server/gatehouse \
//        --ctl build/tools/gatehousectl --out build/browser [--chromium /usr/bin/chromium]
//
// Ends with "browser: N passed, M failed" and exit status 0 only when nothing failed.
import {spawn, execFileSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import {chromium} from "playwright-core";
import mqtt from "mqtt";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) => {
  if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
  return pairs;
}, []));
const gatehouse = args.gatehouse;
const ctl = args.ctl;
const outDir = args.out || path.join(os.tmpdir(), "gatehouse-browser");
const chromiumPath = args.chromium || process.env.CHROMIUM || "/usr/bin/chromium";
if (!gatehouse || !ctl) {
  console.error("usage: node console_test.mjs --gatehouse BIN --ctl BIN [--out DIR]");
  process.exit(2);
}
if (!fs.existsSync(chromiumPath)) {
  console.error(`no Chromium at ${chromiumPath}: run scripts/setup (apt package chromium)`);
  process.exit(1);
}
fs.mkdirSync(outDir, {recursive: true});
const work = fs.mkdtempSync(path.join(os.tmpdir(), "gh-browser-"));
const kWait = 15000;
const kDesktop = {width: 1280, height: 800};
const kPhone = {width: 390, height: 844};

// ---------------------------------------------------------------- the server

let server = null;

// Starts gatehouse on the test's store; resolves {http, broker} from its banner.
function startServer(tag) {
  const log = fs.openSync(path.join(outDir, `gatehouse-${tag}.log`), "w");
  const child = spawn(gatehouse, [
    `--store.path=${work}/store`, `--store.run-dir=${work}/run`,
    "--http.port=0", "--mqtt.port=0", "--auth.bootstrap-token=off",
    "--chat.argon2-ops=1", "--chat.argon2-mem-kib=8",
    // Every page logs in from 127.0.0.1; a long first back-off keeps the throttled step exact.
    "--chat.login-burst-per-source=1000", "--chat.backoff-first-ms=60000",
    "--devices.command-timeout=8000",
  ], {stdio: ["ignore", "pipe", "pipe"]});
  server = child;
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`gatehouse did not start:\n${out}`)), 30000);
    child.stderr.on("data", (d) => { fs.writeSync(log, d); out += d; });
    child.stdout.on("data", (d) => {
      fs.writeSync(log, d);
      out += d;
      if (!out.includes("Ctrl-C stops cleanly")) return;
      clearTimeout(timer);
      const http = out.match(/http\s+(http:\/\/\S+)/)[1];
      const broker = out.match(/broker\s+(tcp:\/\/\S+)/)[1];
      resolve({http, broker: broker.replace("tcp://", "mqtt://")});
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`gatehouse exited ${code}:\n${out}`)); });
  });
}

// Stops gatehouse with SIGTERM; rejects unless it exits with status 0 (a clean stop; under
// the sanitizer build also no leak or other finding at exit).
function stopServer() {
  const child = server;
  server = null;
  const checked = (code, signal) => code === 0 ? Promise.resolve() : Promise.reject(
      new Error(`gatehouse stopped with ${signal || `exit status ${code}`}, not 0: see ${outDir}`));
  if (!child) return Promise.resolve();
  if (child.exitCode !== null || child.signalCode !== null) {
    return checked(child.exitCode, child.signalCode);
  }
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 20000);
    child.on("exit", (code, signal) => { clearTimeout(kill); resolve(checked(code, signal)); });
    child.kill("SIGTERM");
  });
}

async function api(base, method, route, body, token) {
  const headers = {"Content-Type": "application/json"};
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(base + route, {method, headers, body: body && JSON.stringify(body)});
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

// ---------------------------------------------------------------- a door over MQTT

// A 16x16 PNG (a red square), valid enough for Chromium to decode.
function png() {
  const crcTable = Array.from({length: 256}, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const size = 16;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 2;  // 8-bit RGB
  const rows = [];
  for (let y = 0; y < size; y++) {
    rows.push(Buffer.from([0]));
    for (let x = 0; x < size; x++) rows.push(Buffer.from([220, 30, 30]));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0))]);
}

// Connects as door `id` with its credential (user name = id, password = its secret): says
// hello, comes online, and answers every LOCK/UNLOCK by reporting the reached state, as the
// seed's firmware did. Only gatehouse publishes retained messages: the last will is not.
async function startDoor(brokerUrl, id, secret, name) {
  const client = await mqtt.connectAsync(brokerUrl, {clientId: `test-door-${id}`,
    username: id, password: secret,
    will: {topic: `gatehouse/devices/${id}/availability`, payload: "offline", qos: 1, retain: false}});
  const commands = [];
  client.on("message", (topic, payload) => {
    const word = payload.toString();
    commands.push(word);
    const state = word === "LOCK" ? "LOCKED" : word === "UNLOCK" ? "UNLOCKED" : null;
    if (state) setTimeout(() => client.publish(`gatehouse/devices/${id}/state`, state, {qos: 1}), 300);
  });
  await client.subscribeAsync(`gatehouse/devices/${id}/command`, {qos: 1});
  await client.publishAsync(`gatehouse/devices/${id}/hello`,
                            JSON.stringify({type: "lock", name, firmware: "1.0"}), {qos: 1});
  await client.publishAsync(`gatehouse/devices/${id}/availability`, "online", {qos: 1});
  return {client, commands};
}

// ---------------------------------------------------------------- steps and checks

let passed = 0;
let failed = 0;

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL  ${name}\n      ${String(e && e.stack || e).split("\n").join("\n      ")}`);
    throw Object.assign(new Error(`step failed: ${name}`), {reported: true});
  }
}

async function expectText(locator, text, what) {
  try {
    await locator.filter({hasText: text}).first().waitFor({timeout: kWait});
  } catch (e) {
    const seen = await locator.allInnerTexts().catch(() => []);
    throw new Error(`${what}: no "${text}" within ${kWait} ms; saw ${JSON.stringify(seen).slice(0, 600)}`);
  }
}

// Screenshots of `page` as it is now, at desktop and at phone size.
async function shoot(page, name) {
  const size = page.viewportSize();
  for (const [label, viewport] of [["desktop", kDesktop], ["phone", kPhone]]) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(100);
    await page.screenshot({path: path.join(outDir, `${name}-${label}.png`), fullPage: true});
  }
  await page.setViewportSize(size);
}

async function register(page, name, password, {question, answer} = {}) {
  await page.goto("/#/register");
  await page.getByLabel("Name (letters, digits, . _ -)").fill(name);
  await page.getByLabel(/^Password/).fill(password);
  if (question) {
    await page.getByLabel("Question", {exact: true}).fill(question);
    await page.getByLabel("Answer", {exact: true}).fill(answer);
  }
  await page.getByRole("button", {name: "Register"}).click();
}

async function login(page, name, password) {
  await page.goto("/#/login");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", {name: "Log in"}).click();
}

function messages(page) { return page.locator("#messages li.message"); }
function message(page, text) { return messages(page).filter({hasText: text}); }

// ---------------------------------------------------------------- the run

let browser = null;
let door = null;
let door2 = null;
try {
  let urls = null;
  await step("start gatehouse and register the operator; grant the role with gatehousectl", async () => {
    urls = await startServer("first");
    await api(urls.http, "POST", "/api/users", {name: "olga", password: "operator pass"});
    await api(urls.http, "POST", "/api/users", {name: "carol", password: "carol's pass"});
    await stopServer();
    execFileSync(ctl, ["--store", `${work}/store`, "user", "grant", "olga", "operator", "--as", "test"],
                 {stdio: "pipe"});
    urls = await startServer("second");
  });

  browser = await chromium.launch({executablePath: chromiumPath, headless: true,
                                   args: ["--no-sandbox", "--disable-dev-shm-usage"]});
  const desktop = await browser.newContext({baseURL: urls.http, viewport: kDesktop});
  const phone = await browser.newContext({baseURL: urls.http, viewport: kPhone, isMobile: true,
                                          hasTouch: true});
  const alice = await desktop.newPage();
  const bob = await phone.newPage();
  const pageErrors = [];
  for (const p of [alice, bob]) p.on("pageerror", (e) => pageErrors.push(String(e)));

  await step("the console is served at / with a strict CSP and no outside resources", async () => {
    const res = await alice.goto("/");
    const headers = res.headers();
    if (!headers["content-security-policy"]?.includes("default-src 'self'")) {
      throw new Error(`CSP: ${headers["content-security-policy"]}`);
    }
    if (headers["x-content-type-options"] !== "nosniff") throw new Error("no nosniff");
    await alice.getByRole("heading", {name: "Log in"}).waitFor({timeout: kWait});
    const external = await alice.evaluate(() => [...document.querySelectorAll("script[src],link[href]")]
      .map((e) => e.src || e.href).filter((u) => !u.startsWith(location.origin)));
    if (external.length) throw new Error(`outside resources: ${external}`);
    await shoot(alice, "login");
    // Revalidation by ETag, JSON 404 for a file the console lacks, the seed's route intact.
    const js = await fetch(`${urls.http}/web/app.js`);
    if (js.status !== 200 || !js.headers.get("content-type").startsWith("text/javascript")) {
      throw new Error(`app.js: ${js.status} ${js.headers.get("content-type")}`);
    }
    const again = await fetch(`${urls.http}/web/app.js`, {headers: {"If-None-Match": js.headers.get("etag")}});
    if (again.status !== 304) throw new Error(`If-None-Match: ${again.status}`);
    const missing = await fetch(`${urls.http}/web/nope.js`);
    if (missing.status !== 404 || (await missing.json()).error.code !== "not_found") {
      throw new Error(`missing file: ${missing.status}`);
    }
    const hello = await (await fetch(`${urls.http}/hello`)).json();
    if (hello.message !== "Hello World!") throw new Error(`/hello: ${JSON.stringify(hello)}`);
  });

  await step("registration refuses a weak password and a taken name, with clear messages", async () => {
    await register(alice, "alice", "short");
    await expectText(alice.locator(".error"), "too weak", "weak password");
    await shoot(alice, "register");
    await register(alice, "alice", "alice's secret", {question: "First pet?", answer: "Rex"});
    await alice.getByRole("heading", {name: "lobby"}).waitFor({timeout: kWait});
    await register(bob, "alice", "another secret");
    await expectText(bob.locator(".error"), "taken", "taken name");
    await register(bob, "bob", "bob's secret");
    await bob.getByRole("heading", {name: "lobby"}).waitFor({timeout: kWait});
  });

  await step("two browsers see each other's messages and likes live", async () => {
    await alice.getByLabel("Message", {exact: true}).fill("hello from alice");
    await alice.getByLabel("Message", {exact: true}).press("Enter");
    await expectText(messages(bob), "hello from alice", "bob sees alice's post");
    await bob.getByLabel("Message", {exact: true}).fill("hi alice, bob here");
    await bob.getByRole("button", {name: "Send"}).click();
    await expectText(messages(alice), "hi alice, bob here", "alice sees bob's post");
    await message(bob, "hello from alice").locator("button.like").click();
    await expectText(message(alice, "hello from alice").locator(".likes"), "1", "alice sees bob's like");
    await message(alice, "hi alice").locator("button.like").click();
    await expectText(message(bob, "hi alice").locator(".likes"), "1", "bob sees alice's like");
    await message(bob, "hello from alice").locator("button.like").click();  // unlike
    await expectText(message(alice, "hello from alice").locator(".likes"), "0", "alice sees the unlike");
    await shoot(alice, "chat-lobby");
  });

  await step("a message's author deletes it and it disappears for the other", async () => {
    await alice.getByLabel("Message", {exact: true}).fill("a mistake");
    await alice.getByLabel("Message", {exact: true}).press("Enter");
    await expectText(messages(bob), "a mistake", "bob sees the mistake");
    if (await message(bob, "a mistake").locator("button.delete").count() !== 0) {
      throw new Error("bob may not delete alice's message");
    }
    await message(alice, "a mistake").locator("button.delete").click();
    await message(bob, "a mistake").waitFor({state: "detached", timeout: kWait});
  });

  await step("rooms: create, join, post, leave", async () => {
    await alice.getByLabel("New room").fill("garden");
    await alice.getByRole("button", {name: "Create"}).click();
    await alice.getByRole("heading", {name: "garden"}).waitFor({timeout: kWait});
    await bob.goto("/#/chat/garden");
    await bob.getByRole("button", {name: "Join"}).click();
    await expectText(alice.locator("#room-members"), "bob", "alice sees bob join");
    await bob.getByLabel("Message", {exact: true}).fill("nice garden");
    await bob.getByLabel("Message", {exact: true}).press("Enter");
    await expectText(messages(alice), "nice garden", "alice sees bob's post in garden");
    await shoot(alice, "chat-room");
    await bob.getByRole("button", {name: "Leave"}).click();
    await bob.getByRole("button", {name: "Join"}).waitFor({timeout: kWait});
    await alice.locator("#room-members").filter({hasNotText: "bob"}).waitFor({timeout: kWait});
  });

  await step("history: older pages load while scrolling up", async () => {
    const session = await api(urls.http, "POST", "/api/sessions", {name: "alice", password: "alice's secret"});
    await api(urls.http, "POST", "/api/rooms", {name: "long"}, session.token);
    for (let i = 1; i <= 45; i++) {
      await api(urls.http, "POST", "/api/rooms/long/messages", {text: `line ${i}`}, session.token);
    }
    await alice.goto("/#/chat/long");
    await expectText(messages(alice), "line 45", "newest page");
    const first = await messages(alice).count();
    if (first >= 45) throw new Error(`expected a first page, got ${first} messages`);
    await alice.locator(".scroller").evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event("scroll")); });
    await alice.locator("#messages .text").filter({hasText: /^line 1$/}).waitFor({timeout: kWait});
    const all = await messages(alice).count();
    if (all !== 45) throw new Error(`expected 45 messages after scrolling, got ${all}`);
    const order = await alice.locator("#messages .text").allInnerTexts();
    if (order[0] !== "line 1" || order[44] !== "line 45") throw new Error(`order: ${order}`);
  });

  await step("log out, refuse a wrong password, reset it with the security question", async () => {
    await alice.getByRole("button", {name: "Log out", exact: true}).click();
    await expectText(alice.locator(".info"), "logged out", "logged-out notice");
    await login(alice, "alice", "wrong password");
    await expectText(alice.locator(".error"), "Wrong name or password", "wrong password");
    await alice.goto("/#/reset");
    await alice.getByLabel("Name").fill("alice");
    await alice.getByRole("button", {name: "Show my question"}).click();
    await expectText(alice.locator("#reset-question"), "First pet?", "the question");
    await shoot(alice, "reset");
    await alice.getByLabel("Answer").fill("wrong");
    await alice.getByLabel(/New password/).fill("alice's new secret");
    await alice.getByRole("button", {name: "Set the new password"}).click();
    await expectText(alice.locator(".error"), "not right", "wrong answer");
    await alice.getByLabel("Answer").fill("  rex ");
    await alice.getByRole("button", {name: "Set the new password"}).click();
    await expectText(alice.locator(".info"), "password was changed", "reset done");
    await login(alice, "alice", "alice's new secret");
    await alice.getByRole("heading", {name: "lobby"}).waitFor({timeout: kWait});
  });

  await step("guessing is slowed down, and said so", async () => {
    await bob.getByRole("button", {name: "Log out", exact: true}).click();
    for (let i = 0; i < 3; i++) {
      await login(bob, "carol", `wrong ${i}`);
      await expectText(bob.locator(".error"), "Wrong name or password", "failed login");
    }
    // chat.backoff-after (3): this address must wait before it tries carol again.
    await login(bob, "carol", "carol's pass");
    await expectText(bob.locator(".error"), "Too many attempts", "throttled login");
  });

  const operatorContext = await browser.newContext({baseURL: urls.http, viewport: kDesktop});
  const olga = await operatorContext.newPage();
  olga.on("pageerror", (e) => pageErrors.push(String(e)));

  let token = null;
  await step("an operator logs in, reloads the page and is still logged in", async () => {
    // The operator provisions the door; the answer carries its credential, shown once.
    ({token} = await api(urls.http, "POST", "/api/sessions", {name: "olga", password: "operator pass"}));
    const made = await api(urls.http, "POST", "/devices", {id: "door1"}, token);
    door = await startDoor(urls.broker, "door1", made.credential.secret, "Front door");
    await login(olga, "olga", "operator pass");
    await olga.getByRole("link", {name: "Doors"}).click();
    await olga.getByRole("heading", {name: "Doors"}).waitFor({timeout: kWait});
    await olga.reload();
    await olga.getByRole("heading", {name: "Doors"}).waitFor({timeout: kWait});
    await expectText(olga.locator("#whoami"), "olga", "still logged in after a reload");
    const cookies = await operatorContext.cookies();
    const cookie = cookies.find((c) => c.name === "gh_session");
    if (!cookie || !cookie.httpOnly || cookie.sameSite !== "Strict") {
      throw new Error(`session cookie: ${JSON.stringify(cookie)}`);
    }
    if (await olga.evaluate(() => document.cookie.includes("gh_session"))) {
      throw new Error("the page's scripts can read the session cookie");
    }
  });

  await step("the door's one control locks it; Unlock asks first", async () => {
    const row = olga.locator('li[data-device="door1"]');
    await expectText(row, "online", "door1 online");
    await expectText(row.locator(".door-title"), "Front door", "the door's name first");
    await row.getByRole("button", {name: "Lock Front door", exact: true}).click();
    await expectText(row.locator(".command"), "LOCK confirmed", "lock confirmed");
    await expectText(row.locator(".reported"), "LOCKED", "reported LOCKED");
    if (!door.commands.includes("LOCK")) throw new Error(`door got ${door.commands}`);
    // A locked door offers Unlock, and asks before doing it.
    await row.getByRole("button", {name: "Unlock Front door", exact: true}).click();
    const dialog = olga.locator("#confirm-dialog");
    await expectText(dialog, "Unlock Front door?", "confirmation");
    await shoot(olga, "unlock-confirm");
    await dialog.getByRole("button", {name: "Cancel"}).click();
    if (door.commands.includes("UNLOCK")) throw new Error("cancelled, yet the door got UNLOCK");
    await row.getByRole("button", {name: "Unlock Front door", exact: true}).click();
    await dialog.getByRole("button", {name: "Unlock Front door"}).click();
    await expectText(row.locator(".command"), "UNLOCK confirmed", "unlock confirmed");
    if (!door.commands.includes("UNLOCK")) throw new Error(`door got ${door.commands}`);
  });

  await step("a door that is not where it was asked to be stands out", async () => {
    // Provisioned in the console: the credential is shown once, on the page.
    await olga.locator("#new-door-id").fill("door2");
    await olga.locator("#new-door-name").fill("Back door");
    await olga.getByRole("button", {name: "Add door"}).click();
    await olga.locator("#new-door-secret").waitFor({timeout: kWait});
    await expectText(olga.locator("#new-door-username"), "door2", "the new door's username");
    const secret = (await olga.locator("#new-door-secret").textContent()).trim();
    if (!/^[0-9a-f]{32}$/.test(secret)) throw new Error(`the secret shown: ${secret}`);
    door2 = await startDoor(urls.broker, "door2", secret, "Back door");
    await door2.client.publishAsync("gatehouse/devices/door2/state", "LOCKED", {qos: 1});
    await api(urls.http, "POST", "/devices/door2/unlock?wait=10", undefined, token);
    // Then the back door locks by itself (a key, a hand): wanted UNLOCKED, reports LOCKED.
    await door2.client.publishAsync("gatehouse/devices/door2/state", "LOCKED", {qos: 1});
    const row = olga.locator('li[data-device="door2"]');
    await expectText(row.locator(".flag-drift"), "should be UNLOCKED, reports LOCKED", "drift shown");
    const highlighted = await row.evaluate((el) => el.classList.contains("drift"));
    if (!highlighted) throw new Error("the drifting door is not highlighted");
    const door1 = await olga.locator('li[data-device="door1"]').evaluate((el) => el.classList.contains("drift"));
    if (door1) throw new Error("door1 is where it should be, yet highlighted");
    await shoot(olga, "doors");
  });

  await step("a live stranger alert shows the door's name and the count; enlarge and review it", async () => {
    await olga.getByRole("link", {name: /^Alerts/}).click();
    await olga.getByRole("heading", {name: "Stranger alerts"}).waitFor({timeout: kWait});
    await expectText(olga.locator("#alert-list"), "No alert matches", "no alert yet");
    await door.client.publishAsync("gatehouse/devices/door1/stranger", png(), {qos: 1});
    const card = olga.locator("#alert-list li.alert-card").first();
    await expectText(card, "Front door", "the alert names the door");
    await expectText(olga.locator("#alert-count"), "1", "unreviewed count in the header");
    await olga.waitForFunction(() => document.title.startsWith("(1)"), null, {timeout: kWait});
    await expectText(olga.locator("#notice"), "Stranger at Front door", "notice with the name");
    await card.getByRole("button", {name: /^Enlarge/}).click();
    const dialog = olga.locator("#alert-dialog");
    await olga.waitForFunction(() => {
      const img = document.querySelector("#alert-dialog img");
      return img && img.complete && img.naturalWidth === 16 && img.getBoundingClientRect().width > 200;
    }, null, {timeout: kWait});
    await shoot(olga, "alert-enlarged");
    await dialog.getByRole("button", {name: "Mark reviewed"}).click();
    await olga.locator("#alert-count").waitFor({state: "hidden", timeout: kWait});
    await olga.waitForFunction(() => !document.title.startsWith("("), null, {timeout: kWait});
    await olga.getByLabel("Show").selectOption("yes");
    await expectText(olga.locator("#alert-list"), "Reviewed by olga (user)", "who reviewed it");
    await shoot(olga, "alerts");
  });

  await step("the door's timeline names events, times and who; scrub it by time", async () => {
    await olga.goto("/#/doors/door1");
    const timeline = olga.locator("#timeline");
    await expectText(timeline, "LockCommandRequested", "event names");
    await expectText(timeline, "olga (user)", "who");
    await expectText(timeline, "StrangerAlertReviewed", "the review is in the timeline");
    const slider = olga.getByLabel("Scrub through its history");
    await slider.focus();
    await slider.press("Home");  // keyboard: the first event
    await expectText(olga.locator("#scrub-value"), "provisioned", "the first event");
    await expectText(olga.locator("#timeline-state"), 'after "provisioned"', "state then");
    const reported = await olga.locator("#timeline-state dd.reported").innerText();
    if (reported === "LOCKED") throw new Error("the first event cannot have the door locked");
    const first = await olga.locator("#scrub-value").innerText();
    await slider.press("End");
    await expectText(olga.locator("#timeline-state"), "alert reviewed", "the last event");
    if ((await olga.locator("#scrub-value").innerText()) === first) throw new Error("the time did not move");
    await shoot(olga, "door-detail");
  });

  await step("no serious accessibility violations (axe-core), light and dark", async () => {
    const axeSource = fs.readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
    const pages = [["/#/doors", "Doors"], ["/#/alerts", "Stranger alerts"], ["/#/doors/door1", "Timeline"],
                   ["/#/chat", "lobby"]];
    const serious = [];
    for (const scheme of ["light", "dark"]) {
      await olga.emulateMedia({colorScheme: scheme});
      for (const [route, heading] of pages) {
        await olga.goto(route);
        await olga.getByRole("heading", {name: heading}).first().waitFor({timeout: kWait});
        await olga.waitForTimeout(300);
        await olga.evaluate(axeSource);
        const result = await olga.evaluate(() => window.axe.run(document, {resultTypes: ["violations"]}));
        for (const v of result.violations) {
          if (v.impact === "serious" || v.impact === "critical") {
            serious.push(`${scheme} ${route}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
          }
        }
      }
      if (scheme === "dark") await shoot(olga, "doors-dark");
    }
    await olga.emulateMedia({colorScheme: "light"});
    if (serious.length) throw new Error(serious.join("\n"));
  });

  await step("report how the Doors page followed the doors", async () => {
    const metrics = await (await fetch(`${urls.http}/metrics`)).text();
    const live = /route="GET \/api\/devices\/events",outcome="ok"/.test(metrics);
    console.log(`      doors followed through ${live ? "GET /api/devices/events" : "polling (the event stream answered 503)"}`);
  });

  await step("no script errors in any page", async () => {
    if (pageErrors.length) throw new Error(pageErrors.join("\n"));
  });
} catch (e) {
  // step() reported its own failure; anything else is reported here.
  if (!e.reported) {
    failed += 1;
    console.log(`FAIL  ${e && e.stack || e}`);
  }
} finally {
  if (door) await door.client.endAsync().catch(() => {});
  if (door2) await door2.client.endAsync().catch(() => {});
  if (browser) await browser.close().catch(() => {});
  await stopServer().catch((e) => {
    failed += 1;
    console.log(`FAIL  ${e.message}`);
  });
  fs.rmSync(work, {recursive: true, force: true});
}
console.log(`screenshots and server logs: ${outDir}`);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
