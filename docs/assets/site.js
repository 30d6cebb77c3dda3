// Three small additions to Material for MkDocs.

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
//    puts around the copy buttons inside <main>. Material mounts each code block, and adds its
//    nav, when the block first scrolls into view (the content.lazy feature, mkdocs.yml): each
//    nav is unroled as it arrives. document$ is Material's documented hook for extra
//    JavaScript; it emits once the page is loaded.
document$.subscribe(() => {
  const search = document.querySelector('.md-search[role="dialog"]:not([aria-label])');
  // The search box's own label, which Material translates ("검색", "Search").
  if (search) search.setAttribute("aria-label", search.querySelector("input").ariaLabel);
  const unrole = () => {
    for (const nav of document.querySelectorAll("main nav.md-code__nav:not([role])")) {
      nav.setAttribute("role", "none");
    }
  };
  unrole();
  const main = document.querySelector("main");
  if (main) new MutationObserver(unrole).observe(main, { childList: true, subtree: true });
});

// 3. The light/dark switch (Material's markup, overrides/main.html). On load the page already
//    wears the reader's last choice (Material's inline script applies it from localStorage
//    while the header is parsed); this shows the button that switches away from it, and does
//    the switch on a click as Material's palette component does: the colors on <body>, the
//    choice kept in the same localStorage entry ("__palette"), transitions paused meanwhile.
//    Without a choice yet, the palette whose media query matches (the system's light or dark).
{
  const form = document.querySelector("form[data-site-palette]");
  const inputs = form ? [...form.querySelectorAll("input[name=__palette]")] : [];
  const colors = (input) => ({
    media: input.dataset.mdColorMedia,
    scheme: input.dataset.mdColorScheme,
    primary: input.dataset.mdColorPrimary,
    accent: input.dataset.mdColorAccent,
  });
  const show = (index) => {
    inputs.forEach((input, i) => {
      const label = input.nextElementSibling;
      if (label instanceof HTMLElement) label.hidden = i !== index;
    });
  };
  const choose = (index) => {
    const color = colors(inputs[index]);
    const body = document.body;
    // Only the colors restyle the page (no style rule reads data-md-color-media).
    const changed = ["scheme", "primary", "accent"].some(
      (key) => body.getAttribute(`data-md-color-${key}`) !== color[key],
    );
    if (changed) body.setAttribute("data-md-color-switching", "");
    for (const [key, value] of Object.entries(color)) {
      body.setAttribute(`data-md-color-${key}`, value);
    }
    if (changed) setTimeout(() => body.removeAttribute("data-md-color-switching"));
    show(index);
    __md_set("__palette", { index, color });
  };
  if (inputs.length) {
    const stored = __md_get("__palette");
    const matching = inputs.findIndex((input) => matchMedia(input.dataset.mdColorMedia).matches);
    let current = stored && inputs[stored.index] ? stored.index : Math.max(0, matching);
    choose(current);
    inputs.forEach((input, index) =>
      input.addEventListener("change", () => choose((current = index))),
    );
    // Enter on the focused switch takes the next palette, as in Material.
    form.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const next = inputs[(current + 1) % inputs.length];
      next.click();
      next.focus();
    });
  }
}
