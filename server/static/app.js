// Starts the NHS.UK frontend components (header menu, error summary focus, buttons).
import { initAll } from "/static/nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("nhsuk-frontend-supported");
}
initAll();

// Live preview for the curriculum editor: the server renders exactly what a save would show.
const editor = document.querySelector("textarea[data-preview]");
if (editor) {
  const preview = document.getElementById(editor.dataset.preview);
  const csrf = editor.form.querySelector("input[name=csrf]").value;
  let timer = 0;
  let sent = "";
  const refresh = async () => {
    if (editor.value === sent) return;
    sent = editor.value;
    try {
      const res = await fetch("/curriculum/preview", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf },
        body: new URLSearchParams({ body: editor.value }),
      });
      if (res.ok) {
        preview.innerHTML = await res.text();
        follow();
      }
    } catch {
      // Offline: the preview catches up on the next keystroke; the text is safe in the editor.
    }
  };
  // The preview scrolls with the text area, so the part being written stays in view in both.
  const follow = () => {
    const range = editor.scrollHeight - editor.clientHeight;
    const ratio = range > 0 ? editor.scrollTop / range : 0;
    preview.scrollTop = ratio * (preview.scrollHeight - preview.clientHeight);
  };
  editor.addEventListener("scroll", follow, { passive: true });
  editor.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
}
