// A form marked data-once is sent once: a second click while the next page loads does not post it again.
// Plain and unbundled, so that it works even before the front end is built.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-once')) return;
  if (form.classList.contains('sent')) {
    event.preventDefault();
    return;
  }
  form.classList.add('sent');
  form.setAttribute('aria-busy', 'true');
});

// Back on the page from the browser's cache: the form may be sent again, on purpose.
window.addEventListener('pageshow', () => {
  for (const form of document.querySelectorAll('form.sent')) {
    form.classList.remove('sent');
    form.removeAttribute('aria-busy');
  }
});
