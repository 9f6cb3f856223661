// The web chat page (templates/chat.html); a file, not inline, for the Content-Security-Policy.
const log = document.getElementById("log");
const endpoint = document.getElementById("send").dataset.endpoint;  // the page names where messages go
const input = document.getElementById("text");
let sender = localStorage.getItem("tagih-sender");
if (!sender) {
  sender = "web-" + (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
  localStorage.setItem("tagih-sender", sender);
}
function add(text, cls) {
  const div = document.createElement("div");
  div.className = "msg " + cls;
  div.textContent = text;
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
  return div;
}
function addButtons(buttons) {
  const row = document.createElement("div");
  row.className = "buttons";
  for (const b of buttons) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = b.title;
    btn.addEventListener("click", () => { row.remove(); send(b.payload, b.title); });
    row.appendChild(btn);
  }
  log.appendChild(row);
  log.scrollTop = log.scrollHeight;
}
async function send(message, shown) {
  add(shown || message, "user");
  try {
    const res = await fetch(endpoint, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({sender, message}),
    });
    const body = await res.json();
    if (!res.ok) { add(body.detail || ("Error " + res.status), "error"); return; }
    for (const reply of body) {
      if (reply.text) add(reply.text, "bot");
      if (reply.buttons && reply.buttons.length) addButtons(reply.buttons);
    }
  } catch (err) {
    add("Network error: " + err, "error");
  }
}
document.getElementById("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  send(text);
});
