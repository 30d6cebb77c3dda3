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

// 2. Accessibility: a name for the search dialog, and no landmark role for the navs Material
//    puts around the copy buttons inside <main>. Material adds the navs when it mounts its
//    components on document$ (its documented hook for extra JavaScript, which emits once the
//    page is loaded): one pass after that, rather than three (at once, on DOMContentLoaded, on
//    load).
document$.subscribe(() => {
  const search = document.querySelector('.md-search[role="dialog"]:not([aria-label])');
  // The search box's own label, which Material translates ("검색", "Search").
  if (search) search.setAttribute("aria-label", search.querySelector("input").ariaLabel);
  for (const nav of document.querySelectorAll("nav.md-code__nav:not([role])")) {
    nav.setAttribute("role", "none");
  }
});
