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

// 3. Accessibility fixes for markup Material adds with JavaScript: names for the search dialog
//    and for the numbered annotation links (their number is drawn with CSS), and no landmark
//    roles for the annotation asides and the copy buttons' navs, which sit inside <main>.
const korean = document.documentElement.lang === "ko";
const nameThem = () => {
  const search = document.querySelector('.md-search[role="dialog"]:not([aria-label])');
  if (search) search.setAttribute("aria-label", korean ? "검색" : "Search");
  document.querySelectorAll(".md-annotation__index:not([aria-label])").forEach((link) => {
    const number = link.querySelector("[data-md-annotation-id]");
    const id = number ? number.dataset.mdAnnotationId : "";
    link.setAttribute("aria-label", korean ? `주석 ${id}` : `Annotation ${id}`);
  });
  document
    .querySelectorAll("aside.md-annotation:not([role])")
    .forEach((aside) => aside.setAttribute("role", "note"));
  document
    .querySelectorAll("nav.md-code__nav:not([role])")
    .forEach((nav) => nav.setAttribute("role", "none"));
};
nameThem();
let queued = false; // at most once a frame, however many nodes Material adds
new MutationObserver(() => {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    nameThem();
  });
}).observe(document.body, { childList: true, subtree: true });
