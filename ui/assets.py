"""The page's CSS and script, kept in Python so a wheel needs no package-data entry."""

CSS = """
/* news-rag UI: small additions to Gradio's default theme. */
#header h2 { margin-bottom: 0.2rem; }
#sources-column { position: sticky; top: 0.5rem; align-self: flex-start; }
#sources .sources { max-height: 640px; overflow-y: auto; padding-right: 0.25rem; }
#sources .sources h3 { margin: 0 0 0.6rem; font-size: 1.05rem; }
#sources .empty { color: var(--body-text-color-subdued); }
.source {
  border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 0.55rem 0.75rem;
  margin-bottom: 0.6rem; background: var(--background-fill-secondary); transition: box-shadow 0.3s;
}
.source summary { cursor: pointer; line-height: 1.35; }
.source .n {
  display: inline-block; min-width: 1.5em; text-align: center; border-radius: 6px; margin-right: 0.35rem;
  background: var(--color-accent-soft); color: var(--color-accent); font-weight: 700;
}
.source .byline { color: var(--body-text-color-subdued); font-size: 0.85em; margin-left: 1.9em; }
.source blockquote {
  margin: 0.55rem 0 0; padding: 0 0 0 0.7rem; border-left: 3px solid var(--color-accent);
  font-size: 0.92em; line-height: 1.5; white-space: pre-line;
}
.source mark { background: #fde68a; color: #1f2937; padding: 0 0.12em; border-radius: 3px; }
.source .scores {
  margin-top: 0.4rem; font-size: 0.8em; color: var(--body-text-color-subdued); font-family: var(--font-mono);
}
.source.flash { box-shadow: 0 0 0 3px var(--color-accent); }
#chat a[href^="#src-"] {
  text-decoration: none; font-weight: 700; font-size: 0.8em; vertical-align: super; padding: 0 0.1em;
  color: var(--color-accent);
}
#chat .meta { color: var(--body-text-color-subdued); }
#chat .status { color: var(--body-text-color-subdued); font-style: italic; }
"""

PAGE_JS = """
// Clicking a citation [n] in the chat opens and highlights entry n of the sources panel.
// The chat's own click (which shows that answer's sources) lands a moment later, so reveal twice.
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#src-"]');
  if (!link) return;
  event.preventDefault();
  const id = link.getAttribute("href").slice(1);
  const reveal = () => {
    const entry = document.getElementById(id);
    if (!entry) return;
    entry.open = true;
    entry.scrollIntoView({ block: "nearest", behavior: "smooth" });
    entry.classList.add("flash");
    setTimeout(() => entry.classList.remove("flash"), 1500);
  };
  reveal();
  setTimeout(reveal, 500);
}, true);
"""
