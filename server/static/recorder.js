// Records a spoken reflection in the browser: the microphone only, never the camera, into
// a container that the media store accepts (WebM or Ogg with Opus, or MP4 audio).

const containers = [
  ["audio/webm;codecs=opus", "webm"],
  ["audio/webm", "webm"],
  ["audio/ogg;codecs=opus", "ogg"],
  ["audio/ogg", "ogg"],
  ["audio/mp4", "m4a"],
];

function container() {
  for (const [type, ext] of containers) {
    if (MediaRecorder.isTypeSupported(type)) return { type, ext };
  }
  return null;
}

// recorderSupported reports whether this browser can record audio in a container we keep.
export function recorderSupported() {
  return !!(window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && container());
}

// setupRecorder makes button start and stop a recording; status says what is happening,
// and onRecorded(blob, name) receives the recording when it stops.
export function setupRecorder({ button, status, onRecorded }) {
  let recorder = null;
  let stream = null;
  let chunks = [];
  let started = 0;
  let clock = 0;
  const length = () => {
    const s = Math.round((Date.now() - started) / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  };
  const stamp = () => {
    const d = new Date();
    const p = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "-" + p(d.getHours()) + p(d.getMinutes());
  };

  button.addEventListener("click", async () => {
    if (recorder) {
      recorder.stop();
      return;
    }
    const kind = container();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    } catch (e) {
      status.textContent =
        e && e.name === "NotAllowedError"
          ? "The browser was not allowed to use the microphone. Allow it in the site settings of your browser to record."
          : "No microphone could be used, so nothing is being recorded.";
      return;
    }
    chunks = [];
    recorder = new MediaRecorder(stream, { mimeType: kind.type });
    recorder.ondataavailable = (e) => {
      if (e.data && e.data.size) chunks.push(e.data);
    };
    recorder.onstop = async () => {
      clearInterval(clock);
      for (const t of stream.getTracks()) t.stop();
      recorder = null;
      button.textContent = "Start recording";
      button.closest(".recorder")?.classList.remove("recorder--on");
      const blob = new Blob(chunks, { type: kind.type.split(";")[0] });
      chunks = [];
      if (!blob.size) {
        status.textContent = "Nothing was recorded.";
        return;
      }
      status.textContent = "Recording stopped after " + length() + ". Attaching it to the entry…";
      await onRecorded(blob, "reflection-" + stamp() + "." + kind.ext);
    };
    recorder.start(1000);
    started = Date.now();
    button.textContent = "Stop recording";
    button.closest(".recorder")?.classList.add("recorder--on");
    status.textContent = "Recording. Press Stop recording when you have finished.";
    clock = setInterval(() => {
      button.textContent = "Stop recording (" + length() + ")";
    }, 1000);
  });
}
