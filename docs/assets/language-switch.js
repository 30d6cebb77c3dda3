// Keep the reader's section when switching language: every heading has the
// same fixed id in both languages, so the other page has the same #anchor.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.md-select__link[hreflang]");
  if (link && location.hash) {
    const url = new URL(link.getAttribute("href"), location.href);
    url.hash = location.hash;
    link.href = url.href;
  }
});
