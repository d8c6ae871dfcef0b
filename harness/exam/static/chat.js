// Sends the reply without a page load, shows that the customer is typing and how long that
// usually takes (the server's median of recent replies), and the customer's answer as soon as
// the server has it. Without this script the form posts and the page reloads: the same
// conversation either way.
(function () {
  const form = document.getElementById("send");
  if (!form) return;
  const log = document.getElementById("log");
  const box = document.getElementById("text");
  const button = document.getElementById("send-button");
  const status = document.getElementById("status");
  const typing = document.getElementById("typing");
  const typingText = document.getElementById("typing-text");
  const note = document.getElementById("wait-note");
  let typical = parseFloat(form.dataset.typicalS);

  // a wait as a person says it (the server's `duration` filter says it the same way)
  function duration(s) {
    if (s < 1) return "under a second";
    return "about " + (s < 90 ? Math.round(s) + " s" : Math.round(s / 60) + " min");
  }

  function add(role, text) {
    const div = document.createElement("div");
    div.className = "msg " + role;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "customer" ? "Customer" : "You";
    const p = document.createElement("p");
    p.textContent = text;  // text, never markup
    div.append(who, p);
    log.insertBefore(div, typing);
    div.scrollIntoView({block: "end"});
    return div;
  }

  function say(message, link) {
    status.className = "status error";
    status.textContent = message;
    if (link) {
      const a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      status.append(" ", a);
    }
  }

  function waiting(started) {
    const so_far = (Date.now() - started) / 1000;
    let text = "is typing…";
    if (!isNaN(typical)) {
      text += so_far < typical * 1.5
        ? " Answers take " + duration(typical) + " right now."
        : " This one is taking longer than usual (" + Math.round(so_far) + " s so far).";
    } else if (so_far > 5) {
      text += " (" + Math.round(so_far) + " s so far)";
    }
    typingText.textContent = text;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) { say("Not sent: your message is empty."); return; }
    button.disabled = true;
    box.disabled = true;
    status.textContent = "";
    status.className = "status";
    const mine = add("agent", text);
    box.value = "";  // it is in the conversation now; it comes back if it was not sent
    const started = Date.now();
    typing.hidden = false;
    waiting(started);
    typing.scrollIntoView({block: "end"});
    const tick = setInterval(function () { waiting(started); }, 1000);
    const body = new URLSearchParams(new FormData(form));
    body.set("text", text);
    let sent = false;
    try {
      const response = await fetch(form.action, {
        method: "POST", body: body,
        headers: {"Accept": "application/json", "X-CSRF-Token": form.elements.csrf.value},
      });
      const json = (response.headers.get("content-type") || "").includes("application/json");
      const data = json ? await response.json() : null;
      if (!response.ok || !data) {
        if (data && data.signin) {
          say(data.error, {href: data.signin, text: "Enter your code"});
        } else if (data && data.error) {
          say(data.error);
        } else {
          say("Not sent: the server answered with an error (HTTP " + response.status +
              "). Wait a moment and send it again.");
        }
        return;
      }
      sent = true;
      data.turns.filter(t => t.role === "customer").forEach(t => add(t.role, t.text));
      if (typeof data.typical_s === "number") {
        typical = data.typical_s;
        if (note) note.textContent = "The customer takes " + duration(typical) +
          " to answer at the moment.";
      }
      if (data.ended) { window.location.reload(); }
    } catch (error) {
      say("Not sent: the server could not be reached. Check your connection and send it again.");
    } finally {
      clearInterval(tick);
      typing.hidden = true;
      if (!sent) { mine.remove(); box.value = text; }
      button.disabled = false;
      box.disabled = false;
      box.focus();
    }
  });
})();
