"use strict";
// The panel's fault buttons: each posts its fault to /api/fault (see hwsim/faults.py); the unit's
// reaction shows on the LCD and LEDs like any other change.
document.querySelectorAll("button[data-fault]").forEach((button) => {
  button.addEventListener("click", () => {
    const status = document.getElementById("fault-error");
    fetch("/api/fault", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ fault: button.dataset.fault }),
    }).then(async (r) => {
      const reply = await r.json().catch(() => ({ ok: false, error: r.statusText }));
      status.textContent = r.ok ? `${button.dataset.fault}: done` : `${button.dataset.fault}: ${reply.error}`;
    });
  });
});
