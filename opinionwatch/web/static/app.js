// OpinionWatch search page: small enhancements over the JSON API. Text from data is only ever set with
// textContent (never innerHTML), and links only when they are http(s).
"use strict";

function csrf() {
  return document.body.dataset.csrf || "";
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status}`);
  }
  return response.json();
}

function safeHref(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : "#";
  } catch (error) {
    return "#";
  }
}

async function showSimilar(button) {
  const story = button.closest(".story");
  const list = story.querySelector(".similar-list");
  list.replaceChildren();
  const items = await api("GET", `/api/similar/${encodeURIComponent(button.dataset.item)}`);
  for (const item of items) {
    const entry = document.createElement("li");
    const link = document.createElement("a");
    link.href = safeHref(item.url);
    link.rel = "noopener noreferrer nofollow";
    link.target = "_blank";
    link.textContent = item.title;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = ` ${item.source} · ${item.language} · ${String(item.published).slice(0, 10)}`;
    entry.append(link, meta);
    list.append(entry);
  }
  if (!items.length) {
    const entry = document.createElement("li");
    entry.textContent = list.dataset.none;
    list.append(entry);
  }
  list.hidden = false;
}

async function sendFeedback(button) {
  await api("POST", "/api/feedback", { item_id: button.dataset.item, kind: button.dataset.kind });
  const done = button.closest(".actions").querySelector(".done");
  done.hidden = false;
  button.disabled = true;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.classList.contains("similar")) {
    showSimilar(button).catch((error) => console.error(error));
  } else if (button.classList.contains("feedback")) {
    sendFeedback(button).catch((error) => console.error(error));
  }
});

document.addEventListener("change", (event) => {
  if (event.target.id === "period" && event.target.value !== "custom") {
    event.target.form.submit();
  }
});
