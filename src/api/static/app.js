// Operator page: reads /api/status and the current book's pages, redraws on
// every server event (SSE) and every 10 s, and sends the operator's actions
// to the API. Text comes from the server's vi/en fields or the table below;
// page content is only ever inserted as text, never as HTML.
"use strict";

const T = {
  vi: {
    title: "Số hóa sổ hộ tịch", loading: "Đang tải…", book: "Sổ đang quét",
    pages_in_book: "Trang trong sổ", cases: "Trường hợp", pages_today: "Trang hôm nay",
    books_today: "Sổ hôm nay", type: "Loại sổ", year: "Năm", number: "Quyển số",
    locality: "Xã/phường", open: "Mở sổ", close: "Đóng sổ", finish: "Hoàn tất sổ", scan: "Quét",
    add: "Thêm ảnh vào cuối sổ", per_case: "Số trang mỗi trường hợp",
    starts: "hoặc trang bắt đầu (1, 3, 7)", set_cases: "Đặt", last_page: "Trang vừa quét",
    no_page: "Chưa có trang nào", scanners: "Máy quét", pages: "Các trang của sổ",
    reports: "Báo cáo tiến độ:", report_text: "tóm tắt hằng ngày",
    report_summary: "CSV gửi huyện", report_csv: "CSV chi tiết",
    no_scanner: "Chưa có máy quét nào. Ảnh đặt vào thư mục watch vẫn được xử lý.",
    page: "Trang", rescan: "Quét lại", cancel_rescan: "Bỏ quét lại", replace: "Thay ảnh",
    insert: "Chèn sau", del: "Xóa", waiting_rescan: "chờ quét lại",
    confirm_delete: "Xóa trang {n}? Ảnh vẫn được giữ trong thùng rác, các trang sau sẽ lùi số.",
    removed_deleted: "đã xóa", removed_replaced: "đã thay", state_spooled: "đang xử lý",
    state_processed: "đang lưu", state_quarantined: "lỗi", no_book_open: "Chưa mở sổ",
    offline: "Mất kết nối với máy chủ sohoa; đang thử lại…", lang: "English",
    ready: "sẵn sàng", scanning: "đang quét", error: "lỗi", case_n: "trường hợp {n}",
    uploaded: "Đã gửi {n} tệp", bad_cases: "Nhập số trang mỗi trường hợp, hoặc danh sách trang bắt đầu như 1, 3, 7",
  },
  en: {
    title: "Civil-status register digitization", loading: "Loading…", book: "Current book",
    pages_in_book: "Pages in book", cases: "Cases", pages_today: "Pages today",
    books_today: "Books today", type: "Register type", year: "Year", number: "Book no.",
    locality: "Locality", open: "Open book", close: "Close book", finish: "Finish book", scan: "Scan",
    add: "Add images at the end", per_case: "Pages per case",
    starts: "or first pages (1, 3, 7)", set_cases: "Set", last_page: "Last page",
    no_page: "No page yet", scanners: "Scanners", pages: "Pages of the book",
    reports: "Progress reports:", report_text: "daily summary",
    report_summary: "CSV for the district", report_csv: "detailed CSV",
    no_scanner: "No scanner yet. Images put in the watch folder are still processed.",
    page: "Page", rescan: "Rescan", cancel_rescan: "Cancel rescan", replace: "Replace",
    insert: "Insert after", del: "Delete", waiting_rescan: "waiting for rescan",
    confirm_delete: "Delete page {n}? The image stays in the trash; later pages move down.",
    removed_deleted: "deleted", removed_replaced: "replaced", state_spooled: "processing",
    state_processed: "filing", state_quarantined: "error", no_book_open: "No book open",
    offline: "Lost the connection to the sohoa server; retrying…", lang: "Tiếng Việt",
    ready: "ready", scanning: "scanning", error: "error", case_n: "case {n}",
    uploaded: "Sent {n} file(s)", bad_cases: "Enter pages per case, or first pages such as 1, 3, 7",
  },
};

let lang = localStorage.getItem("sohoa.lang") === "en" ? "en" : "vi";
let state = null;
let registersLoaded = false;
const $ = (id) => document.getElementById(id);
const t = (key, vars) => {
  let s = (T[lang] && T[lang][key]) || T.vi[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
  return s;
};
const pick = (obj, vi, en) => (lang === "vi" ? obj[vi] || obj[en] : obj[en] || obj[vi]) || "";

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) if (c != null) e.append(c);
  return e;
}

async function api(method, path, body, raw) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    if (raw) {
      opts.body = body;
      opts.headers["Content-Type"] = "application/octet-stream";
    } else {
      opts.body = JSON.stringify(body);
      opts.headers["Content-Type"] = "application/json";
    }
  }
  let r;
  try {
    r = await fetch(path, opts);
  } catch (e) {
    throw { error: T.en.offline, error_vi: T.vi.offline };
  }
  if (r.status === 401) location.href = "/login";
  const ct = r.headers.get("content-type") || "";
  const data = ct.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw typeof data === "object" ? data : { error: String(data) };
  return data;
}

function showError(e) {
  const box = $("error");
  box.textContent = pick(e || {}, "error_vi", "error") || String(e);
  box.hidden = false;
}
function clearError() { $("error").hidden = true; $("error").textContent = ""; }
$("error").addEventListener("click", clearError);

async function act(fn) {
  try {
    const out = await fn();
    clearError();
    await refresh();
    return out;
  } catch (e) {
    showError(e);
  }
}

function applyLang() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((n) => (n.textContent = t(n.dataset.i18n)));
  $("lang").textContent = t("lang");
  render();
}
$("lang").addEventListener("click", () => {
  lang = lang === "vi" ? "en" : "vi";
  localStorage.setItem("sohoa.lang", lang);
  applyLang();
});

async function loadRegisters() {
  if (registersLoaded) return;
  const r = await api("GET", "/api/registers");
  const sel = $("f-type");
  sel.replaceChildren(...r.registers.map((x) => el("option", { value: x.code, textContent: x.code + " — " + x.name })));
  $("f-locality").placeholder = r.locality;
  registersLoaded = true;
}

let pagesCache = null;
async function refresh() {
  try {
    await loadRegisters();
    state = await api("GET", "/api/status");
    pagesCache = state.current ? await api("GET", "/api/books/" + state.current.id + "/pages") : null;
    if ($("error").textContent === T.vi.offline || $("error").textContent === T.en.offline) clearError();
  } catch (e) {
    showError(e);
  }
  render();
}

function render() {
  if (!state) return;
  $("station").textContent = state.station + " · " + state.locality;
  const h = state.headline;
  $("headline").className = "state-" + h.state;
  $("headline-text").textContent = pick(h, "vi", "en");
  const b = state.current;
  $("book-name").textContent = b ? b.name + " · " + b.locality + (b.type_name ? " · " + b.type_name : "") : t("no_book_open");
  $("count-pages").textContent = b ? b.pages : 0;
  $("count-cases").textContent = b ? b.cases : 0;
  $("count-today").textContent = state.today.pages;
  $("count-books-today").textContent = state.today.books_worked;
  renderLast();
  renderWarnings();
  renderScanners();
  renderPages();
}

function renderLast() {
  const p = state.last_page;
  const img = $("last-img");
  if (p) {
    const src = "/api/pages/" + p.id + "/thumb?size=900&v=" + (p.sha256 || "").slice(0, 12);
    if (img.getAttribute("src") !== src) img.src = src;
    img.alt = t("page") + " " + p.seq;
    img.hidden = false;
    $("last-caption").textContent = t("page") + " " + p.seq + (p.archive_path ? " · " + p.archive_path.split("/").pop() : "");
  } else {
    img.hidden = true;
    img.removeAttribute("src");
    $("last-caption").textContent = t("no_page");
  }
}

function warningItem(w, seq) {
  const li = el("li", { className: "warning-" + w.code }, el("span", { textContent: pick(w, "vi", "en") }));
  if (state.current && seq && ["blank", "dark", "cut_off", "unreadable"].includes(w.code)) {
    li.append(el("button", { type: "button", textContent: t("rescan"), onclick: () => rescan(seq) }));
  }
  return li;
}

function renderWarnings() {
  const seq = state.last_page && state.last_page.seq;
  $("warnings").replaceChildren(...state.warnings.map((w) => warningItem(w, seq)));
}

function renderScanners() {
  const list = state.scanners;
  if (!list.length) {
    $("scanners").replaceChildren(el("li", { textContent: t("no_scanner") }));
    return;
  }
  $("scanners").replaceChildren(
    ...list.map((s) => {
      const msg = pick(s, "message_vi", "message_en");
      const what = s.state === "scanning" && s.page ? t("scanning") + " " + t("page").toLowerCase() + " " + s.page : t(s.state);
      return el("li", { className: s.state },
        el("strong", { textContent: s.name }), " ",
        el("span", { textContent: [s.vendor, s.model].filter(Boolean).join(" ") }), " — ",
        el("span", { textContent: what }),
        msg ? el("div", { textContent: msg }) : null,
        s.book ? el("div", { textContent: s.book }) : null);
    }));
}

function renderPages() {
  const box = $("pages");
  if (!pagesCache) { box.replaceChildren(); return; }
  const starts = new Map(pagesCache.cases.map((c) => [c.first, c.case]));
  box.replaceChildren(...pagesCache.pages.filter((p) => p.seq != null || p.state === "quarantined").map((p) => {
    const label = p.seq != null ? t("page") + " " + p.seq : p.source.split("/").pop();
    const meta = [];
    if (p.state !== "filed") meta.push(t("state_" + p.state));
    if (p.rescan) meta.push(t("waiting_rescan"));
    if (starts.has(p.seq)) meta.push(t("case_n", { n: starts.get(p.seq) }));
    const fig = el("figure", { className: "page" + (p.warnings.length ? " warn" : "") + (starts.has(p.seq) ? " case-start" : "") });
    fig.dataset.seq = p.seq;
    if (p.state === "filed") {
      fig.append(el("img", { loading: "lazy", alt: label, src: "/api/pages/" + p.id + "/thumb?size=240&v=" + (p.sha256 || "").slice(0, 12) }));
    }
    fig.append(el("div", { className: "label", textContent: label }));
    fig.append(el("div", { className: "meta", textContent: meta.join(" · ") }));
    for (const w of p.warnings) fig.append(el("div", { className: "meta", textContent: "⚠ " + pick(w, "vi", "en") }));
    if (p.seq != null) {
      const n = p.seq;
      fig.append(el("div", { className: "buttons" },
        p.rescan
          ? el("button", { type: "button", textContent: t("cancel_rescan"), onclick: () => act(() => api("DELETE", path(n) + "/rescan")) })
          : el("button", { type: "button", textContent: t("rescan"), onclick: () => rescan(n) }),
        el("button", { type: "button", textContent: t("replace"), onclick: () => chooseFile((f) => upload("PUT", path(n), f)) }),
        el("button", { type: "button", textContent: t("insert"), onclick: () => chooseFile((f) => upload("POST", path(n) + "/insert-after", f)) }),
        el("button", { type: "button", textContent: t("del"), onclick: () => { if (confirm(t("confirm_delete", { n }))) act(() => api("DELETE", path(n))); } })));
    }
    return fig;
  }));
}

const path = (n) => "/api/books/" + state.current.id + "/pages/" + n;
const rescan = (n) => act(() => api("POST", path(n) + "/rescan"));

function chooseFile(then) {
  const input = $("hidden-file");
  input.value = "";
  input.onchange = () => { if (input.files[0]) then(input.files[0]); };
  input.click();
}

function upload(method, url, file) {
  return act(async () => {
    const buf = await file.arrayBuffer();
    return api(method, url + "?name=" + encodeURIComponent(file.name), buf, true);
  });
}

$("open-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act(() => api("PUT", "/api/current", {
    type: $("f-type").value,
    year: $("f-year").value,
    number: $("f-number").value,
    locality: $("f-locality").value || null,
  }));
});
$("scan-btn").addEventListener("click", () => act(() => api("POST", "/api/scanners/scan")));
$("close-btn").addEventListener("click", () => act(() => api("DELETE", "/api/current")));
$("finish-btn").addEventListener("click", () => state && state.current && act(() => api("POST", "/api/books/" + state.current.id + "/finish")));
$("add-file").addEventListener("change", async (ev) => {
  if (!state || !state.current) return showError({ error: T.en.no_book_open, error_vi: T.vi.no_book_open });
  const files = [...ev.target.files];
  ev.target.value = "";
  for (const f of files) await upload("POST", "/api/books/" + state.current.id + "/pages", f);
});
$("cases-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (!state || !state.current) return;
  const per = $("f-per-case").value.trim();
  const starts = $("f-starts").value.trim();
  let body;
  if (per) body = { pages_per_case: Number(per) };
  else if (starts) body = { starts: starts.split(/[ ,;]+/).filter(Boolean).map(Number) };
  else return showError({ error: T.en.bad_cases, error_vi: T.vi.bad_cases });
  act(() => api("PUT", "/api/books/" + state.current.id + "/cases", body));
});

let pending = null;
function soon() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh(); }, 150);
}
function listen() {
  const es = new EventSource("/api/events");
  es.addEventListener("change", soon);
  es.addEventListener("hello", soon);
}

applyLang();
refresh();
listen();
setInterval(refresh, 10000);
