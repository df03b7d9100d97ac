// File inputs in the page's language: the native button is hidden behind a label (web/templates/_files.html),
// and the names of the files chosen are written next to it.
document.addEventListener('change', (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.classList.contains('file-input')) return;
  const names = input.parentElement.querySelector('.file-names');
  if (!names) return;
  const chosen = Array.from(input.files || []).map((file) => file.name);
  names.textContent = chosen.length === 0 ? names.dataset.empty
    : chosen.length <= 3 ? chosen.join(', ') : names.dataset.many.replace('{n}', String(chosen.length));
});
