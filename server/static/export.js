// The export of everything a person holds: started through the API, with its progress,
// and a link to the zip when it is ready. Without the API route (or without JavaScript)
// the form posts to the page, which streams the zip itself.

const form = document.getElementById("export-form");
if (form) {
  const csrf = form.elements.csrf.value;
  const $ = (id) => document.getElementById(id);
  const status = $("export-status");
  const box = $("export-progress-box");
  const bar = $("export-progress");
  const ready = $("export-ready");
  const link = $("export-download");
  const button = $("start-export");
  const headers = { Accept: "application/json", "X-CSRF-Token": csrf };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    ready.hidden = true;
    status.textContent = "Gathering your records…";
    try {
      let res = await fetch("/api/v1/me/exports", { method: "POST", headers });
      if (res.status === 404 || res.status === 405) {
        form.submit();
        return;
      }
      let job = await res.json();
      if (!res.ok) throw new Error(job.error || String(res.status));
      box.hidden = false;
      while (job.state === "running") {
        bar.max = Math.max(job.total, 1);
        bar.value = job.done;
        await sleep(600);
        res = await fetch("/api/v1/me/exports/" + encodeURIComponent(job.id), { headers });
        job = await res.json();
        if (!res.ok) throw new Error(job.error || String(res.status));
      }
      box.hidden = true;
      if (job.state !== "ready") throw new Error("the export did not finish");
      link.href = "/api/v1/me/exports/" + encodeURIComponent(job.id) + "/download";
      ready.hidden = false;
      status.textContent = "Your records are ready: save the zip file. The link works for an hour.";
      link.focus();
    } catch (err) {
      box.hidden = true;
      status.textContent = "The download could not be prepared (" + err.message + "). Try again in a moment.";
    } finally {
      button.disabled = false;
    }
  });
}
