"""``DownloadButton``: a small anywidget that downloads bytes made on demand in the kernel.

The button sends ``{"type": "request"}`` to the kernel when clicked; the kernel calls the
button's ``producer`` and answers with a ``{"type": "file"}`` message carrying the bytes as a
binary buffer. The browser wraps them in a ``Blob`` and clicks a temporary ``<a download>``
link, so the file goes straight to the user's downloads: nothing is written on the server and
nothing is made before it is asked for. A producer that raises shows its message under the
button (``error``) instead of downloading.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

__all__ = ["DownloadButton"]

_ESM = """
function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "jupyter-widgets jupyter-button widget-button af-download-button";
  const note = document.createElement("div");
  note.className = "af-download-error";
  note.style.color = "#b00020";
  note.style.fontSize = "smaller";
  const sync = () => {
    button.textContent = model.get("label");
    button.disabled = model.get("disabled");
    button.title = model.get("tooltip");
    note.textContent = model.get("error");
  };
  sync();
  model.on("change", sync);
  button.addEventListener("click", () => model.send({ type: "request" }));
  model.on("msg:custom", (msg, buffers) => {
    if (!msg || msg.type !== "file") return;
    const blob = new Blob(buffers, { type: msg.mime });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = msg.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });
  el.appendChild(button);
  el.appendChild(note);
}
export default { render };
"""


class DownloadButton(anywidget.AnyWidget):  # type: ignore[misc]
    """A button that downloads ``producer()``'s bytes as ``filename``.

    Parameters
    ----------
    label : str
        The button's text.
    filename : str
        The name the browser saves the file as.
    mime : str
        The file's MIME type.
    producer : callable
        Called with no argument on every click; returns the file's bytes.
    """

    _esm = _ESM
    label = traitlets.Unicode("Download").tag(sync=True)
    filename = traitlets.Unicode("download.bin").tag(sync=True)
    mime = traitlets.Unicode("application/octet-stream").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    tooltip = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    """The last producer error, shown under the button (empty after a success)."""

    def __init__(
        self,
        label: str,
        filename: str,
        mime: str,
        producer: Callable[[], bytes],
        **kwargs: Any,
    ) -> None:
        super().__init__(label=label, filename=filename, mime=mime, **kwargs)
        self.producer = producer
        self.on_msg(self._handle_message)

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "request":
            self.download()

    def download(self) -> bytes | None:
        """Make the bytes and send them to the browser; return them (None on error)."""
        try:
            data = self.producer()
        except Exception as exc:  # shown beside the button; the kernel carries on
            self.error = str(exc)
            return None
        self.error = ""
        self.send({"type": "file", "filename": self.filename, "mime": self.mime}, buffers=[data])
        return data
