// Two small additions to Material for MkDocs.

// 1. Keep the reader's section when switching language: every heading has the
//    same fixed id in both languages, so the other page has the same #anchor.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.md-select__link[hreflang]");
  if (link && location.hash) {
    const url = new URL(link.getAttribute("href"), location.href);
    url.hash = location.hash;
    link.href = url.href;
  }
});

// 2. Copy a snippet exactly as its file has it. Material's copy button drops the
//    annotation markers ("# (1)!") but keeps the spaces before them; Material copies
//    the `data-copy` attribute instead when there is one, so set it just before
//    (capture phase) with those trailing spaces removed.
window.addEventListener(
  "click",
  (event) => {
    const button = event.target.closest('button[data-md-type="copy"]');
    const pre = button && button.closest("pre");
    const code = pre && pre.querySelector("code");
    if (!code) return;
    const clone = code.cloneNode(true);
    clone.querySelectorAll(".md-annotation").forEach((note) => note.remove());
    const lines = clone.textContent.split("\n").map((line) => line.trimEnd());
    pre.setAttribute("data-copy", lines.join("\n").trimEnd());
  },
  true,
);

// 3. Accessible names Material leaves out: the search dialog, and the numbered links inside
//    code annotations (Material draws their number with CSS, so they have no text).
const korean = document.documentElement.lang === "ko";
const nameThem = () => {
  const search = document.querySelector('.md-search[role="dialog"]:not([aria-label])');
  if (search) search.setAttribute("aria-label", korean ? "검색" : "Search");
  document.querySelectorAll(".md-annotation__index:not([aria-label])").forEach((link) => {
    const number = link.querySelector("[data-md-annotation-id]");
    const id = number ? number.dataset.mdAnnotationId : "";
    link.setAttribute("aria-label", korean ? `주석 ${id}` : `Annotation ${id}`);
  });
};
nameThem();
new MutationObserver(nameThem).observe(document.body, { childList: true, subtree: true });
