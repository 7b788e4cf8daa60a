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

// vint reads the EBML variable-length integer at p in bytes: an element ID (its length
// marker kept) or a size (marker dropped; all ones, an unknown size, is -1). It returns
// null when the bytes do not hold one.
function vint(bytes, p, id) {
  if (p >= bytes.length || !bytes[p]) return null;
  let length = 1;
  while (!(bytes[p] & (0x80 >> (length - 1)))) length++;
  if (length > 8 || p + length > bytes.length) return null;
  const mask = 0xff >> length;
  let value = id ? bytes[p] : bytes[p] & mask;
  let unknown = !id && value === mask;
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[p + i];
    unknown = unknown && bytes[p + i] === 0xff;
  }
  return { value: unknown ? -1 : value, length };
}

// element reads the EBML element header at p: its ID, size, and where its data starts.
function element(bytes, p) {
  const id = vint(bytes, p, true);
  const size = id && vint(bytes, p + id.length, false);
  return size ? { id: id.value, size: size.value, start: p, data: p + id.length + size.length } : null;
}

// withDuration returns the WebM recording with its length (ms milliseconds) written in.
// MediaRecorder cannot know the length when it writes the Segment Info at the start, so it
// leaves the Duration out, and players then show an unknown length and cannot seek. The
// Info is written again with a Duration added. A file not laid out as MediaRecorder writes
// it (the EBML header, a Segment of unknown size, the Info first, so that no offset moves)
// is kept as it is.
async function withDuration(blob, ms) {
  const head = new Uint8Array(await blob.slice(0, 4096).arrayBuffer());
  const ebml = element(head, 0);
  if (!ebml || ebml.id !== 0x1a45dfa3 || ebml.size < 0) return blob;
  const segment = element(head, ebml.data + ebml.size);
  if (!segment || segment.id !== 0x18538067 || segment.size !== -1) return blob;
  const info = element(head, segment.data);
  if (!info || info.id !== 0x1549a966 || info.size < 0 || info.data + info.size > head.length) return blob;
  let scale = 1000000; // nanoseconds per timecode unit, unless the Info says otherwise
  for (let p = info.data; p < info.data + info.size; ) {
    const child = element(head, p);
    if (!child || child.size < 0) return blob;
    if (child.id === 0x4489) return blob; // it has a Duration already
    if (child.id === 0x2ad7b1) {
      scale = 0;
      for (let i = 0; i < child.size; i++) scale = scale * 256 + head[child.data + i];
    }
    p = child.data + child.size;
  }
  const duration = new Uint8Array(11); // ID 0x4489, size 8, a 64-bit float
  duration.set([0x44, 0x89, 0x88]);
  new DataView(duration.buffer).setFloat64(3, (ms * 1e6) / scale);
  const header = new Uint8Array(12); // ID 0x1549a966 and the new size in 8 bytes
  header.set([0x15, 0x49, 0xa9, 0x66, 0x01]);
  for (let i = 11, v = info.size + duration.length; i >= 5; i--, v = Math.floor(v / 256)) header[i] = v % 256;
  const end = info.data + info.size;
  return new Blob([blob.slice(0, info.start), header, blob.slice(info.data, end), duration, blob.slice(end)], { type: blob.type });
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
      const ms = Date.now() - started;
      clearInterval(clock);
      for (const t of stream.getTracks()) t.stop();
      recorder = null;
      button.textContent = "Start recording";
      button.closest(".recorder")?.classList.remove("recorder--on");
      let blob = new Blob(chunks, { type: kind.type.split(";")[0] });
      chunks = [];
      if (kind.ext === "webm" && blob.size) blob = await withDuration(blob, ms);
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
