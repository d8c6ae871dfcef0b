// Sends the reply without a page load and shows the customer's answer as soon as the server has
// it. Without this script the form posts and the page reloads: the same conversation either way.
(function () {
  const form = document.getElementById("send");
  if (!form) return;
  const log = document.getElementById("log");
  const box = document.getElementById("text");
  const button = document.getElementById("send-button");
  const status = document.getElementById("status");

  function add(role, text) {
    const div = document.createElement("div");
    div.className = "msg " + role;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "customer" ? "Customer" : "You";
    const p = document.createElement("p");
    p.textContent = text;  // text, never markup
    div.append(who, p);
    log.append(div);
    div.scrollIntoView({block: "end"});
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    button.disabled = true;
    box.disabled = true;
    status.textContent = "The customer is typing…";
    const body = new URLSearchParams(new FormData(form));
    body.set("text", text);
    try {
      const response = await fetch(form.action, {
        method: "POST", body: body,
        headers: {"Accept": "application/json", "X-CSRF-Token": form.elements.csrf.value},
      });
      const data = await response.json();
      if (!response.ok) { status.textContent = data.error || "Not sent."; return; }
      data.turns.forEach(t => add(t.role, t.text));
      box.value = "";
      status.textContent = "";
      if (data.ended) { window.location.reload(); }
    } catch (error) {
      status.textContent = "Not sent: the server did not answer. Try again.";
    } finally {
      button.disabled = false;
      box.disabled = false;
      box.focus();
    }
  });
})();
