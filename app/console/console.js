// zstack-mock console: one form for the operation the server emulates, built from /openapi.json, and
// buttons for the created image's lifecycle (rename, disable/enable, delete, recover, expunge).
//
// Field names, types, descriptions and the example defaults come from the OpenAPI document at run
// time (the same source as /docs), the scenario picker from GET /_mock/scenarios, and the backups
// and backup storages offered from ZStack's query API with the visitor's session. Plain JavaScript,
// no build step, nothing loaded from another host.

const OPERATION_ID = "CreateRootVolumeTemplateFromVolumeBackup";
const EXAMPLE_NAME = "default-fixtures"; // the OpenAPI example that works against the fixtures
const LOGIN_PATH = "/zstack/v1/accounts/login";
const SESSION_PATH = "/zstack/v1/accounts/sessions/";
const BACKUPS_QUERY = "/zstack/v1/volume-backups?limit=100&replyWithCount=true";
const STORAGES_QUERY = "/zstack/v1/backup-storage?limit=100&replyWithCount=true";
const IMAGES_PATH = "/zstack/v1/images/";
const CONTENT_TYPE = "application/json;charset=UTF-8"; // as the documentation's curl sends it
const SESSION_KEY = "zstack-mock-console.session";
const POLL_INTERVAL_MS = 400;
const MAX_POLLS = 1500; // ten minutes at the interval; a job past its apiTimeout fails by itself anyway
// Which fields the query API can offer values for: field name -> kind of resource.
const CHOICES = { backupUuid: "backups", backupStorageUuid: "storages" };
const STATUS_TEXT = {
  200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
  405: "Method Not Allowed", 413: "Content Too Large", 429: "Too Many Requests",
  500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

const $ = (id) => document.getElementById(id);

/** A server path, resolved against the page's own URL: behind a proxy that serves the page at
 * /some/prefix/, the API is reached under the same prefix. */
const serverUrl = (path) => new URL(path.replace(/^\//, ""), document.baseURI).href;

const state = {
  operation: null, // {method, path, pathParams: [...], bodyFields: [...], example: {...}}
  session: "",
  choices: { backups: [], storages: [] },
  edited: new Set(), // fields the visitor changed: loaded choices never overwrite them
  run: 0, // bumped by every call and Cancel, so a superseded poll loop stops
  imageReads: 0, // bumped by every read of the image, so only the latest one is shown
  calling: "", // a lifecycle button's API, named in its verdicts (the create's go unnamed)
  controller: null,
};

// ---------------------------------------------------------------- small helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

function statusLine(status, statusText) {
  return `${status} ${statusText || STATUS_TEXT[status] || ""}`.trim();
}

function shellQuote(text) {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function pretty(text, contentType) {
  if (!text) return "(empty)";
  if (/json/i.test(contentType || "") || /^[[{]/.test(text.trim())) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON after all */ }
  }
  return text;
}

function parseJson(text) {
  try { return JSON.parse(text); } catch { return undefined; }
}

/** Inline Markdown of the OpenAPI descriptions: `code` and **bold**, everything else as text. */
function markdownInline(text) {
  const fragment = document.createDocumentFragment();
  for (const part of text.split(/(`[^`]+`|\*\*[^*]+\*\*)/)) {
    if (part.startsWith("`") && part.endsWith("`") && part.length > 1) fragment.append(el("code", { text: part.slice(1, -1) }));
    else if (part.startsWith("**") && part.endsWith("**") && part.length > 3) fragment.append(el("strong", { text: part.slice(2, -2) }));
    else fragment.append(part);
  }
  return fragment;
}

// ---------------------------------------------------------------- SHA-512

/** The SHA-512 hex digest ZStack's login takes: WebCrypto, or the fallback where the page is not
 * a secure context (plain http on a host other than localhost has no crypto.subtle). */
async function sha512Hex(text) {
  const bytes = new TextEncoder().encode(text);
  if (globalThis.crypto && crypto.subtle) {
    const digest = await crypto.subtle.digest("SHA-512", bytes);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return sha512HexFallback(bytes);
}

const MASK64 = (1n << 64n) - 1n;
let sha512Constants = null;

function integerRoot(n, k) { // floor(n ** (1/k)) for a BigInt n, by Newton's method from above
  const kb = BigInt(k);
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / k));
  for (;;) {
    const y = ((kb - 1n) * x + n / x ** (kb - 1n)) / kb;
    if (y >= x) return x;
    x = y;
  }
}

function constants() { // FIPS 180-4: fractional parts of the square and cube roots of the first primes
  if (sha512Constants) return sha512Constants;
  const primes = [];
  for (let n = 2; primes.length < 80; n++) if (primes.every((p) => n % p)) primes.push(n);
  const K = primes.map((p) => integerRoot(BigInt(p) << 192n, 3) & MASK64);
  const H = primes.slice(0, 8).map((p) => integerRoot(BigInt(p) << 128n, 2) & MASK64);
  sha512Constants = { K, H };
  return sha512Constants;
}

function sha512HexFallback(bytes) {
  const { K, H: initial } = constants();
  const rotr = (x, n) => ((x >> n) | (x << (64n - n))) & MASK64;
  const length = bytes.length;
  const padded = new Uint8Array(Math.ceil((length + 17) / 128) * 128);
  padded.set(bytes);
  padded[length] = 0x80;
  let bits = BigInt(length) * 8n;
  for (let i = padded.length - 1; bits > 0n; i--, bits >>= 8n) padded[i] = Number(bits & 0xffn);
  const H = initial.slice();
  const W = new Array(80);
  for (let block = 0; block < padded.length; block += 128) {
    for (let t = 0; t < 16; t++) {
      let word = 0n;
      for (let b = 0; b < 8; b++) word = (word << 8n) | BigInt(padded[block + t * 8 + b]);
      W[t] = word;
    }
    for (let t = 16; t < 80; t++) {
      const s0 = rotr(W[t - 15], 1n) ^ rotr(W[t - 15], 8n) ^ (W[t - 15] >> 7n);
      const s1 = rotr(W[t - 2], 19n) ^ rotr(W[t - 2], 61n) ^ (W[t - 2] >> 6n);
      W[t] = (W[t - 16] + s0 + W[t - 7] + s1) & MASK64;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let t = 0; t < 80; t++) {
      const S1 = rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n);
      const ch = (e & f) ^ ((e ^ MASK64) & g);
      const t1 = (h + S1 + ch + K[t] + W[t]) & MASK64;
      const S0 = rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) & MASK64;
      [h, g, f, e, d, c, b, a] = [g, f, e, (d + t1) & MASK64, c, b, a, (t1 + t2) & MASK64];
    }
    [a, b, c, d, e, f, g, h].forEach((value, i) => { H[i] = (H[i] + value) & MASK64; });
  }
  return H.map((word) => word.toString(16).padStart(16, "0")).join("");
}

// ---------------------------------------------------------------- the operation, from OpenAPI

function resolve(document, schema) {
  let current = schema || {};
  while (current.$ref) {
    const target = current.$ref.replace(/^#\//, "").split("/").reduce((node, key) => node[key], document);
    current = { ...target, ...current, $ref: undefined };
  }
  return current;
}

/** The field's kind for the form: string, enum (with values), boolean, array, object. */
function kindOf(document, schema) {
  const resolved = resolve(document, schema);
  const variants = (resolved.anyOf || [resolved]).map((s) => resolve(document, s)).filter((s) => s.type !== "null");
  const main = variants[0] || {};
  if (main.enum) return { kind: "enum", values: main.enum, maxLength: main.maxLength };
  if (main.type === "boolean") return { kind: "boolean" };
  if (main.type === "array") return { kind: "array" };
  if (main.type === "object" || main.properties) return { kind: "object", schema: main };
  return { kind: "string", maxLength: main.maxLength };
}

function fieldsOf(document, schema, prefix, example) {
  const resolved = resolve(document, schema);
  const required = new Set(resolved.required || []);
  return Object.entries(resolved.properties || {}).map(([name, property]) => {
    const kind = kindOf(document, property);
    const field = {
      name, path: [...prefix, name], required: required.has(name), ...kind,
      description: resolve(document, property).description || "",
      example: example ? example[name] : undefined,
    };
    if (kind.kind === "object") field.fields = fieldsOf(document, kind.schema, field.path, field.example);
    return field;
  });
}

function findOperation(document) {
  for (const [path, methods] of Object.entries(document.paths || {})) {
    for (const [method, operation] of Object.entries(methods)) {
      if (operation && operation.operationId === OPERATION_ID) return { path, method: method.toUpperCase(), operation };
    }
  }
  throw new Error(`the OpenAPI document has no operation ${OPERATION_ID}`);
}

function describeOperation(document) {
  const { path, method, operation } = findOperation(document);
  const content = ((operation.requestBody || {}).content || {})["application/json"] || {};
  const examples = content.examples || {};
  const example = (examples[EXAMPLE_NAME] || Object.values(examples)[0] || {}).value || {};
  return {
    path, method, summary: operation.summary || OPERATION_ID, description: operation.description || "",
    tags: operation.tags || [],
    pathParams: (operation.parameters || []).filter((p) => p.in === "path").map((p) => ({
      name: p.name, path: [p.name], required: true, ...kindOf(document, p.schema),
      description: p.description || (p.schema || {}).description || "",
      example: p.example,
    })),
    bodyFields: fieldsOf(document, content.schema, [], example),
  };
}

// ---------------------------------------------------------------- rendering the form

function fieldId(field, scope) {
  return `${scope}-${field.path.join("-")}`;
}

function exampleText(field) {
  if (field.example === undefined || field.example === null) return "";
  if (field.kind === "array") return field.example.join(", ");
  return String(field.example);
}

function renderField(field, scope) {
  const id = fieldId(field, scope);
  if (field.kind === "object") {
    const set = el("fieldset", { className: "nested", id });
    set.append(el("legend", {}, el("code", { text: field.name }), field.required ? " (required)" : ""));
    if (field.description) set.append(el("p", { className: "hint", text: field.description }));
    for (const child of field.fields) set.append(renderField(child, scope));
    return set;
  }
  const describedBy = [`${id}-description`];
  const hints = [];
  if (field.kind === "array") hints.push("A list: separate the values with commas or spaces.");
  if (field.maxLength) hints.push(`At most ${field.maxLength} characters.`);
  const label = el("label", { for: id },
    el("code", { text: field.name }), " ",
    el("span", { className: "type", text: { enum: "string", array: "list" }[field.kind] || field.kind }),
    field.required ? el("span", { className: "required", text: " required" }) : "");
  let control;
  if (field.kind === "enum" || field.kind === "boolean") {
    control = el("select", { id, name: field.path.join(".") });
    control.append(el("option", { value: "", text: "(not sent)" }));
    for (const value of field.kind === "boolean" ? ["true", "false"] : field.values) control.append(el("option", { value, text: value }));
  } else {
    control = el("input", {
      id, name: field.path.join("."), type: "text", autocomplete: "off", spellcheck: "false", autocapitalize: "off",
      "aria-required": field.required ? "true" : false,
    });
    const kind = CHOICES[field.name];
    if (kind) {
      control.setAttribute("list", `${kind}-choices`);
      describedBy.push(`${id}-match`);
    }
  }
  control.dataset.field = JSON.stringify(field.path);
  control.dataset.kind = field.kind;
  control.value = exampleText(field);
  control.dataset.default = control.value;
  control.setAttribute("aria-describedby", describedBy.join(" "));
  const wrapper = el("div", { className: "field" }, label, control);
  if (CHOICES[field.name]) wrapper.append(el("p", { id: `${id}-match`, className: "match" }));
  wrapper.append(el("p", { id: `${id}-description`, className: "hint description" },
    field.description, hints.length && field.description ? " " : "", hints.join(" ")));
  return wrapper;
}

function renderOperation(operation) {
  const summary = $("operation-summary");
  summary.replaceChildren(
    el("p", { className: "endpoint" }, el("span", { className: "method", text: operation.method }), " ",
      el("code", { text: operation.path })),
    el("p", { className: "operation-id" }, "Operation ", el("code", { text: OPERATION_ID }),
      operation.tags.length ? ` · ${operation.tags.join(", ")}` : ""),
  );
  if (operation.description) {
    const details = el("details", { className: "operation-description" }, el("summary", { text: "About this operation" }));
    for (const paragraph of operation.description.split(/\n\n+/)) details.append(el("p", {}, markdownInline(paragraph)));
    summary.append(details);
  }
  const pathFields = $("path-fields");
  for (const field of operation.pathParams) pathFields.append(renderField(field, "path"));
  const bodyFields = $("body-fields");
  for (const field of operation.bodyFields) bodyFields.append(renderField(field, "body"));
  for (const kind of new Set(Object.values(CHOICES))) document.body.append(el("datalist", { id: `${kind}-choices` }));
}

// ---------------------------------------------------------------- building the request

function controls() {
  return Array.from(document.querySelectorAll("#request-form [data-field]"));
}

function valueOf(control) {
  const raw = control.value.trim();
  if (!raw) return undefined;
  switch (control.dataset.kind) {
    case "boolean": return raw === "true";
    case "array": return raw.split(/[\s,]+/).filter(Boolean);
    default: return control.value;
  }
}

function buildRequest() {
  const operation = state.operation;
  let path = operation.path;
  const body = {};
  for (const control of controls()) {
    const fieldPath = JSON.parse(control.dataset.field);
    const value = valueOf(control);
    if (control.closest("#path-fields")) {
      path = path.replace(`{${fieldPath[0]}}`, encodeURIComponent(value === undefined ? "" : value));
      continue;
    }
    if (value === undefined) continue;
    let target = body;
    for (const key of fieldPath.slice(0, -1)) target = target[key] ||= {};
    target[fieldPath[fieldPath.length - 1]] = value;
  }
  for (const field of operation.bodyFields) { // a required object goes out even when empty
    if (field.kind === "object" && field.required && !(field.name in body)) body[field.name] = {};
  }
  return { method: operation.method, url: serverUrl(path), headers: headersFor(true), body: JSON.stringify(body, null, 2) };
}

/** The headers of every call the page makes for the visitor: the session, the scenario, the mode. */
function headersFor(withBody) {
  const headers = {};
  if (state.session) headers.Authorization = `OAuth ${state.session}`;
  if (withBody) headers["Content-Type"] = CONTENT_TYPE;
  const scenario = $("scenario").value;
  if (scenario) headers["X-Mock-Scenario"] = scenario;
  if ($("mode-async").checked) headers.Prefer = "respond-async";
  return headers;
}

function asHttp(request) {
  const url = new URL(request.url);
  const lines = [`${request.method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
  return `${lines.join("\n")}\n\n${request.body || ""}`;
}

function asCurl(request) {
  const parts = [`curl -i -X ${request.method} ${shellQuote(request.url)}`];
  for (const [name, value] of Object.entries(request.headers)) parts.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  if (request.body !== undefined) parts.push(`-d ${shellQuote(request.body)}`);
  return parts.join(" \\\n  ");
}

function updatePreview() {
  if (!state.operation) return;
  $("preview").textContent = asCurl(buildRequest());
}

// ---------------------------------------------------------------- results

async function readResponse(response) {
  const text = await response.text();
  return {
    status: response.status, statusText: response.statusText, text,
    contentType: response.headers.get("content-type") || "",
    headers: Array.from(response.headers.entries()).map(([k, v]) => `${k}: ${v}`).join("\n"),
    json: parseJson(text),
  };
}

/** One line for the live region: what came back, in ZStack's terms. */
function verdict(answer) {
  const line = statusLine(answer.status, answer.statusText);
  const body = answer.json;
  if (body && body.inventory && body.inventory.uuid) {
    const image = body.inventory;
    return `${line}: ImageInventory ${image.uuid} (${image.name}, ${image.mediaType}, status ${image.status}).`;
  }
  if (body && body.error && body.error.code) {
    const cause = body.error.cause && body.error.cause.code ? ` (cause ${body.error.cause.code})` : "";
    return `${line}: ErrorCode ${body.error.code}${cause}: ${body.error.description}. ${body.error.details || ""}`.trim();
  }
  if (answer.status === 202 && body && body.location) return `${line}: accepted as a job; polling ${body.location}`;
  if (body === undefined && /json/i.test(answer.contentType) && answer.text) {
    return `${line}, but the body is not valid JSON: ${answer.text.slice(0, 200)}`;
  }
  return `${line}${answer.text ? `: ${answer.text.slice(0, 200)}` : ""}`;
}

/** How the verdict is coloured: ok for a 2xx whose body is what it claims to be, else error. */
function tone(answer) {
  const broken = answer.json === undefined && /json/i.test(answer.contentType) && answer.text;
  return answer.status < 300 && !broken ? "ok" : "error";
}

function showAnswer(answer) {
  $("response-status").textContent = statusLine(answer.status, answer.statusText);
  $("response-status").dataset.status = String(answer.status);
  $("response-headers").textContent = answer.headers || "(none)";
  $("response-body").textContent = pretty(answer.text, answer.contentType);
}

function announce(text, tone) {
  const status = $("result-status");
  status.textContent = state.calling ? `${state.calling}: ${text}` : text;
  status.dataset.tone = tone;
}

function pollStep(number, url, answer, elapsedMs) {
  const item = el("li", { className: "poll-step" });
  item.dataset.status = String(answer.status);
  item.append(el("p", {},
    el("span", { className: "elapsed", text: `${(elapsedMs / 1000).toFixed(2)} s` }), " ",
    el("code", { text: `GET ${url}` }), " → ",
    el("strong", { text: statusLine(answer.status, answer.statusText) })));
  const body = pretty(answer.text, answer.contentType);
  if (answer.status === 202 && body.replace(/\s/g, "") === "{}") item.append(el("p", { className: "hint", text: "{} : the job is still running." }));
  else item.append(el("pre", { className: "code", tabindex: "0", "aria-label": `Poll ${number}: body`, text: body }));
  $("poll-steps").append(item);
}

/** Polls a job's location until it ends; resolves to its last answer, or null when polling stopped. */
async function poll(location, run, signal) {
  $("polling").hidden = false;
  const started = performance.now();
  for (let number = 1; number <= MAX_POLLS; number++) {
    await new Promise((done) => setTimeout(done, number === 1 ? 0 : POLL_INTERVAL_MS));
    if (run !== state.run) return null;
    let answer;
    try {
      answer = await readResponse(await fetch(location, { headers: { Accept: "application/json" }, signal }));
    } catch (error) {
      if (run === state.run) announce(`Polling stopped: ${error.message}`, "error");
      return null;
    }
    if (run !== state.run) return null;
    pollStep(number, location, answer, performance.now() - started);
    if (answer.status !== 202) {
      announce(`Job finished after ${number} poll${number === 1 ? "" : "s"}: ${verdict(answer)}`, tone(answer));
      return answer;
    }
  }
  announce(`Stopped polling after ${MAX_POLLS} polls; the job is still running.`, "error");
  return null;
}

/** Sends a request, showing it, its answer and a job's polls under Result (the verdicts named after
 * `api`, when given; with scrollToResult, a narrow screen scrolls down to the result). Resolves to
 * {current, answer}: current is false once a later call or Cancel took over; answer is the final one
 * (the job's, for a job), or null when none came. */
async function exchange(request, { api = "", scrollToResult = true } = {}) {
  const run = ++state.run;
  state.calling = api;
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  $("result-details").hidden = false;
  $("sent-request").textContent = asHttp(request);
  $("sent-curl").textContent = asCurl(request);
  $("response-status").textContent = "Waiting for the answer…";
  delete $("response-status").dataset.status;
  $("response-headers").textContent = "";
  $("response-body").textContent = "";
  $("poll-steps").replaceChildren();
  $("polling").hidden = true;
  $("cancel-button").hidden = false;
  announce(`Sending ${request.method} ${new URL(request.url).pathname}…`, "busy");
  // One column (a narrow screen): the result is below the form, so bring it into view.
  if (scrollToResult && matchMedia("(max-width: 63.99rem)").matches) $("result").scrollIntoView({ block: "start" });
  const outcome = (answer) => ({ current: run === state.run, answer });
  try {
    let answer;
    try {
      answer = await readResponse(await fetch(request.url, {
        method: request.method, headers: request.headers, body: request.body, signal: controller.signal,
      }));
    } catch (error) {
      if (run !== state.run) return outcome(null);
      $("response-status").textContent = "No answer";
      $("response-body").textContent = error.name === "AbortError" ? "Cancelled." : String(error);
      const scenario = request.headers["X-Mock-Scenario"];
      announce(`No HTTP answer (${error.message}): the connection failed or closed without an answer` +
        (scenario ? `, as the scenario ${scenario} makes it.` : "."), "error");
      return outcome(null);
    }
    if (run !== state.run) return outcome(null);
    showAnswer(answer);
    const location = answer.status === 202 && answer.json && answer.json.location;
    announce(verdict(answer), location ? "busy" : tone(answer));
    return outcome(location ? await poll(location, run, controller.signal) : answer);
  } finally {
    if (run === state.run) {
      $("cancel-button").hidden = true;
      state.controller = null;
    }
  }
}

async function send(event) {
  event.preventDefault();
  const { current, answer } = await exchange(buildRequest());
  const image = answer && answer.status === 200 && answer.json && answer.json.inventory;
  if (current && image && image.uuid) {
    $("image-uuid").value = image.uuid;
    imageChosen();
    await showImage(OPERATION_ID, answer);
  }
}

function cancel() {
  state.run++;
  if (state.controller) state.controller.abort();
  state.controller = null;
  $("cancel-button").hidden = true;
  if (!$("response-status").dataset.status) $("response-status").textContent = "No answer: cancelled";
  announce("Cancelled.", "error");
  $("send-button").focus();
}

// ---------------------------------------------------------------- the image's lifecycle

const imageUuid = () => $("image-uuid").value.trim();
const imagePath = (uuid) => IMAGES_PATH + encodeURIComponent(uuid);

/** PUT /images/{uuid}/actions: four APIs share it, the body's key names the one called. */
function imageAction(uuid, body) {
  return { method: "PUT", url: serverUrl(`${imagePath(uuid)}/actions`), headers: headersFor(true), body: JSON.stringify(body, null, 2) };
}

/** The lifecycle's buttons (data-lifecycle): the API each calls and its request for an image. */
const LIFECYCLE = {
  rename: { api: "UpdateImage", request: (uuid) => imageAction(uuid, { updateImage: { name: $("new-name").value } }) },
  disable: { api: "ChangeImageState", request: (uuid) => imageAction(uuid, { changeImageState: { stateEvent: "disable" } }) },
  enable: { api: "ChangeImageState", request: (uuid) => imageAction(uuid, { changeImageState: { stateEvent: "enable" } }) },
  // A DELETE takes its fields from the query string; with none, the defaults (every storage, Permissive).
  delete: { api: "DeleteImage", request: (uuid) => ({ method: "DELETE", url: serverUrl(imagePath(uuid)), headers: headersFor(false) }) },
  recover: { api: "RecoverImage", request: (uuid) => imageAction(uuid, { recoverImage: {} }) },
  expunge: { api: "ExpungeImage", request: (uuid) => imageAction(uuid, { expungeImage: {} }) },
};

/** The buttons act on the image UUID field: with it empty there is nothing to act on. */
function imageChosen() {
  const none = !imageUuid();
  for (const button of document.querySelectorAll("[data-needs-image]")) button.disabled = none;
}

async function runLifecycle(name) {
  const step = LIFECYCLE[name];
  const uuid = imageUuid();
  if (!uuid) return;
  const { current, answer } = await exchange(step.request(uuid), { api: step.api, scrollToResult: false });
  if (current) await showImage(step.api, answer);
}

/** "After X: 200 OK", with ZStack's error code when the call failed. */
function outcomeText(api, answer) {
  if (!answer) return `After ${api} (no answer)`;
  const error = answer.json && answer.json.error;
  return `After ${api} (${statusLine(answer.status, answer.statusText)}${error && error.code ? `, ${error.code}` : ""})`;
}

/** Shows the image as GET /images/{uuid} finds it; `api` and `answer` say what came before. */
async function showImage(api, answer) {
  const uuid = imageUuid();
  if (!uuid) return;
  const read = ++state.imageReads;
  const view = $("image-view");
  const path = imagePath(uuid);
  const before = api ? `${outcomeText(api, answer)}, ` : "";
  view.dataset.tone = "busy";
  $("image-caption").textContent = `${before}reading GET ${path}…`;
  let image;
  try {
    const reply = await query(path);
    image = reply.inventories[0];
  } catch (error) {
    if (read !== state.imageReads) return;
    view.dataset.tone = "error";
    $("image-caption").textContent = `${before}GET ${path} failed: ${error.message}`;
    $("image-facts").hidden = true;
    return;
  }
  if (read !== state.imageReads) return;
  $("image-facts").hidden = !image;
  if (!image) {
    view.dataset.tone = "";
    $("image-caption").textContent = `${before}GET ${path} finds no image: it was expunged, or never made.`;
    return;
  }
  $("image-name").textContent = image.name;
  $("image-status").textContent = image.status;
  $("image-state").textContent = image.state;
  view.dataset.tone = "ok";
  $("image-caption").textContent = `${before}GET ${path} shows:`;
}

// ---------------------------------------------------------------- auth context and choices

function sessionStatus(text, tone) {
  $("session-status").textContent = text;
  $("session-status").dataset.tone = tone;
}

function setSession(uuid) {
  state.session = uuid;
  $("session-uuid").value = uuid;
  try {
    if (uuid) sessionStorage.setItem(SESSION_KEY, uuid);
    else sessionStorage.removeItem(SESSION_KEY);
  } catch { /* storage may be off; the session still works for this page */ }
  updatePreview();
}

function errorText(answer) {
  const error = answer.json && answer.json.error;
  if (error && error.code) return `${error.code}: ${error.description}${error.details ? `. ${error.details}` : ""}`;
  return `${statusLine(answer.status, answer.statusText)}${answer.text ? `: ${answer.text.slice(0, 200)}` : ""}`;
}

async function logIn(event) {
  event.preventDefault();
  const accountName = $("account-name").value.trim();
  sessionStatus(`Logging in as ${accountName}…`, "busy");
  let answer;
  try {
    const password = await sha512Hex($("password").value);
    answer = await readResponse(await fetch(serverUrl(LOGIN_PATH), {
      method: "PUT", headers: { "Content-Type": CONTENT_TYPE },
      body: JSON.stringify({ logInByAccount: { accountName, password } }),
    }));
  } catch (error) {
    sessionStatus(`Login failed: ${error.message}`, "error");
    return;
  }
  if (answer.status !== 200 || !answer.json || !answer.json.inventory) {
    sessionStatus(`Login failed: ${errorText(answer)}`, "error");
    return;
  }
  setSession(answer.json.inventory.uuid);
  await loadChoices(`Logged in as ${accountName}`);
}

async function useSession(event) {
  event.preventDefault();
  setSession($("session-uuid").value.trim());
  if (state.session) await loadChoices("Using the pasted session");
  else { clearChoices(); sessionStatus("No session: requests go out without Authorization.", ""); }
}

async function logOut() {
  const uuid = state.session;
  if (uuid) {
    try { await fetch(serverUrl(SESSION_PATH + encodeURIComponent(uuid)), { method: "DELETE" }); } catch { /* gone anyway */ }
  }
  setSession("");
  clearChoices();
  sessionStatus(uuid ? `Logged out of session ${uuid}.` : "Not logged in.", "");
}

function clearChoices() {
  state.choices = { backups: [], storages: [] };
  renderChoices();
}

async function query(path) {
  const headers = state.session ? { Authorization: `OAuth ${state.session}` } : {};
  const answer = await readResponse(await fetch(serverUrl(path), { headers }));
  if (answer.status !== 200 || !answer.json || !Array.isArray(answer.json.inventories)) throw new Error(errorText(answer));
  return answer.json;
}

async function loadChoices(what) {
  sessionStatus(`${what}; reading volume backups and backup storages…`, "busy");
  let backups;
  let storages;
  try {
    [backups, storages] = await Promise.all([query(BACKUPS_QUERY), query(STORAGES_QUERY)]);
  } catch (error) {
    clearChoices();
    sessionStatus(`${what}, but the session does not work: ${error.message}`, "error");
    return;
  }
  state.choices = { backups: backups.inventories, storages: storages.inventories };
  const count = (reply, noun) => `${reply.total ?? reply.inventories.length} ${noun}`;
  sessionStatus(`${what}: session ${state.session}. It sees ${count(backups, "volume backups")} and ` +
    `${count(storages, "backup storages")}, offered in the fields below.`, "ok");
  renderChoices();
  chooseDefaults();
}

function storageName(uuid) {
  const storage = state.choices.storages.find((s) => s.uuid === uuid);
  return storage ? storage.name : uuid;
}

function describeChoice(kind, item) {
  if (kind === "storages") return `${item.name}: ${item.state}, ${item.status}`;
  const on = (item.backupStorageRefs || []).map((ref) => storageName(ref.backupStorageUuid)).join(", ");
  return `${item.name}: ${item.status}${on ? `, on ${on}` : ""}`;
}

function renderChoices() {
  for (const [kind, items] of Object.entries(state.choices)) {
    const list = $(`${kind}-choices`);
    if (!list) continue;
    list.replaceChildren(...items.map((item) => el("option", { value: item.uuid, label: describeChoice(kind, item) })));
  }
  for (const control of controls()) describeMatch(control);
}

function describeMatch(control) {
  const name = JSON.parse(control.dataset.field).at(-1);
  const kind = CHOICES[name];
  const target = kind && $(`${control.id}-match`);
  if (!target) return;
  const item = state.choices[kind].find((i) => i.uuid === control.value.trim());
  target.textContent = item ? `= ${describeChoice(kind, item)}` : "";
}

function controlFor(name) {
  return controls().find((c) => JSON.parse(c.dataset.field).at(-1) === name);
}

/** Example-driven defaults: keep the example's storage if this session sees it, else the first
 * usable one; then the first Ready backup held by that storage. Fields the visitor edited stay. */
function chooseDefaults() {
  const storageControl = controlFor("backupStorageUuid");
  const backupControl = controlFor("backupUuid");
  const usable = (s) => s.state === "Enabled" && s.status === "Connected";
  let storage = storageControl ? storageControl.value.trim() : "";
  if (storageControl && !state.edited.has(storageControl.id)) {
    const known = state.choices.storages.find((s) => s.uuid === storageControl.dataset.default);
    const chosen = known || state.choices.storages.find(usable) || state.choices.storages[0];
    if (chosen) storageControl.value = chosen.uuid;
    storage = storageControl.value.trim();
  }
  if (backupControl && !state.edited.has(backupControl.id)) {
    const held = (b) => (b.backupStorageRefs || []).some((ref) => ref.backupStorageUuid === storage);
    const ready = (b) => b.status === "Ready" && b.state !== "Disabled";
    const chosen = state.choices.backups.find((b) => ready(b) && held(b)) || state.choices.backups.find(ready);
    if (chosen) backupControl.value = chosen.uuid;
  }
  for (const control of controls()) describeMatch(control);
  updatePreview();
}

function restoreDefaults() {
  state.edited.clear();
  for (const control of controls()) control.value = control.dataset.default;
  $("scenario").value = "";
  $("mode-sync").checked = true;
  showScenario();
  chooseDefaults();
}

// ---------------------------------------------------------------- scenarios and server mode

async function loadScenarios() {
  const select = $("scenario");
  try {
    const answer = await readResponse(await fetch(serverUrl("/_mock/scenarios")));
    if (answer.status !== 200 || !answer.json) throw new Error(errorText(answer));
    for (const scenario of answer.json.scenarios) {
      const option = el("option", { value: scenario.name, text: scenario.name });
      option.dataset.description = scenario.description;
      select.append(option);
    }
  } catch (error) {
    $("scenario-description").textContent = `The scenario catalogue could not be read (${error.message}).`;
  }
}

function showScenario() {
  const option = $("scenario").selectedOptions[0];
  $("scenario-description").textContent = option && option.dataset.description
    ? option.dataset.description
    : "Pick a failure from the server's catalogue: it applies to this one request only.";
}

async function showServer() {
  const parts = [];
  try {
    const health = await (await fetch(serverUrl("/_mock/health"))).json();
    parts.push(`zstack-mock ${health.version}`);
    const sandbox = health.sandbox;
    if (sandbox === true) parts.push("sandbox mode: every session has its own private copy of the fixtures");
    else if (sandbox === false) parts.push("shared inventory: every session sees the same cloud");
  } catch { /* the page works without it */ }
  $("server-info").textContent = parts.length ? parts.join(" · ") : "zstack-mock";
  $("server-info").dataset.sandbox = parts.some((p) => p.startsWith("sandbox")) ? "true" : "false";
}

// ---------------------------------------------------------------- start

async function start() {
  $("login-form").addEventListener("submit", logIn);
  $("session-form").addEventListener("submit", useSession);
  $("logout-button").addEventListener("click", logOut);
  $("request-form").addEventListener("submit", send);
  $("cancel-button").addEventListener("click", cancel);
  $("defaults-button").addEventListener("click", restoreDefaults);
  $("copy-curl").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("sent-curl").textContent);
      $("copy-curl").textContent = "Copied";
    } catch {
      getSelection().selectAllChildren($("sent-curl"));
      $("copy-curl").textContent = "Selected: copy it with Ctrl+C";
    }
    setTimeout(() => { $("copy-curl").textContent = "Copy the curl command"; }, 2000);
  });
  $("image-form").addEventListener("submit", (event) => { event.preventDefault(); showImage(); });
  $("image-uuid").addEventListener("input", imageChosen);
  $("rename-form").addEventListener("submit", (event) => { event.preventDefault(); runLifecycle("rename"); });
  for (const button of document.querySelectorAll("[data-lifecycle]")) {
    button.addEventListener("click", () => runLifecycle(button.dataset.lifecycle));
  }
  imageChosen();
  $("scenario").addEventListener("change", () => { showScenario(); updatePreview(); });
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", updatePreview);
  $("request-form").addEventListener("input", (event) => {
    if (event.target.dataset.field) {
      state.edited.add(event.target.id);
      describeMatch(event.target);
    }
    updatePreview();
  });

  const scenarios = loadScenarios();
  showServer();
  try {
    const document_ = await (await fetch(serverUrl("/openapi.json"))).json();
    state.operation = describeOperation(document_);
    renderOperation(state.operation);
  } catch (error) {
    $("operation-summary").replaceChildren(el("p", { className: "status", "data-tone": "error",
      text: `The API description (/openapi.json) could not be read: ${error.message}` }));
    $("send-button").disabled = true;
    return;
  }
  await scenarios;
  let saved = "";
  try { saved = sessionStorage.getItem(SESSION_KEY) || ""; } catch { /* storage off */ }
  updatePreview();
  document.body.dataset.ready = "true";
  if (saved) {
    setSession(saved);
    await loadChoices("Using the session from before");
  }
}

// For the tests: the fallback digest, to check it against WebCrypto's.
globalThis.zstackMockConsole = { sha512Hex, sha512HexFallback };

start();
